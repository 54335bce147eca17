"""The customer's signature at the end of a visit, drawn with a finger on the phone.

The phone sends the drawing as a PNG (``canvas.toBlob``) with the signer's name.
It is checked like a photo (by its first bytes, within ``MAX_SIGNATURE_BYTES``)
and must have ink: a canvas nobody drew on is all transparent pixels, which the
PNG's own data shows without an imaging library (:func:`png_has_ink`).

It is kept as a photo is (:func:`app.orders.mobile.photos.store_note_image`): an
internal note on the order's conversation, "Signed by … at …" in the reader's
language, with the image attached. :class:`VisitSignature` records it once per
visit (an order with a second day is signed for on each); the first signature
stands, and a second upload (a retry, a replay from the offline queue, a second
tap) raises :class:`AlreadySigned` and stores nothing.

Signing is optional: a visit without the customer present is completed without.
"""

from __future__ import annotations

import struct
import uuid
import zlib
from collections.abc import Iterator
from typing import BinaryIO

import sqlalchemy as sa
from flask_babel import gettext as _

from app.conversations.workspace.services import add_note
from app.orders.mobile.conversation import order_thread
from app.orders.mobile.photos import sniff_image_type, store_note_image
from app.orders.mobile.services import AMSTERDAM
from app.platform.database import upsert_insert, utcnow
from app.platform.extensions import db
from app.platform.models import Order, User, VisitSignature
from app.platform.models.enums import OrderStatus
from app.platform.system_texts import english, text, to_json

# A phone's pad is about 1000 × 500 device pixels; its strokes compress to tens of KB.
MAX_SIGNATURE_BYTES = 512 * 1024
MAX_SIGNER_NAME = 120
# Wider than any phone or tablet pad (the page caps it at twice the CSS size),
# small enough that reading a hostile PNG's rows stays cheap.
MAX_SIDE = 2048
# Samples per pixel of each PNG colour type (greyscale, RGB, palette, grey+alpha, RGBA).
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
# A visit is signed for while it is under way or just done.
SIGNABLE = (OrderStatus.SCHEDULED, OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED)
SOURCE = "customer_signature"


class SignatureRejected(ValueError):
    """The upload is not a signature we keep; ``fields`` names what is wrong."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(fields.values()))
        self.fields = fields


class AlreadySigned(Exception):
    """The visit was signed before; the first signature stands."""

    def __init__(self, order_id: uuid.UUID) -> None:
        super().__init__(str(order_id))
        self.order_id = order_id


def too_large_text() -> str:
    return _(
        "Customer signature: the drawing is over the %(size)s KB limit.",
        size=MAX_SIGNATURE_BYTES // 1024,
    )


def read_signature(stream: BinaryIO | None, signer_name: str | None) -> tuple[bytes, str]:
    """The PNG's bytes and the signer's name; SignatureRejected naming each bad field."""
    problems: dict[str, str] = {}
    name = " ".join((signer_name or "").split())
    if not name:
        problems["signer_name"] = _("Signer's name: fill in who signs.")
    elif len(name) > MAX_SIGNER_NAME:
        problems["signer_name"] = _(
            "Signer's name: at most %(count)s characters.", count=MAX_SIGNER_NAME
        )
    data = stream.read(MAX_SIGNATURE_BYTES + 1) if stream is not None else b""
    if not data:
        problems["signature"] = _("Customer signature: let the customer sign first.")
    elif len(data) > MAX_SIGNATURE_BYTES:
        problems["signature"] = too_large_text()
    elif sniff_image_type(data[:16]) != "image/png":
        problems["signature"] = _("Customer signature: the drawing must be a PNG image.")
    else:
        problem = _ink_problem(data)
        if problem:
            problems["signature"] = problem
    if problems:
        raise SignatureRejected(problems)
    return data, name


def _ink_problem(data: bytes) -> str | None:
    try:
        inked = png_has_ink(data)
    except ValueError:
        return _("Customer signature: the PNG image cannot be read.")
    if not inked:
        return _("Customer signature: the drawing is empty; let the customer sign first.")
    return None


def png_has_ink(data: bytes) -> bool:
    """False when every pixel of the PNG is zero bytes (a canvas never drawn on).

    PNG's row filters turn all-zero pixels into all-zero bytes and nothing else
    into them, so the decompressed rows are read as they are, without undoing
    the filters: each row's first byte (its filter type) is skipped, any other
    non-zero byte is ink. Interlaced images (no browser writes them from a
    canvas) count as inked. Raises ValueError for a PNG that cannot be read.
    """
    header, chunks = _png_chunks(data)
    width, height, depth, colour, _compression, _filter, interlace = struct.unpack(
        ">IIBBBBB", header
    )
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE) or colour not in CHANNELS:
        raise ValueError("unsupported PNG size or colour type")
    if interlace:
        return True
    stride = 1 + (width * CHANNELS[colour] * depth + 7) // 8
    total = stride * height
    offset = 0
    for piece in _inflated(chunks):
        start, offset = offset, offset + len(piece)
        if offset > total:
            raise ValueError("more image data than the header allows")
        first_row = -(-start // stride) * stride
        filter_ink = sum(1 for at in range(first_row, offset, stride) if piece[at - start])
        if len(piece) - piece.count(0) > filter_ink:
            return True
    if offset < total:
        raise ValueError("image data cut short")
    return False


def _png_chunks(data: bytes) -> tuple[bytes, list[bytes]]:
    header, chunks, at = None, [], 8
    while at + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[at : at + 8])
        body = data[at + 8 : at + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        elif kind == b"IEND":
            break
        at += 12 + length
    if header is None or len(header) != 13 or not chunks:
        raise ValueError("no IHDR or IDAT chunk")
    return header, chunks


def _inflated(chunks: list[bytes], step: int = 64 * 1024) -> Iterator[bytes]:
    """The image data in pieces of at most ``step`` bytes (a zip bomb never unpacks whole)."""
    inflater = zlib.decompressobj()
    try:
        for chunk in chunks:
            while True:
                piece = inflater.decompress(chunk, step)
                if piece:
                    yield piece
                chunk = inflater.unconsumed_tail
                # A full piece may leave more output behind: ask again until it runs dry.
                if not chunk and len(piece) < step:
                    break
    except zlib.error as exc:
        raise ValueError("broken image data") from exc


def sign_visit(
    order: Order,
    technician: User,
    data: bytes,
    signer_name: str,
    visit_number: int | None = None,
) -> VisitSignature:
    """Keep the signature of visit ``visit_number`` of ``order`` (its current visit
    without one; locked by the caller; no commit).

    Raises AlreadySigned when the visit has one; the caller rolls back, so the
    note written here goes too. If the caller's commit fails, it removes the
    file with ``discard_message_files(signature.message_id)``.
    """
    if order.status not in SIGNABLE:
        raise SignatureRejected(
            {"order": _("This visit cannot be signed for now: the order is not being installed.")}
        )
    numbers = {visit.number for visit in order.visits} or {1}
    if visit_number is not None and visit_number not in numbers:
        raise SignatureRejected({"visit_number": _("Visit: no such visit of this order")})
    clock = utcnow().astimezone(AMSTERDAM).strftime("%H:%M")
    line = text("visit.signed", signer=signer_name, time=clock)
    note = add_note(order_thread(order), technician, english(line))
    note.extra = {**(note.extra or {}), "system_text": to_json(line), "visit_event": "signed"}
    db.session.flush()
    claimed = db.session.execute(
        upsert_insert(VisitSignature, db.session.get_bind().dialect.name)
        .values(
            id=uuid.uuid4(),
            order_id=order.id,
            visit_number=visit_number or _current_number(order),
            message_id=note.id,
            technician_id=technician.id,
            signer_name=signer_name,
        )
        .on_conflict_do_nothing(index_elements=["order_id", "visit_number"])
        .returning(VisitSignature.id)
    ).scalar()
    if claimed is None:
        raise AlreadySigned(order.id)
    store_note_image(note, data, "image/png", "handtekening", SOURCE)
    return db.session.get(VisitSignature, claimed)


def visit_signature(order_id: uuid.UUID, visit_number: int = 1) -> VisitSignature | None:
    """The signature kept for visit ``visit_number`` of the order, if the customer signed."""
    return db.session.scalar(
        sa.select(VisitSignature).where(
            VisitSignature.order_id == order_id, VisitSignature.visit_number == visit_number
        )
    )


def _current_number(order: Order) -> int:
    visit = order.visit
    return visit.number if visit is not None else 1
