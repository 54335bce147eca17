"""Web entry point: ``gunicorn wsgi:app`` or ``python wsgi.py`` (HTTP + Socket.IO on $PORT)."""

from __future__ import annotations

import os

import click

from app import create_app
from app.extensions import socketio

# Loaded by the `flask` command (db upgrade, seed, users…) there is a click
# context: no embedded worker then, or its periodic jobs would run against a
# database the command is still migrating, and die with the command anyway.
app = create_app(start_embedded_worker=click.get_current_context(silent=True) is None)

if __name__ == "__main__":
    port = int(os.environ.get("PORT", app.config["PORT"]))
    host = os.environ.get("HOST", "127.0.0.1")
    # Werkzeug serves WebSockets through simple-websocket in threading mode; for
    # production run gunicorn (see README), which this flag does not affect.
    socketio.run(app, host=host, port=port, allow_unsafe_werkzeug=True, use_reloader=False)
