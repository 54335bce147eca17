"""Files kept beside messages in ``ATTACHMENTS_DIR``.

One layout for every source (WhatsApp media downloads in
:mod:`app.conversations.channels.whatsapp.media`, technicians' photos from ``/m/``):
``ATTACHMENTS_DIR/<message id>/<safe filename>``, described by an entry in the
message's ``attachments`` list::

    {"status": "stored", "path": "<message id>/<name>", "size": 1234,
     "mime_type": "image/jpeg", "filename": "<name>"}

``path`` is relative to ``ATTACHMENTS_DIR`` so the directory can move.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

from flask import current_app
from werkzeug.security import safe_join


def attachments_root() -> Path:
    return Path(current_app.config["ATTACHMENTS_DIR"])


def store_bytes(message_id: uuid.UUID, filename: str, data: bytes) -> dict:
    """Write ``data`` as ``<message id>/<filename>``; returns ``path`` and ``size``.

    ``filename`` must already be safe (see ``media.safe_filename``). The file is
    written beside its target and renamed into place, so a reader never finds
    half a file.
    """
    folder = attachments_root() / str(message_id)
    folder.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=folder, prefix=".part-", delete=False)
    try:
        with handle:
            handle.write(data)
        os.replace(handle.name, folder / filename)
    finally:
        Path(handle.name).unlink(missing_ok=True)
    return {"path": f"{message_id}/{filename}", "size": len(data)}


def discard_message_files(message_id: uuid.UUID) -> None:
    """Remove what was stored for a message whose row was never committed."""
    shutil.rmtree(attachments_root() / str(message_id), ignore_errors=True)


def stored_file(entry: dict) -> Path | None:
    """The file an attachment entry points at, if it is stored and inside the root.

    ``safe_join`` refuses ``..`` and absolute paths, so an entry written from a
    provider's answer can never point outside ``ATTACHMENTS_DIR``.
    """
    if entry.get("status") != "stored" or not isinstance(entry.get("path"), str):
        return None
    joined = safe_join(str(attachments_root()), entry["path"])
    if joined is None or not os.path.isfile(joined):
        return None
    return Path(joined)
