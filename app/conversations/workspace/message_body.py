"""How a message's text is shown in the timeline: what repeats itself folds away.

An e-mail (and many a WhatsApp reply) ends with a sign-off: "Met vriendelijke
groet," and a name, often the four lines of a signature. Shown in full on every
message they took half the conversation's height, so the timeline
shows the words that differ and folds the sign-off behind "…", as mail clients
do with trimmed content. The salutation ("Beste Saskia,") runs on into the first
sentence instead of costing a line and an empty one. Likewise a message's subject
that only repeats the conversation's ("RE: Factuur klopt niet") is left out.

Presentation only: the stored message is untouched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A line that opens a sign-off: a greeting that closes a letter, or the "-- "
# signature delimiter of plain-text mail. Dutch first, then the English ones
# customers write.
_CLOSING = re.compile(
    r"""^(
        (met\s+)?((vriendelijke|hartelijke|beste|warme|zonnige|sportieve)\s+)?groet(en|jes)?\b
      | m\.?\s?v\.?\s?g\.?\b
      | gr(oet)?\.?,?\s*$
      | (kind|best|warm|many\s+thanks\s+and)?\s*regards\b
      | --\s*$
    )""",
    re.IGNORECASE | re.VERBOSE,
)
# A salutation on a line of its own: "Beste Saskia,", "Geachte heer De Vries,", "Hi Anna,".
_SALUTATION = re.compile(
    r"^(beste|geachte|hallo|hoi|hey|dag|goedemorgen|goedemiddag|goedenavond|dear|hi|hello)\b[^.?!\n]{0,50}[,!]?$",
    re.IGNORECASE,
)
# A sign-off is short: the closing line, a name, a title, a phone number, an address.
MAX_SIGNOFF_LINES = 6
MAX_SIGNOFF_CHARS = 320
MAX_CLOSING_LINE_CHARS = 60
# "Re:", "RE:", "Antw:", "Fwd:", … in front of a subject, repeated.
_REPLY_PREFIX = re.compile(r"^\s*((re|antw|aw|fw|fwd|doorst)\s*:\s*)+", re.IGNORECASE)


@dataclass(frozen=True)
class MessageText:
    """A message's text as shown: the salutation, the words, the sign-off ("" for none)."""

    main: str
    signoff: str = ""
    salutation: str = ""


def message_text(text: str | None) -> MessageText:
    """The text as the timeline shows it: salutation and sign-off apart, when clear."""
    parts = split_signoff(text)
    lines = parts.main.split("\n")
    if len(lines) > 2 and _SALUTATION.match(lines[0].strip()) and not lines[1].strip():
        rest = "\n".join(lines[2:]).lstrip("\n")
        if rest:
            return MessageText(rest, parts.signoff, lines[0].strip())
    return parts


def split_signoff(text: str | None) -> MessageText:
    """The text with its trailing sign-off apart, when it clearly has one.

    Only a closing line that starts a paragraph of its own (after an empty line)
    counts, and only when what follows is a few short lines: a question after
    "Groeten," is never folded away.
    """
    text = (text or "").rstrip()
    lines = text.split("\n")
    for index in range(len(lines) - 1, 0, -1):
        line = lines[index].strip()
        if not _CLOSING.match(line) or lines[index - 1].strip():
            continue
        main = "\n".join(lines[:index]).rstrip()
        signoff = "\n".join(lines[index:]).strip()
        tail = lines[index:]
        if (
            main
            and len(tail) <= MAX_SIGNOFF_LINES
            and len(signoff) <= MAX_SIGNOFF_CHARS
            and len(line) <= MAX_CLOSING_LINE_CHARS
            and "?" not in signoff
        ):
            return MessageText(main, signoff)
        break
    return MessageText(text)


def repeats_subject(subject: str | None, thread_subject: str | None) -> bool:
    """Whether a message's subject says nothing the conversation's does not."""
    if not subject:
        return True
    bare = _REPLY_PREFIX.sub("", subject).strip().casefold()
    return bare == _REPLY_PREFIX.sub("", thread_subject or "").strip().casefold()
