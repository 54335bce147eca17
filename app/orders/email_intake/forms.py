"""Reading the review and upload forms into what the services take."""

from __future__ import annotations

import re
import uuid

from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage, MultiDict

from app.orders.email_intake import labels as f
from app.orders.email_intake.eml import MAX_EML_BYTES

MAX_LINES = 50
_LINE_KEY = re.compile(r"^line_items-(\d{1,2})-(sku|description|quantity)$")


class UploadInvalid(ValueError):
    """An upload the page refuses; ``field`` is the form field to show it at."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def corrections_from_form(form: MultiDict) -> dict:
    """The reviewer's values by field path; product rows as a list, in row order."""
    corrections: dict = {path: form.get(path, "") for path in f.SCALAR_FIELDS if path in form}
    rows: dict[int, dict[str, str]] = {}
    for key, value in form.items():
        if match := _LINE_KEY.match(key):
            index = int(match.group(1))
            if index < MAX_LINES:
                rows.setdefault(index, {})[match.group(2)] = value
    if rows or "line_items-present" in form:
        corrections[f.LINE_ITEMS] = [rows[index] for index in sorted(rows)]
    return corrections


def read_upload(files: MultiDict, form: MultiDict) -> tuple[uuid.UUID, bytes]:
    """The chosen partner's id and the uploaded file's bytes. Raises :class:`UploadInvalid`."""
    try:
        partner_id = uuid.UUID(form.get("partner_id", ""))
    except ValueError:
        raise UploadInvalid("partner_id", _("Choose the partner the e-mail is from.")) from None
    upload: FileStorage | None = files.get("eml")
    if upload is None or not upload.filename:
        raise UploadInvalid("eml", _("Choose an .eml file to upload."))
    if not upload.filename.lower().endswith(".eml"):
        raise UploadInvalid("eml", _("Only .eml files (an e-mail saved from the mail program)."))
    data = upload.stream.read(MAX_EML_BYTES + 1)
    if len(data) > MAX_EML_BYTES:
        raise UploadInvalid("eml", _("The file is larger than 5 MB."))
    return partner_id, data
