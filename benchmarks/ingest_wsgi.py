"""The app as ``benchmarks/ingest.py`` serves it: the real app plus a bare endpoint.

The bare endpoint goes through the same server, the same Flask app and its
request hooks, and returns 200 without doing anything: the floor the WhatsApp
webhook is compared against.
"""

from __future__ import annotations

from app import create_app
from app.extensions import csrf

app = create_app(start_embedded_worker=False)


@app.post("/bench/bare")
@csrf.exempt
def bare():
    return "", 200
