"""Which colleagues an internal note mentions: ``@Anouk``, ``@Anouk de Vries``, ``@anouk``.

A mention is matched, case-insensitively, against every active user's first
name, full name, name without spaces and e-mail handle (the part before the
``@``). At each ``@`` the longest match wins, so ``@Anouk de Vries`` is Anouk de
Vries even when another Anouk exists; a bare first name that several people
share mentions all of them (better one notice too many than a missed one).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import sqlalchemy as sa

from app.platform.extensions import db
from app.platform.models import User

# What may follow a name for it to be the whole name: not a letter or digit.
WORD_CHARACTER = re.compile(r"\w", re.UNICODE)


def handles_of(user: User) -> set[str]:
    """The lower-case words that mention ``user``."""
    name = " ".join(user.name.split()).lower()
    handles = {name, name.replace(" ", ""), name.split(" ")[0] if name else ""}
    if user.email and "@" in user.email:
        handles.add(user.email.split("@", 1)[0].lower())
    return {handle for handle in handles if handle}


def mentioned_in(text: str, users: Iterable[User]) -> list[User]:
    """The users ``text`` mentions, each once, in the order first mentioned."""
    if "@" not in (text or ""):
        return []
    by_handle: dict[str, list[User]] = {}
    for user in users:
        for handle in handles_of(user):
            by_handle.setdefault(handle, []).append(user)
    longest_first = sorted(by_handle, key=len, reverse=True)
    lowered = re.sub(r"\s+", " ", text).lower()
    found: list[User] = []
    for at in (m.start() for m in re.finditer("@", lowered)):
        # An e-mail address (anouk@example.nl) is not a mention.
        if at > 0 and WORD_CHARACTER.match(lowered[at - 1]):
            continue
        rest = lowered[at + 1 :]
        for handle in longest_first:
            if rest.startswith(handle) and not _continues(rest, len(handle)):
                for user in by_handle[handle]:
                    if user not in found:
                        found.append(user)
                break
    return found


def _continues(rest: str, end: int) -> bool:
    return end < len(rest) and bool(WORD_CHARACTER.match(rest[end]))


def mentioned_colleagues(text: str, author_id) -> list[User]:
    """Active users mentioned in ``text``, never its author."""
    if "@" not in (text or ""):
        return []
    active = db.session.scalars(sa.select(User).where(User.is_active_account.is_(True)))
    return [user for user in mentioned_in(text, active) if user.id != author_id]
