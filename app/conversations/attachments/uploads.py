"""Files an agent attaches to a reply: which are allowed, how big, and storing them.

The limits follow what each provider accepts, a little under it:

* **E-mail (Microsoft Graph).** Files travel inline in the ``sendMail``/``reply``
  request as base64 ``fileAttachment``s. Graph takes at most 4 MB per request
  body and base64 adds a third, so a reply's files may be **3 MB together**
  (and so 3 MB each). Larger files would need Graph's upload sessions
  (a draft, then chunks, then send); that is left for when it is asked for.
* **WhatsApp (Cloud API).** Images (JPEG, PNG) up to **5 MB**, as Meta allows;
  documents (PDF, Office, plain text) up to **16 MB** (Meta allows 100 MB, but
  the file passes through the web request and the upload job first).

The type is decided by the file's extension and checked against its first
bytes, so ``invoice.pdf`` that is really an executable is refused; what the
browser claims as the content type is not trusted. Everything is checked before
anything is written: a refused file means no message and nothing stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath
from typing import BinaryIO

from flask_babel import gettext as _
from werkzeug.utils import secure_filename

from app.conversations.attachments.storage import store_bytes
from app.platform.security.bodies import size_label

MB = 1024 * 1024
MAX_FILES = 10
# The whole reply request may carry the largest allowed set of files plus the form.
MAX_REQUEST_BYTES = 40 * MB

PDF, JPEG, PNG = "application/pdf", "image/jpeg", "image/png"
OFFICE = {
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".ppt": "application/vnd.ms-powerpoint",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
TYPES_BY_EXTENSION = {
    ".pdf": PDF,
    ".jpg": JPEG,
    ".jpeg": JPEG,
    ".png": PNG,
    ".txt": "text/plain",
    ".csv": "text/csv",
    **OFFICE,
}
# First bytes each kind of file starts with. Office's newer formats are zip
# archives, the older ones OLE compound files.
SIGNATURES = {
    PDF: (b"%PDF-",),
    JPEG: (b"\xff\xd8\xff",),
    PNG: (b"\x89PNG\r\n\x1a\n",),
    **{mime: (b"PK\x03\x04",) for ext, mime in OFFICE.items() if ext.endswith("x")},
    **{mime: (b"\xd0\xcf\x11\xe0",) for ext, mime in OFFICE.items() if not ext.endswith("x")},
}
TEXT_TYPES = frozenset({"text/plain", "text/csv"})


@dataclass(frozen=True)
class AttachmentPolicy:
    """What one channel accepts: types (by label) and sizes."""

    allowed: dict[str, str]  # extension -> mime type
    labels: str  # for the person reading the refusal
    max_image_bytes: int
    max_document_bytes: int
    max_total_bytes: int | None = None


EMAIL_POLICY = AttachmentPolicy(
    allowed=TYPES_BY_EXTENSION,
    labels="PDF, JPEG, PNG, Word, Excel, PowerPoint, TXT, CSV",
    max_image_bytes=3 * MB,
    max_document_bytes=3 * MB,
    max_total_bytes=3 * MB,
)
WHATSAPP_POLICY = AttachmentPolicy(
    # Meta's document types leave out CSV.
    allowed={ext: mime for ext, mime in TYPES_BY_EXTENSION.items() if ext != ".csv"},
    labels="PDF, JPEG, PNG, Word, Excel, PowerPoint, TXT",
    max_image_bytes=5 * MB,
    max_document_bytes=16 * MB,
)
POLICIES = {"email_outlook": EMAIL_POLICY, "whatsapp_business": WHATSAPP_POLICY}


class AttachmentRefused(ValueError):
    """A file that may not go out; the message names the file and the limit."""

    def __init__(self, message: str, filename: str | None = None) -> None:
        super().__init__(message)
        self.filename = filename


@dataclass(frozen=True)
class UploadedFile:
    """A checked file, held in memory until the message it belongs to is written."""

    filename: str
    mime_type: str
    data: bytes

    @property
    def is_image(self) -> bool:
        return self.mime_type in (JPEG, PNG)


def read_uploads(
    uploads: Iterable[tuple[str | None, BinaryIO]], channel_type: str
) -> list[UploadedFile]:
    """Check every ``(filename, stream)`` for ``channel_type``; AttachmentRefused if any fails."""
    uploads = [(name, stream) for name, stream in uploads if name]
    if not uploads:
        return []
    policy = POLICIES.get(channel_type)
    if policy is None:
        raise AttachmentRefused(_("Files can only be attached to e-mail and WhatsApp replies."))
    if len(uploads) > MAX_FILES:
        raise AttachmentRefused(
            _("At most %(count)s files can be attached to one reply.", count=MAX_FILES)
        )
    files = [_read_one(name, stream, policy) for name, stream in uploads]
    total = sum(len(f.data) for f in files)
    if policy.max_total_bytes is not None and total > policy.max_total_bytes:
        raise AttachmentRefused(
            _(
                "The attached files are %(size)s together; the limit for an e-mail is %(limit)s.",
                size=size_label(total),
                limit=size_label(policy.max_total_bytes),
            )
        )
    return files


def _read_one(original: str, stream: BinaryIO, policy: AttachmentPolicy) -> UploadedFile:
    shown = PurePath(original.replace("\\", "/")).name or "file"
    mime = policy.allowed.get(PurePath(shown).suffix.lower())
    if mime is None:
        raise AttachmentRefused(
            _(
                "%(name)s: this file type is not allowed (allowed: %(types)s).",
                name=shown,
                types=policy.labels,
            ),
            shown,
        )
    limit = policy.max_image_bytes if mime in (JPEG, PNG) else policy.max_document_bytes
    data = stream.read(limit + 1)
    if len(data) > limit:
        # Read on to say how large it really is; the stream is spooled already.
        size = len(data) + len(stream.read())
        raise AttachmentRefused(
            _(
                "%(name)s is %(size)s; the limit is %(limit)s.",
                name=shown,
                size=size_label(size),
                limit=size_label(limit),
            ),
            shown,
        )
    if not data:
        raise AttachmentRefused(_("%(name)s is empty.", name=shown), shown)
    if not _content_matches(mime, data):
        raise AttachmentRefused(
            _(
                "%(name)s: the content is not what its name says (%(suffix)s).",
                name=shown,
                suffix=PurePath(shown).suffix,
            ),
            shown,
        )
    name = secure_filename(shown) or f"attachment{PurePath(shown).suffix.lower()}"
    return UploadedFile(filename=name[-120:], mime_type=mime, data=data)


def _content_matches(mime: str, data: bytes) -> bool:
    if mime in TEXT_TYPES:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return b"\x00" not in data
    return data.startswith(SIGNATURES[mime])


def store_uploads(message_id: uuid.UUID, files: Iterable[UploadedFile]) -> list[dict]:
    """Write the files beside message ``message_id``; their attachment entries.

    Two files of one name get ``-2``, ``-3`` … so neither overwrites the other.
    """
    entries, taken = [], set()
    for upload in files:
        name, n = upload.filename, 1
        while name.lower() in taken:
            n += 1
            stem, suffix = PurePath(upload.filename).stem, PurePath(upload.filename).suffix
            name = f"{stem}-{n}{suffix}"
        taken.add(name.lower())
        stored = store_bytes(message_id, name, upload.data)
        entries.append(
            {
                "status": "stored",
                "filename": name,
                "mime_type": upload.mime_type,
                "source": "agent_upload",
                **stored,
            }
        )
    return entries


def composer_hint(channel_type: str | None) -> dict | None:
    """What the composer's file picker accepts and says, or None where files cannot go."""
    policy = POLICIES.get(channel_type or "")
    if policy is None:
        return None
    if policy.max_total_bytes is not None:
        sizes = _("up to %(size)s together", size=size_label(policy.max_total_bytes))
    else:
        sizes = _(
            "images up to %(images)s, documents up to %(documents)s",
            images=size_label(policy.max_image_bytes),
            documents=size_label(policy.max_document_bytes),
        )
    return {"accept": ",".join(policy.allowed), "text": f"{policy.labels}; {sizes}"}
