"""The rating page's form, read and checked: a rating of 1 to 5 and an optional comment.

:func:`parse_rating_form` returns both, or raises :class:`RatingFormRefused` with
the message to show beside each wrong field (in the page's language: call it
where that language is in force).
"""

from __future__ import annotations

from flask_babel import gettext as _

from app.conversations.csat.answers import MAX_COMMENT, RATINGS


class RatingFormRefused(ValueError):
    """``fields`` maps each wrong field to its message; ``comment`` is as typed."""

    def __init__(self, fields: dict[str, str], comment: str | None) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields
        self.comment = comment


def parse_rating_form(form) -> tuple[int, str | None]:
    """The ``rating`` and the ``comment`` (None when the form has none)."""
    errors: dict[str, str] = {}
    rating = _rating(form.get("rating"), errors)
    comment = form.get("comment")
    if comment is not None and len(comment) > MAX_COMMENT:
        errors["comment"] = _("Keep the comment under %(max)s characters.", max=f"{MAX_COMMENT:,}")
    if errors:
        raise RatingFormRefused(errors, comment)
    return rating, comment


def _rating(raw: str | None, errors: dict[str, str]) -> int:
    try:
        value = int((raw or "").strip())
    except ValueError:
        value = 0
    if value not in RATINGS:
        errors["rating"] = _("Choose a rating from 1 to 5.")
    return value
