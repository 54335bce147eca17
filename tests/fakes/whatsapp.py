"""A fake WhatsApp Cloud API (Graph API) speaking Meta's documented wire format.

* ``POST /<version>/<phone_number_id>/messages`` → ``{"messaging_product",
  "contacts": [{"input", "wa_id"}], "messages": [{"id": "wamid.…"}]}``
* ``GET /<version>/<media_id>`` → ``{"url", "mime_type", "sha256", "file_size",
  "id", "messaging_product"}`` for media added with :meth:`add_media`
* ``GET /media/<media_id>`` → the bytes (the "temporary URL")
* ``POST /<version>/<phone_number_id>/media`` (multipart: ``messaging_product``,
  ``type``, ``file``) → ``{"id"}``; an ``image``/``document`` message must name
  an uploaded id, else Meta's 131053 (media upload error)

Every call must carry ``Authorization: Bearer <token>``; a wrong one gets
Meta's error 190. :meth:`answer_error` queues Meta's error shape for the next
calls. Also builds signed webhook bodies as Meta posts them.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time

from flask import Response, jsonify, request

from tests.fakes import FakeServer

VERSION = "v18.0"
PHONE_NUMBER_ID = "106742025925718"
ACCESS_TOKEN = "EAAG-test-token"  # noqa: S105  (a fake's credential)
APP_SECRET = "test-app-secret"  # noqa: S105
VERIFY_TOKEN = "chargecars_webhook_2025"  # noqa: S105
BUSINESS_NUMBER = "31201234567"


class FakeWhatsApp(FakeServer):
    def __init__(self) -> None:
        super().__init__("fake-whatsapp")
        self.media: dict[str, dict] = {}
        # Files we uploaded for sending, by the media id handed back.
        self.uploads: dict[str, dict] = {}
        self._ids = itertools.count(1)
        self._slow: list[float] = []
        app = self.app

        @app.post("/<version>/<phone_id>/messages")
        def send(version, phone_id):
            if not self._authorised():
                return self._token_error()
            if self._slow:
                time.sleep(self._slow.pop(0))
            body = request.get_json()
            kind = body.get("type")
            media_id = (body.get(kind) or {}).get("id")
            if kind in ("image", "document") and media_id not in self.uploads:
                error = self.error_body(131053, "Media upload error", "OAuthException")
                return jsonify(error), 400
            wamid = f"wamid.fake{next(self._ids):06d}"
            return jsonify(
                messaging_product="whatsapp",
                contacts=[{"input": body.get("to"), "wa_id": body.get("to")}],
                messages=[{"id": wamid}],
            )

        @app.post("/<version>/<phone_id>/media")
        def upload(version, phone_id):
            if not self._authorised():
                return self._token_error()
            upload = request.files.get("file")
            if request.form.get("messaging_product") != "whatsapp" or upload is None:
                error = self.error_body(100, "Param file or messaging_product is required.")
                return jsonify(error), 400
            media_id = f"{next(self._ids) + 900000000000000}"
            self.uploads[media_id] = {
                "filename": upload.filename,
                "type": request.form.get("type"),
                "mime_type": upload.mimetype,
                "content": upload.read(),
            }
            return jsonify(id=media_id)

        @app.get("/<version>/<media_id>")
        def media_info(version, media_id):
            if not self._authorised():
                return self._token_error()
            if media_id not in self.media:
                return self.error_body(100, "Unsupported get request.", "GraphMethodException"), 400
            media = self.media[media_id]
            return jsonify(
                messaging_product="whatsapp",
                url=f"{self.url}/media/{media_id}",
                mime_type=media["mime_type"],
                sha256=media["sha256"] or hashlib.sha256(media["content"]).hexdigest(),
                file_size=media["file_size"] or len(media["content"]),
                id=media_id,
            )

        @app.get("/media/<media_id>")
        def media_bytes(media_id):
            if not self._authorised():
                return Response(status=401)
            media = self.media[media_id]
            return Response(media["content"], mimetype=media["mime_type"])

    def add_media(
        self,
        media_id: str,
        content: bytes,
        mime_type: str,
        sha256: str | None = None,
        file_size: int | None = None,
    ) -> None:
        """Serve a file; ``sha256`` and ``file_size`` override what Meta would report."""
        self.media[media_id] = {
            "content": content,
            "mime_type": mime_type,
            "sha256": sha256,
            "file_size": file_size,
        }

    def answer_slowly(self, seconds: float) -> None:
        """Make the next send take ``seconds`` before answering."""
        self._slow.append(seconds)

    @staticmethod
    def error_body(code: int, message: str, kind: str = "OAuthException", subcode=None) -> dict:
        return {
            "error": {
                "message": f"(#{code}) {message}",
                "type": kind,
                "code": code,
                "error_subcode": subcode,
                "fbtrace_id": "AbCdEfGhIjK",
            }
        }

    def answer_error(self, status: int, code: int, message: str, times: int = 1) -> None:
        """Answer the next ``times`` calls with Meta's error ``code``."""
        self.answer_next(status, self.error_body(code, message), times=times)

    def sent(self) -> list[dict]:
        """Bodies of every send request received, oldest first."""
        return [r.json() for r in self.requests_to("/messages", "POST")]

    def _authorised(self) -> bool:
        return request.headers.get("Authorization") == f"Bearer {ACCESS_TOKEN}"

    def _token_error(self):
        body = self.error_body(190, "Error validating access token: Session has expired.")
        return jsonify(body), 401


# --- webhook bodies, as Meta posts them ------------------------------------------


def webhook(*, messages=(), statuses=(), contacts=()) -> dict:
    value: dict = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": BUSINESS_NUMBER, "phone_number_id": PHONE_NUMBER_ID},
    }
    if contacts:
        value["contacts"] = list(contacts)
    if messages:
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = list(statuses)
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}],
    }


def contact(wa_id: str, name: str) -> dict:
    return {"profile": {"name": name}, "wa_id": wa_id}


def text_message(wa_id: str, body: str, wamid: str, timestamp: int, **extra) -> dict:
    return {
        "from": wa_id,
        "id": wamid,
        "timestamp": str(timestamp),
        "type": "text",
        "text": {"body": body},
        **extra,
    }


def status(wamid: str, state: str, timestamp: int, recipient: str, errors=None) -> dict:
    body = {"id": wamid, "status": state, "timestamp": str(timestamp), "recipient_id": recipient}
    if errors:
        body["errors"] = errors
    return body


def signed(payload: dict | bytes, secret: str = APP_SECRET) -> tuple[bytes, dict]:
    """The raw body and headers of a webhook post signed like Meta signs it."""
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    signature = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return raw, {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={signature}"}
