"""What every test uses: factories, helpers, fake providers' set-ups, the live server."""
