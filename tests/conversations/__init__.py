"""Tests of the conversations context (app/conversations)."""
