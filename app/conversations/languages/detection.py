"""Which language a customer wrote in, told from their own words by lingua.

Only the languages a Dutch installer's customers write in are considered
(:data:`LANGUAGES`): fewer candidates, fewer look-alikes (Dutch is never
mistaken for Afrikaans or Frisian). A text too short to tell, or one where the
best two languages are too close, gives None: a wrong guess would reorder the
agent's templates and tell them the customer writes English when they do not.

The detector is built once per process, on the first message it reads (the
web process of a deployment never reads one: the job runs in the workers).
It runs in lingua's high-accuracy mode. Measured on this project's eight
languages (lingua 2.1.1; RSS of a Python 3.11 process before and after reading
one short sentence in each): high accuracy holds about 223 MiB once every
language's models are loaded (about 5 s for the first message, then ~0.1 ms a
message); low-accuracy mode holds 16-29 MiB but, reading trigrams only, cannot
tell "When will the installer come?" from German (English 0.44 against German
0.42: None here) where high accuracy says English 0.42 against 0.18. Short
messages are most of what customers send on WhatsApp, so the memory buys the
right answer.
"""

from __future__ import annotations

import functools
import re

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

# ISO 639-1 code of each language we detect.
LANGUAGES: dict[Language, str] = {
    Language.DUTCH: "nl",
    Language.ENGLISH: "en",
    Language.GERMAN: "de",
    Language.FRENCH: "fr",
    Language.POLISH: "pl",
    Language.TURKISH: "tr",
    Language.ARABIC: "ar",
    Language.SPANISH: "es",
}
# Fewer words than this ("Ok", "Dank je", "Yes please") tell nothing reliable.
MIN_WORDS = 3
# The best language's confidence must lead the runner-up's by this much. Measured
# on short customer sentences: "When will the installer come?" leads by 0.23,
# "Installation date is fine for me" (French 0.41, English 0.27) by 0.14 and
# "Ja dat is prima" (Dutch 0.21, English 0.19) by 0.01; the last two give None.
MIN_MARGIN = 0.2
# Enough text to tell any language; a long mail costs no more than its start.
MAX_CHARACTERS = 2000

WORD = re.compile(r"[^\W\d_]+")
# Addresses and links are no language, and a domain such as ".nl" misleads.
ADDRESSES = re.compile(r"\S+@\S+|https?://\S+|www\.\S+", re.IGNORECASE)
# Where a customer's own words end in an e-mail: the quoted mail they answer, a
# forwarded one, or their phone's signature line (often in another language
# than what they wrote: "Sent from my iPhone" under Dutch).
QUOTE_STARTS = re.compile(
    r"^\s*(?:"
    r"On\b.{0,200}\bwrote:|Op\b.{0,200}\bschreef\b.{0,60}:|Am\b.{0,200}\bschrieb\b.{0,60}:"
    r"|Le\b.{0,200}\ba écrit\s?:|El\b.{0,200}\bescribió:"
    r"|-{2,}\s*(?:Original Message|Oorspronkelijk bericht|Ursprüngliche Nachricht"
    r"|Message d'origine|Forwarded message|Doorgestuurd bericht)"
    r"|(?:From|Van|Von|De|Od|Kimden):\s"
    r"|Sent from my\b|Verzonden (?:met|vanaf|via) mijn\b|Verstuurd (?:met|vanaf|via) mijn\b"
    r"|Von meinem\b.{0,60}\bgesendet|Envoyé de mon\b"
    r"|--\s*$"
    r")",
    re.IGNORECASE | re.MULTILINE,
)


@functools.cache
def detector() -> LanguageDetector:
    """The process's detector, built on first use (see the module docstring)."""
    return LanguageDetectorBuilder.from_languages(*LANGUAGES).build()


def own_words(text: str | None) -> str:
    """What the customer wrote themselves: quoted replies, signatures and links left out."""
    text = text or ""
    cut = QUOTE_STARTS.search(text)
    if cut is not None:
        text = text[: cut.start()]
    lines = [line for line in text.splitlines() if not line.lstrip().startswith(">")]
    return ADDRESSES.sub(" ", "\n".join(lines))[:MAX_CHARACTERS]


def detect_language(text: str | None) -> str | None:
    """ISO 639-1 code of the language ``text`` is written in; None when unclear.

    Unclear: fewer than :data:`MIN_WORDS` words, or no language leading the
    next by :data:`MIN_MARGIN`.
    """
    words = own_words(text)
    if len(WORD.findall(words)) < MIN_WORDS:
        return None
    best, runner_up = detector().compute_language_confidence_values(words)[:2]
    if best.value - runner_up.value < MIN_MARGIN:
        return None
    return LANGUAGES[best.language]
