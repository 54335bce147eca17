"""Shared plumbing of the JSON APIs: authentication guard and JSON errors."""
