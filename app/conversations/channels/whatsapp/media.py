"""Downloading a customer's photo, voice message or document into ATTACHMENTS_DIR.

Meta's webhook carries only a media id. The job asks the Graph API for the
file's temporary URL (``GET /{version}/{media_id}`` → ``url``, ``mime_type``,
``file_size``, ``sha256``), downloads it with the same token, and keeps it as
``ATTACHMENTS_DIR/<message id>/<safe filename>``. Customers' files are
untrusted: only the types an installer's inbox needs are kept (photos, audio,
video, PDF, office documents), at most ``MAX_BYTES``, checked against Meta's
checksum. The message's attachment entry says how it went: ``stored`` (with
``path`` relative to ATTACHMENTS_DIR and ``size``), ``refused: <why>``,
``failed: <why>`` or, with no token configured, ``unavailable (sandbox)``.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import mimetypes
import os
import tempfile
import uuid
from pathlib import Path

from flask import current_app
from rq import get_current_job
from werkzeug.utils import secure_filename

from app.conversations.channels.whatsapp.alerts import report_invalid_token
from app.conversations.channels.whatsapp.client import ApiFailure, WhatsAppApi
from app.conversations.core import announce_change
from app.platform.extensions import db
from app.platform.models import CommunicationMessage
from app.platform.transactions import commit
from app.platform.transports.health import record_failure, record_success

log = logging.getLogger(__name__)

PROVIDER = "whatsapp"
MAX_BYTES = 16 * 1024 * 1024
ALLOWED_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/webp",
        "audio/aac",
        "audio/amr",
        "audio/mp4",
        "audio/mpeg",
        "audio/ogg",
        "video/3gpp",
        "video/mp4",
        "application/pdf",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    }
)
SANDBOX_STATUS = "unavailable (sandbox)"


class MediaRefused(Exception):
    """The file is not one we keep (type, size, checksum)."""


def fetch_media(message_id: str, media_id: str) -> str:
    """Job: download one attachment of a stored WhatsApp message; returns its status."""
    message = db.session.get(CommunicationMessage, uuid.UUID(message_id))
    entry = _entry(message, media_id) if message is not None else None
    if entry is None:
        log.warning("media %s of message %s is not on record", media_id, message_id)
        return "missing"
    if entry.get("status") == "stored":
        return "stored"
    api = WhatsAppApi(current_app.config)
    if not api.configured:
        return _finish(message, media_id, status=SANDBOX_STATUS)
    if not media_id:
        return _finish(message, media_id, status="failed: WhatsApp sent no media id")
    try:
        stored = _download(api, message_id, media_id, entry)
    except MediaRefused as exc:
        log.info("media %s of message %s refused: %s", media_id, message_id, exc)
        return _finish(message, media_id, status=f"refused: {exc}")
    except ApiFailure as exc:
        return _failed(message, media_id, exc)
    record_success(PROVIDER)
    return _finish(message, media_id, **stored)


def _failed(message: CommunicationMessage, media_id: str, failure: ApiFailure) -> str:
    if failure.token_invalid:
        report_invalid_token(failure.reason)
    elif failure.retryable:
        record_failure(PROVIDER, failure.reason)
        job = get_current_job()
        if job is not None and job.retries_left:
            commit()  # keep the health note; the entry stays pending for the retry
            log.warning("media %s download failed, will retry: %s", media_id, failure.reason)
            raise failure
    return _finish(message, media_id, status=f"failed: {failure.reason}")


def _download(api: WhatsAppApi, message_id: str, media_id: str, entry: dict) -> dict:
    info = api.get_json(media_id)
    mime = str(info.get("mime_type") or entry.get("mime_type") or "").split(";")[0].strip().lower()
    if mime not in ALLOWED_TYPES:
        raise MediaRefused(f"files of type {mime or 'unknown'} are not kept")
    if _as_int(info.get("file_size")) > MAX_BYTES:
        raise MediaRefused(f"the file is over the {MAX_BYTES // (1024 * 1024)} MB limit")
    if not info.get("url"):
        raise ApiFailure("the media answer carried no download URL", retryable=False)
    folder = Path(current_app.config["ATTACHMENTS_DIR"]) / message_id
    folder.mkdir(parents=True, exist_ok=True)
    name = safe_filename(entry.get("filename"), media_id, mime)
    size, digest = _save(api, info["url"], folder / name)
    expected = info.get("sha256") or entry.get("sha256")
    if expected and not _checksum_matches(str(expected), digest):
        (folder / name).unlink(missing_ok=True)
        raise MediaRefused("the file does not match WhatsApp's checksum")
    return {"status": "stored", "path": f"{message_id}/{name}", "size": size, "mime_type": mime}


def _save(api: WhatsAppApi, url: str, target: Path) -> tuple[int, bytes]:
    """Stream into a temporary file beside ``target``; only a complete file is kept."""
    digest, size = hashlib.sha256(), 0
    handle = tempfile.NamedTemporaryFile(dir=target.parent, prefix=".part-", delete=False)
    try:
        with handle:
            for chunk in api.stream(url):
                size += len(chunk)
                if size > MAX_BYTES:
                    raise MediaRefused(
                        f"the file is over the {MAX_BYTES // (1024 * 1024)} MB limit"
                    )
                digest.update(chunk)
                handle.write(chunk)
        os.replace(handle.name, target)
    finally:
        Path(handle.name).unlink(missing_ok=True)
    return size, digest.digest()


def safe_filename(filename: str | None, media_id: str, mime: str) -> str:
    """A name that cannot leave the message's folder, keeping the customer's if it can."""
    name = secure_filename(filename or "")
    if not name:
        extension = mimetypes.guess_extension(mime) or ".bin"
        name = secure_filename(f"{media_id}{extension}") or f"attachment{extension}"
    return name[-120:]


def _checksum_matches(expected: str, digest: bytes) -> bool:
    # Meta writes the SHA-256 as hex in some answers and as base64 in others.
    return expected.strip() in (digest.hex(), base64.b64encode(digest).decode())


def _as_int(value: object) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return 0


def _entry(message: CommunicationMessage, media_id: str) -> dict | None:
    return next((a for a in message.attachments or [] if a.get("media_id") == media_id), None)


def _finish(message: CommunicationMessage, media_id: str, **changes) -> str:
    """Write the attachment entry's new state, commit, and tell the thread's viewers."""
    message.attachments = [
        {**entry, **changes} if entry.get("media_id") == media_id else entry
        for entry in message.attachments or []
    ]
    announce_change(message.thread, "attachment", message_id=message.id)
    commit()
    return changes.get("status", "")
