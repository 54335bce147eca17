"""Reading order e-mails as lines of cells, and the Dutch value formats in them.

Pure functions, no database: the parser builds on these, and tests can call
them directly.
"""

from __future__ import annotations

import re
from datetime import date
from html.parser import HTMLParser

import nh3

# Table cells become tab-separated, so a row "Postcode | 1016 GV" of an HTML
# table reads like the labelled line "Postcode: 1016 GV" of a plain-text mail.
CELL = "\t"

POSTAL_CODE = re.compile(r"(?<![\w])([1-9]\d{3})\s?([A-Z]{2})(?![\w])")
EMAIL = re.compile(r"[A-Za-z0-9._%+'-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Dutch numbers as people type them: 06-12345678, 020 555 0100, +31 6 1234 5678.
PHONE = re.compile(r"(?<![\w+])(?:\+31|0031|0)[\s.-]?(?:\(0\)\s?)?[1-9](?:[\s.-]?\d){8}(?!\d)")
# "Prinsengracht 263-2", "Laan van Meerdervoort 1021", "Kerkstraat 12 a".
STREET_AND_NUMBER = re.compile(
    r"^(?P<street>[A-Za-zÀ-ÿ'’][A-Za-zÀ-ÿ'’.\- ]{1,80}?)\s+"
    r"(?P<number>\d{1,5}(?:\s?[-/]?\s?[A-Za-z0-9]{1,4})?)$"
)

MONTHS = {
    "jan": 1, "januari": 1, "january": 1,
    "feb": 2, "februari": 2, "february": 2,
    "mrt": 3, "maart": 3, "mar": 3, "march": 3,
    "apr": 4, "april": 4,
    "mei": 5, "may": 5,
    "jun": 6, "juni": 6, "june": 6,
    "jul": 7, "juli": 7, "july": 7,
    "aug": 8, "augustus": 8, "august": 8,
    "sep": 9, "sept": 9, "september": 9,
    "okt": 10, "oktober": 10, "oct": 10, "october": 10,
    "nov": 11, "november": 11,
    "dec": 12, "december": 12,
}  # fmt: skip
_NUMERIC_DATE = re.compile(r"\b(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})\b")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_WORD_DATE = re.compile(r"\b(\d{1,2})\s+([A-Za-z]{3,9})\.?\s+(\d{4})\b")
_ENGLISH_DATE = re.compile(r"\b([A-Za-z]{3,9})\.?\s+(\d{1,2}),?\s+(\d{4})\b")


def html_to_text(html: str) -> str:
    """The visible text of an HTML mail: a line per block, cells tab-separated.

    (:func:`app.conversations.channels.outlook.mail.html_to_text` runs table cells together,
    which loses the label/value split this parser depends on.) The HTML is
    sanitised with nh3 first, so scripts and styles never reach the text.
    """
    extractor = _CellTextExtractor()
    extractor.feed(nh3.clean(html, tags=_KEPT_TAGS, clean_content_tags=_DROPPED_TAGS))
    extractor.close()
    return extractor.text()


def lines_of(text: str) -> list[str]:
    """Non-empty-aware lines: quote markers and bullets dropped, spaces collapsed."""
    lines = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = re.sub(r"^(?:\s*>)+", "", raw)  # quoted ("> ") forwarded text
        line = re.sub(r"^\s*(?:[-•*·]\s+)", "", line)  # bullets
        line = line.replace("**", "").replace("\u00a0", " ")
        cells = [" ".join(cell.split()) for cell in split_cells(line)]
        lines.append(CELL.join(cell for cell in cells if cell))
    return lines


def split_cells(line: str) -> list[str]:
    """A line's cells: tab- or pipe-separated, or columns aligned with 3+ spaces."""
    if CELL in line or "|" in line:
        return [cell.strip() for cell in re.split(r"[\t|]", line)]
    return [cell.strip() for cell in re.split(r"\s{3,}", line.strip())]


def normalise_postal_code(value: str) -> str | None:
    """``1016gv`` → ``1016 GV``; None when it is not a Dutch postal code."""
    match = re.fullmatch(r"\s*([1-9]\d{3})\s?([A-Za-z]{2})\s*", value or "")
    if not match:
        return None
    return f"{match.group(1)} {match.group(2).upper()}"


def split_street(value: str) -> tuple[str, str | None]:
    """``Kerkstraat 12 a`` → (``Kerkstraat``, ``12a``); the number None if absent."""
    match = STREET_AND_NUMBER.match(" ".join(value.split()).rstrip(","))
    if not match:
        return value.strip(), None
    return match.group("street").strip(), normalise_house_number(match.group("number"))


def normalise_house_number(value: str) -> str:
    """``12 a`` → ``12a``; additions after a dash or slash are kept as written."""
    return re.sub(r"(\d)\s+([A-Za-z]{1,2})$", r"\1\2", " ".join(value.split()))


def parse_date(value: str) -> date | None:
    """A date in any of the ways Dutch and English mails write one, or None."""
    text = value.strip().lower()
    candidates = []
    if match := _ISO_DATE.search(text):
        candidates.append((int(match[1]), int(match[2]), int(match[3])))
    if match := _NUMERIC_DATE.search(text):
        candidates.append((int(match[3]), int(match[2]), int(match[1])))
    if (match := _WORD_DATE.search(text)) and match[2] in MONTHS:
        candidates.append((int(match[3]), MONTHS[match[2]], int(match[1])))
    if (match := _ENGLISH_DATE.search(text)) and match[1] in MONTHS:
        candidates.append((int(match[3]), MONTHS[match[1]], int(match[2])))
    for year, month, day in candidates:
        try:
            return date(year, month, day)
        except ValueError:
            continue
    return None


_KEPT_TAGS = {
    "a", "b", "br", "div", "em", "font", "h1", "h2", "h3", "h4", "i", "li", "ol", "p", "pre",
    "span", "strong", "table", "tbody", "td", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
# Elements whose content is never visible text.
_DROPPED_TAGS = {"script", "style", "title", "template"}


class _CellTextExtractor(HTMLParser):
    BLOCKS = {"br", "div", "h1", "h2", "h3", "h4", "li", "ol", "p", "pre", "table", "tr", "ul"}
    CELLS = {"td", "th"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._parts: list[str] = []
        self._preformatted = 0

    def handle_starttag(self, tag, attrs):
        if tag == "pre":
            self._preformatted += 1
        if tag in self.BLOCKS:
            self._parts.append("\n")
        elif tag in self.CELLS:
            self._parts.append(CELL)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "pre":
            self._preformatted = max(0, self._preformatted - 1)
        # A row ends where the next begins: closing it too would put a blank
        # line between rows, and a blank line ends a table or a note.
        if tag in self.BLOCKS and tag != "tr":
            self._parts.append("\n")

    def handle_data(self, data):
        # Whitespace inside the HTML source is layout, not content (except in <pre>).
        self._parts.append(data if self._preformatted else re.sub(r"[ \t\r\n]+", " ", data))

    def text(self) -> str:
        lines = []
        for line in "".join(self._parts).split("\n"):
            cells = [" ".join(cell.split()) for cell in line.split(CELL)]
            lines.append(CELL.join(cell for cell in cells if cell))
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
