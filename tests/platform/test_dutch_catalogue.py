"""The Dutch catalogue is complete, and every text in it reads as Dutch.

The interface's texts are English msgids translated in
``translations/nl/LC_MESSAGES/messages.po``. A text marked in the code but missing
from the catalogue, a fuzzy guess that ``pybabel update`` left, an empty
translation or an English text copied over shows English to a Dutch agent. The
texts are extracted afresh from the code (as ``make translations`` does, in
memory), so a new ``_("...")`` without its Dutch fails here, not in front of a
customer-service desk.
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
DUTCH = ROOT / "translations" / "nl" / "LC_MESSAGES" / "messages.po"
# The keywords of `make translations` (Makefile): N_ for system texts, _l for lazy
# texts, _lp for lazy texts with a context.
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None, "_l": None, "_lp": ((1, "c"), 2)}

# Words a Dutch text may share with its English msgid: Dutch words spelled the same
# ("open", "team", "status", "details"), loanwords Dutch offices use as they are
# ("inbox", "manager", "feedback", "e-mail"), names (Switchboard, Outlook,
# ChargeCars), abbreviations and units (SLA, CSV, SKU, ms, min), keyboard keys
# (Enter, Esc), and the technical words of the partner API and webhooks a
# developer reads in English (endpoint, payload, header, callback, token).
SAME_IN_DUTCH = frozenset(
    """
    open urgent status type code week min max menu test live via re compact
    team teams partner partners order orders contact account details filters
    inbox planning privacy offline manager ticket feedback voicemail e-mail emoji
    ok sla csat csv sku id url http https bag cc bcc ms enter esc
    switchboard outlook chargecars
    token record records traceback sandbox endpoint object webhook callback callbacks
    payload headers authorization bearer x-api-key
    """.split()
)
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")
WORD = re.compile(r"[^\W\d_][\w-]*")
EXAMPLE_ADDRESS = re.compile(r"https?://\S+")  # placeholders of URL fields


@cache
def dutch_catalogue():
    with DUTCH.open("rb") as handle:
        return read_po(handle, locale="nl")


def _entries():
    return [message for message in dutch_catalogue() if message.id]


def _forms(value) -> tuple[str, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _name(message) -> str:
    text = _forms(message.id)[0]
    return f"[{message.context}] {text}" if message.context else text


def test_no_fuzzy_entry():
    fuzzy = [_name(m) for m in _entries() if m.fuzzy]
    assert fuzzy == [], "fuzzy (guessed) Dutch texts, check and unmark them:\n" + "\n".join(fuzzy)


def test_no_empty_translation_in_any_plural_form():
    empty = [_name(m) for m in _entries() if not all(s.strip() for s in _forms(m.string))]
    assert empty == [], "Dutch texts missing:\n" + "\n".join(empty)


def _same_in_dutch(text: str) -> bool:
    words = WORD.findall(PLACEHOLDER.sub(" ", EXAMPLE_ADDRESS.sub(" ", text)))
    return all(word.lower() in SAME_IN_DUTCH for word in words)


def test_no_english_text_copied_into_the_dutch():
    copied = [
        _name(m)
        for m in _entries()
        if any(
            s == i and not _same_in_dutch(s)
            for s, i in zip(_forms(m.string), _forms(m.id), strict=True)
        )
    ]
    assert copied == [], "Dutch texts left in English:\n" + "\n".join(copied)


def test_the_allowed_words_catch_english():
    """The check above can fail: an English sentence is not 'the same in Dutch'."""
    assert not _same_in_dutch("Save the settings")
    assert not _same_in_dutch("%(count)s open threads")
    assert _same_in_dutch("%(count)s min")
    assert _same_in_dutch("CC: %(addresses)s")


def test_placeholders_match_the_english():
    wrong = []
    for message in _entries():
        wanted = sorted(set(PLACEHOLDER.findall(" ".join(_forms(message.id)))))
        for form in _forms(message.string):
            found = sorted(set(PLACEHOLDER.findall(form)))
            # A plural form may leave the count out ("een gesprek"), never add one.
            if found != wanted and not (len(_forms(message.id)) > 1 and set(found) < set(wanted)):
                wrong.append(f"{_name(message)}: {found} instead of {wanted}")
    assert wrong == [], "placeholders differ from the English:\n" + "\n".join(wrong)


def extracted_texts() -> set[tuple[str | None, str]]:
    """(context, msgid) of every text marked in app/ and templates/, as babel.cfg says."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)

    def in_sources(path: str) -> bool:
        parts = os.path.relpath(path, ROOT).split(os.sep)
        return parts[0] in ("app", "templates") and "__pycache__" not in parts

    found = set()
    for _file, _line, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS, directory_filter=in_sources
    ):
        found.add((context, _forms(message)[0]))
    return found


def test_every_marked_text_has_its_dutch():
    extracted = extracted_texts()
    assert len(extracted) > 1000, "babel.cfg found almost no texts: is its mapping broken?"
    catalogue = {(m.context, _forms(m.id)[0]) for m in _entries()}
    missing = sorted(extracted - catalogue, key=lambda pair: pair[1])
    assert missing == [], (
        "texts marked in the code but not in the Dutch catalogue (run `make translations` "
        "and translate them):\n" + "\n".join(f"[{c}] {t}" if c else t for c, t in missing)
    )


def test_the_makefile_extracts_with_the_same_keywords():
    makefile = (ROOT / "Makefile").read_text()
    assert "-k N_ -k _l -k _lp:1c,2" in makefile
