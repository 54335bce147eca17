"""What the classifier reads of a conversation, as words it can count.

A customer writes Dutch or English (or both in one mail), so every word is cut
to its stem by both Snowball stemmers: "installatie", "installaties" and
"installation" meet in "install…" whichever language the message is in, and
no language detection is needed. Consecutive Dutch stems also count as a pair
("laadpal_doet", "verkeerd_aansloot"), which tells "niet laden" from "laden".

:func:`analyse` is handed to scikit-learn's vectoriser and pickled with the
model by its dotted name, so it must stay here under this name (a renamed one
makes stored models unloadable until the next training, see ``FEATURE_VERSION``).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

# Bumped whenever the features change meaning: models of another version are not used.
FEATURE_VERSION = 1
# A customer's first message beyond this says nothing more about the team (quoted
# mail threads, signatures, disclaimers).
MAX_CHARACTERS = 2000

_WORD = re.compile(r"[^\W\d_]{2,}")
_LINK = re.compile(r"https?://\S+|www\.\S+|\S+@\S+")
_DUTCH = snowballstemmer.stemmer("dutch_porter")
_ENGLISH = snowballstemmer.stemmer("english")
# A stemmer keeps the word it works on in itself: one thread at a time.
_STEMMING = threading.Lock()


@dataclass(frozen=True)
class Question:
    """A new conversation as the classifier sees it: the customer's first words, the
    channel it came in on, and whether the customer had an order when it started."""

    text: str
    channel: str
    has_order: bool

    def row(self) -> list:
        """The row scikit-learn is given (text, channel, order)."""
        return [
            self.text[:MAX_CHARACTERS],
            self.channel or "none",
            "order" if self.has_order else "none",
        ]


def analyse(text: str) -> list[str]:
    """The terms of ``text``: Dutch and English stems of each word, and Dutch stem pairs."""
    words = _WORD.findall(_LINK.sub(" ", text.lower()))
    stems = [_stems(word) for word in words]
    dutch = [stem for stem, _english in stems]
    english = [stem for _dutch, stem in stems]
    terms = list(dutch)
    terms.extend(e for d, e in zip(dutch, english, strict=True) if e != d)
    terms.extend(f"{first}_{second}" for first, second in zip(dutch, dutch[1:], strict=False))
    return terms


@lru_cache(maxsize=65536)
def _stems(word: str) -> tuple[str, str]:
    """The Dutch and English stems of ``word``: customers use a few thousand words over
    and over, and Snowball in Python is most of the time a training run takes."""
    with _STEMMING:
        return _DUTCH.stemWord(word), _ENGLISH.stemWord(word)
