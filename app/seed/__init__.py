"""Demo and fixture data."""
