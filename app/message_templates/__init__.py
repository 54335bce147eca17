"""Message templates (seed 003 communication_template): admin pages, rendering, API."""
