"""The customer's photos before the visit: checked, cleaned, kept with the order.

An upload passes the technician's checks first (:mod:`app.orders.mobile.photos`:
at most ``MAX_PHOTO_BYTES``, a JPEG, PNG, WebP or HEIC by its first bytes,
whatever its name or the browser says). Then it must decode as a whole: Pillow
reads every pixel, so a truncated or damaged file, or a file that only starts like an image, is
refused. What is kept is not what was sent: the pixels are written out again
(the phone's rotation applied, at most ``MAX_SIDE`` pixels a side) without any
of the file's metadata: no EXIF (GPS position, camera, times), no XMP, no PNG
text or eXIf chunks. Only the colour profile is carried over.

HEIC (an iPhone's own format) is refused with a request for a JPEG: Pillow
cannot decode it without a plugin we do not ship, so it could be neither
checked nor stripped. iPhones send JPEG from a web page's file field already;
a HEIC arrives only when one is picked from the files app.

Files lie in ``ATTACHMENTS_DIR/<photo id>/`` (the attachments' layout,
:mod:`app.conversations.attachments.storage`); a new photo of the same item
supersedes the one before, which is kept with its review.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from typing import BinaryIO

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps

from app.conversations.attachments.storage import store_bytes
from app.orders.core.customer_links import FINISHED
from app.orders.core.customer_photos import PhotoItem, current_photos, photo_checklist
from app.orders.mobile.photos import (
    EXTENSIONS,
    MAX_PHOTO_BYTES,
    PhotoRejected,
    sniff_image_type,
    too_large_text,
)
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CustomerPhoto, Order
from app.platform.models.customer_links import PHOTO_ASKED_AGAIN, PHOTO_RECEIVED

# Enough for the technician to read a fuse's print; a phone's 12 MP photo
# becomes about a tenth of its size.
MAX_SIDE = 2560
# Refused before decoding: a small file that unpacks into a huge image.
MAX_PIXELS = 60_000_000
JPEG_QUALITY = 88
# The thumbnail: 160 CSS pixels wide on a screen of three device pixels to one.
THUMBNAIL_SIDE = 480
# What the kept file is written as, by the type the upload really is.
FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


@dataclass(frozen=True)
class CleanPhoto:
    """An upload decoded and written out again, without metadata."""

    data: bytes
    content_type: str
    width: int
    height: int
    thumbnail: bytes  # a JPEG, whatever the photo is


def not_readable_text() -> str:
    return _("We could not read this photo; it may be damaged. Please take it again.")


def check_photo(stream: BinaryIO | None) -> CleanPhoto:
    """The upload, checked and stripped; :class:`PhotoRejected` naming the problem."""
    if stream is None:
        raise PhotoRejected({"photo": _("Choose or take a photo first.")})
    data = stream.read(MAX_PHOTO_BYTES + 1)
    if not data:
        raise PhotoRejected({"photo": _("Choose or take a photo first.")})
    if len(data) > MAX_PHOTO_BYTES:
        raise PhotoRejected({"photo": too_large_text()})
    mime = sniff_image_type(data[:16])
    if mime is None:
        raise PhotoRejected(
            {"photo": _("This file is not a photo. Choose a JPEG, PNG or WebP image.")}
        )
    if mime not in FORMATS:
        raise PhotoRejected(
            {
                "photo": _(
                    "HEIC photos cannot be received here. Please send a JPEG: take the "
                    "photo from this page, or set the camera to 'Most compatible'."
                )
            }
        )
    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > MAX_PIXELS:
            raise PhotoRejected({"photo": not_readable_text()})
        image.load()  # every pixel: a truncated file fails here
        return _written_again(image, mime)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise PhotoRejected({"photo": not_readable_text()}) from exc


def _written_again(image: Image.Image, mime: str) -> CleanPhoto:
    profile = image.info.get("icc_profile")
    image = ImageOps.exif_transpose(image)  # the pixels upright, the tag no longer needed
    if mime == "image/jpeg" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    image.info = {}  # nothing of the original's metadata may ride along
    options: dict = {"icc_profile": profile} if profile else {}
    if mime in ("image/jpeg", "image/webp"):
        options["quality"] = JPEG_QUALITY
    out = io.BytesIO()
    image.save(out, FORMATS[mime], **options)
    small = image.convert("RGB") if image.mode not in ("RGB", "L") else image.copy()
    small.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    thumbnail = io.BytesIO()
    small.save(thumbnail, "JPEG", quality=80)
    return CleanPhoto(out.getvalue(), mime, image.width, image.height, thumbnail.getvalue())


def may_send_photos(order: Order) -> bool:
    """Photos help only before the work: not once the order is completed or cancelled."""
    return order.status not in FINISHED


def keep_photo(order: Order, item: PhotoItem, photo: CleanPhoto) -> CustomerPhoto:
    """Store ``photo`` as the order's current one for ``item`` (no commit).

    The order's row is locked first, so two uploads of one item follow each other
    (each supersedes the one before) instead of meeting at the unique index. If
    the caller's commit fails, it removes the file with
    ``discard_message_files(row.id)``.
    """
    db.session.execute(sa.select(Order.id).where(Order.id == order.id).with_for_update())
    now = utcnow()
    db.session.execute(
        sa.update(CustomerPhoto)
        .where(
            CustomerPhoto.order_id == order.id,
            CustomerPhoto.kind == item.key,
            CustomerPhoto.superseded_at.is_(None),
        )
        .values(superseded_at=now, updated_at=now)
    )
    photo_id = uuid.uuid4()
    stored = store_bytes(photo_id, f"{item.key}{EXTENSIONS[photo.content_type]}", photo.data)
    thumbnail = store_bytes(photo_id, f"{item.key}-thumbnail.jpg", photo.thumbnail)
    row = CustomerPhoto(
        id=photo_id,
        order_id=order.id,
        kind=item.key,
        path=stored["path"],
        thumbnail_path=thumbnail["path"],
        content_type=photo.content_type,
        size=stored["size"],
        width=photo.width,
        height=photo.height,
        uploaded_at=now,
        status=PHOTO_RECEIVED,
    )
    db.session.add(row)
    db.session.flush()
    return row


# What the customer reads of each photo's state.
STATE_WORDS = {
    "needed": _l("Still needed"),
    "received": _l("Received"),
    "approved": _l("All right"),
    "asked_again": _l("Please take it again"),
}


@dataclass(frozen=True)
class PhotoRequest:
    """One checklist item as the customer sees it: what to take, and where it stands."""

    item: PhotoItem
    # "needed", or the current photo's status: received, approved, asked_again.
    state: str
    # The planner's reason, when asked again.
    reason: str | None = None
    # What was wrong with the upload just refused.
    error: str | None = None

    @property
    def words(self) -> object:
        return STATE_WORDS[self.state]


def photo_requests(
    order: Order, items: list[PhotoItem], errors: dict[str, str] | None = None
) -> list[PhotoRequest]:
    """The checklist of ``order`` with each item's state; ``errors`` by kind."""
    current = current_photos(order)
    errors = errors or {}
    requests = []
    for item in items:
        photo = current.get(item.key)
        state = photo.status if photo is not None else "needed"
        reason = photo.ask_reason if state == PHOTO_ASKED_AGAIN else None
        requests.append(PhotoRequest(item, state, reason, errors.get(item.key)))
    return requests


def photo_section(order: Order, errors: dict[str, str] | None = None) -> list[PhotoRequest]:
    """The page's photo checklist; empty once photos can no longer help."""
    if not may_send_photos(order):
        return []
    return photo_requests(order, photo_checklist(order, order.visit), errors)
