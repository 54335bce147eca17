"""Web entry point: ``gunicorn wsgi:app`` or ``python wsgi.py`` (HTTP + Socket.IO on $PORT)."""

from __future__ import annotations

import gc

# Importing the app and building it makes ~250,000 objects that all live as long
# as the process: collections during the start free nothing (3.9 → 3.3 s of CPU a
# start without them, measured). None until the app is built; serving then keeps
# it out of them (settle_heap, which collects once).
gc.disable()

import os

from app import create_app
from app.platform.extensions import socketio
from app.platform.serving import settle_heap

# No background thread starts here: the `flask` command (db upgrade, seed demo…)
# imports this module too, and an embedded worker would then run periodic jobs
# against tables the command has not made yet. Serving starts it (below, and
# gunicorn.conf.py's post_worker_init).
app = create_app()
gc.enable()


def start_background_work() -> None:
    """Start the in-process worker when there is no Redis (``make run``); serving only."""
    broker = app.extensions["broker"]
    if broker.embedded:
        broker.start_embedded_worker(app)


if __name__ == "__main__":
    port = int(os.environ.get("PORT", app.config["PORT"]))
    host = os.environ.get("HOST", "127.0.0.1")
    start_background_work()
    settle_heap()
    # Werkzeug serves WebSockets through simple-websocket in threading mode; for
    # production run gunicorn (see README), which this flag does not affect.
    socketio.run(app, host=host, port=port, allow_unsafe_werkzeug=True, use_reloader=False)
