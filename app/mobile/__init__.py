"""The technician's phone view."""
