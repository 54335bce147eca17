"""Tests of the managers' analytics (app/analytics)."""
