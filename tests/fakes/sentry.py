"""A fake Sentry ingest endpoint: accepts envelopes as Sentry's store does
(``POST /api/<project>/envelope/``) and keeps them, decompressed, for a test to read."""

from __future__ import annotations

import gzip
import json
import zlib

from flask import jsonify

from tests.fakes import FakeServer

PUBLIC_KEY = "0123456789abcdef0123456789abcdef"
PROJECT = "1"


class FakeSentry(FakeServer):
    def __init__(self) -> None:
        super().__init__("fake-sentry")

        @self.app.post("/api/<project>/envelope/")
        def envelope(project):
            return jsonify({"id": "0" * 32})

    @property
    def dsn(self) -> str:
        return self.url.replace("http://", f"http://{PUBLIC_KEY}@") + f"/{PROJECT}"

    def envelopes(self) -> list[str]:
        """Every envelope received, as text."""
        return [_plain(r) for r in self.requests if r.path.endswith("/envelope/")]

    def events(self) -> list[dict]:
        """The error events in the envelopes (one JSON item after each item header)."""
        found = []
        for text in self.envelopes():
            lines = text.splitlines()
            for header, item in zip(lines[1::2], lines[2::2], strict=False):
                if json.loads(header).get("type") == "event":
                    found.append(json.loads(item))
        return found


def _plain(recorded) -> str:
    body = recorded.body
    encoding = {k.lower(): v for k, v in recorded.headers.items()}.get("content-encoding", "")
    if encoding == "gzip":
        body = gzip.decompress(body)
    elif encoding == "deflate":
        body = zlib.decompress(body)
    elif encoding == "br":
        import brotli

        body = brotli.decompress(body)
    return body.decode("utf-8", errors="replace")
