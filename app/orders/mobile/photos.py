"""Photos from the visit, straight from the phone's camera, onto the order's thread.

An upload is checked before anything is written: at most ``MAX_PHOTO_BYTES``,
and a JPEG, PNG, WebP or HEIC/HEIF image by its first bytes (a file's name and
the browser's content type are the sender's word, not a fact). It is kept in
``ATTACHMENTS_DIR`` (see :mod:`app.conversations.attachments.storage`) under a name with the
extension of its real type, and attached to an internal note on the order's
conversation, where agents see it in the timeline.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from flask_babel import gettext as _

from app.conversations.attachments.storage import store_bytes
from app.conversations.channels.whatsapp.media import safe_filename
from app.conversations.workspace.services import add_note
from app.orders.mobile.conversation import order_thread
from app.platform.models import CommunicationMessage, Order, User

MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_CAPTION = 2000
EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "image/heif": ".heif",
}
# ISO-BMFF brands (bytes 8–12 after "ftyp") of HEIC and generic HEIF files.
HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis"}
HEIF_BRANDS = {b"mif1", b"msf1", b"heif"}


class PhotoRejected(ValueError):
    """The upload is not a photo we keep; ``fields`` names what is wrong."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(fields.values()))
        self.fields = fields


def sniff_image_type(head: bytes) -> str | None:
    """The image type the bytes are, from their signature; None if not one we keep."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        if head[8:12] in HEIC_BRANDS:
            return "image/heic"
        if head[8:12] in HEIF_BRANDS:
            return "image/heif"
    return None


def too_large_text() -> str:
    megabytes = MAX_PHOTO_BYTES // (1024 * 1024)
    return _("The photo is over the %(size)s MB limit.", size=megabytes)


def read_photo(stream: BinaryIO | None) -> tuple[bytes, str]:
    """The upload's bytes and real type; PhotoRejected if it is missing, too big or no photo."""
    if stream is None:
        raise PhotoRejected({"photo": _("Choose or take a photo first.")})
    data = stream.read(MAX_PHOTO_BYTES + 1)
    if not data:
        raise PhotoRejected({"photo": _("Choose or take a photo first.")})
    if len(data) > MAX_PHOTO_BYTES:
        raise PhotoRejected({"photo": too_large_text()})
    mime = sniff_image_type(data[:16])
    if mime is None:
        raise PhotoRejected({"photo": _("That file is not a JPEG, PNG, WebP or HEIC photo.")})
    return data, mime


def attach_photo(
    order: Order,
    technician: User,
    data: bytes,
    mime: str,
    original_name: str | None,
    caption: str | None,
) -> CommunicationMessage:
    """Store the photo and note it on the order's thread (no commit).

    If the caller's commit fails, it removes the file with
    ``discard_message_files(message.id)``: no photo without its note.
    """
    caption = (caption or "").strip()
    if len(caption) > MAX_CAPTION:
        raise PhotoRejected(
            {"caption": _("A caption can be at most %(count)s characters.", count=MAX_CAPTION)}
        )
    note = add_note(
        order_thread(order),
        technician,
        caption or f"Photo from the visit for {order.order_number}.",
    )
    store_note_image(
        note, data, mime, Path(original_name or "").stem or "photo", "technician_upload"
    )
    return note


def store_note_image(
    note: CommunicationMessage, data: bytes, mime: str, stem: str, source: str
) -> None:
    """Keep an image checked by :func:`sniff_image_type` as the note's one attachment.

    Shared by the visit's photos and the customer's signature (:mod:`app.orders.mobile.signatures`):
    the file's name gets the extension of its real type; ``source`` says where it came from.
    """
    name = safe_filename(f"{stem[:80]}{EXTENSIONS[mime]}", str(note.id), mime)
    stored = store_bytes(note.id, name, data)
    note.attachments = [
        {
            "status": "stored",
            "filename": name,
            "mime_type": mime,
            "source": source,
            **stored,
        }
    ]
