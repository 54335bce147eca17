"""The app as ``benchmarks/ingest.py`` serves it: the real app plus two floor endpoints.

Both go through the same server, the same Flask app and its request hooks:

- ``/bench/bare`` returns 200 without doing anything, the floor the WhatsApp
  webhook is compared against;
- ``/bench/insert`` reads the body and stores it with one durable INSERT
  (autocommit, prepared, one connection per thread, as the webhook does) and
  returns 200: the floor for any endpoint that persists what it is sent before
  answering, which tells how much of the webhook's cost is the commit itself.
"""

from __future__ import annotations

import uuid

from flask import request

from app import create_app
from app.platform.extensions import csrf
from app.platform.webhooks.recording import thread_connection
from benchmarks.ingest import FLOOR_TABLE

app = create_app(start_embedded_worker=False)


@app.post("/bench/bare")
@csrf.exempt
def bare():
    return "", 200


@app.post("/bench/insert")
@csrf.exempt
def insert_only():
    thread_connection().execute(
        f"INSERT INTO {FLOOR_TABLE} (id, body) VALUES (%s, %s)",  # noqa: S608  (a constant)
        (uuid.uuid4(), request.get_data()),
        prepare=True,
    )
    return "", 200
