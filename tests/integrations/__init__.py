"""Tests of the integration hub and the API's docs (app/integrations)."""
