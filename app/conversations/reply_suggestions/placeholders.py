"""An earlier reply made fit for another customer: placeholders in, sign-off out.

:func:`generalise` turns what was particular to the conversation into the
template variables the composer fills in (the customer's name, order number,
e-mail and phone, the order's total, the visit's day and hours, the
technician, the agent), and refuses (None) a reply it cannot make safe: one
naming a date, time or order that is not the visit's, a partner's order
reference, an amount that is neither the order's total nor a price in our
catalogue (a credit, a discount, a quote for someone else's driveway), or a
surname it could not place. A date is never guessed: a wrong one must never
reach a customer.
:func:`strip_sign_off` removes the colleague's greeting and signature, so a
suggestion never signs with someone else's name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from app.conversations.reply_suggestions.dates import Moment, find_moments, has_moment

# Sign-offs that end the reply's own text whatever follows (a name, a signature block).
_SIGN_OFF = re.compile(
    r"(?:^|\n|(?<=[.!?])[ \t]+|(?<=[.!?]\))[ \t]+)[ \t]*"
    r"(?:met\s+)?(?:vriendelijke|hartelijke|zonnige|sportieve|warme)?\s*"
    r"(?:groet(?:en|jes)?|mvg|m\.v\.g\.|gr\.|kind\s+regards|best\s+regards|warm\s+regards"
    r"|regards|best\s+wishes|yours\s+sincerely|sincerely|with\s+kind\s+regards)\b"
    r"[\s\S]*$",
    re.IGNORECASE,
)
# A signature block's conventional first line.
_SIGNATURE_DASHES = re.compile(r"\n--\s*\n[\s\S]*$")
# The greeting a reply opens with, left out of its title.
_SALUTATION = re.compile(
    r"^\s*(?:beste|hoi|hallo|hi|hello|hey|dear|dag|goedemorgen|goedemiddag|goedenavond"
    r"|good\s+(?:morning|afternoon|evening)|geachte)\b[^,!\n]*[,!]?\s*",
    re.IGNORECASE,
)
ORDER_NUMBER = re.compile(r"\b[A-Z]{2,4}-\d{4}-\d{3,6}\b")
# A partner's own order reference ("GRO-337866", "50F-865962"): one conversation's, with
# no variable to stand for it.
PARTNER_REFERENCE = re.compile(r"\b(?=[A-Z0-9]*[A-Z])[A-Z0-9]{2,5}-\d{5,}\b")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<![\w+])(?:\+|00)?\d[\d \-]{7,14}\d(?!\w)")
AMOUNT = re.compile(r"€\s?(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d{2}|-))?")
_PREPOSITION = re.compile(r"(?:\b(?:op|on|aanstaande|a\.s\.|komende|this|next)\s+)+$", re.I)
# Between a date and its window: nothing, a comma or an abbreviation's full stop ("nov.").
_WINDOW_PREFIX = re.compile(r"^\.?(?:,?\s*(?:tussen|between|van|from)?\s*)$", re.IGNORECASE)
TITLE_WORDS = 7


@dataclass(frozen=True)
class ReplyContext:
    """What a reply may have mentioned of its own conversation, to make placeholders of.

    ``visit_start``/``visit_end`` are the planned window's ``"HH:MM"``;
    ``sent_on`` is the Amsterdam day the reply was sent (for "morgen").
    """

    sent_on: date
    customer_name: str | None = None
    customer_first_name: str | None = None
    customer_last_name: str | None = None
    customer_email: str | None = None
    customer_phone_digits: str | None = None
    order_number: str | None = None
    order_total: Decimal | None = None
    visit_date: date | None = None
    visit_start: str | None = None
    visit_end: str | None = None
    technician_name: str | None = None
    technician_phone_digits: str | None = None
    agent_name: str | None = None
    company_name: str = "ChargeCars"
    # The catalogue's prices, without and with VAT: amounts any customer may be told.
    price_list: frozenset[Decimal] = frozenset()


def strip_sign_off(text: str, agent_name: str | None = None) -> str:
    """The reply without its sign-off ("Groet, Fatima – ChargeCars"), signature block,
    or a last line that is only the agent's or the company's name."""
    text = _SIGNATURE_DASHES.sub("", "\n" + text.replace("\r\n", "\n")).strip()
    text = _SIGN_OFF.sub("", text).rstrip()
    lines = text.split("\n")
    signers = {name.lower() for name in (agent_name, *(agent_name or "").split()[:1]) if name}
    while lines and _is_signature_line(lines[-1], signers):
        lines.pop()
    return "\n".join(lines).strip()


def _is_signature_line(line: str, signers: set[str]) -> bool:
    words = re.sub(r"[^\w\s]", " ", line).lower().split()
    if not words or len(words) > 5:
        return False
    named = " ".join(words)
    return (
        named in signers
        or (
            any(word in signers for word in words)
            and all(
                word in signers or word in ("chargecars", "team", "van", "of") for word in words
            )
        )
        or named in ("chargecars", "team chargecars")
    )


def without_greeting(text: str) -> str:
    """``text`` from its first words after "Beste Jan," (all of it if that is all)."""
    rest = _SALUTATION.sub("", text, count=1).strip() or text.strip()
    return rest[:1].upper() + rest[1:]


def title_of(text: str) -> str:
    """The first words after the greeting: what tells two suggestions apart at a glance."""
    words = without_greeting(text).split()
    title = " ".join(words[:TITLE_WORDS])
    return title[:1].upper() + title[1:] + ("…" if len(words) > TITLE_WORDS else "")


def _digits(raw: str) -> str:
    digits = re.sub(r"\D", "", raw)
    if raw.strip().startswith("+"):
        return digits
    if digits.startswith("00"):
        return digits[2:]
    if digits.startswith("0"):
        return "31" + digits[1:]  # a Dutch number written the Dutch way
    return digits


def _replace_names(text: str, ctx: ReplyContext) -> str:
    names = [
        (ctx.customer_name, "{{customer_name}}"),
        (ctx.technician_name, "{{technician_name}}"),
        (ctx.agent_name, "{{agent_name}}"),
        (ctx.customer_first_name, "{{customer_first_name}}"),
    ]
    for name, placeholder in names:
        if name and len(name.strip()) >= 2:
            text = re.sub(rf"(?<!\w){re.escape(name.strip())}(?!\w)", placeholder, text)
    return text


def _replace_contacts(text: str, ctx: ReplyContext) -> str | None:
    def email(match: re.Match[str]) -> str:
        address = match.group(0)
        if ctx.customer_email and address.lower() == ctx.customer_email.lower():
            return "{{customer_email}}"
        if ctx.company_name.lower() in address.lower().split("@")[-1]:
            return address  # our own addresses stay
        raise _Refused

    def phone(match: re.Match[str]) -> str:
        digits = _digits(match.group(0))
        if ctx.customer_phone_digits and digits == ctx.customer_phone_digits:
            return "{{customer_phone}}"
        if ctx.technician_phone_digits and digits == ctx.technician_phone_digits:
            return "{{technician_phone}}"
        return match.group(0)  # a company line ("bel 030-2001234")

    def order(match: re.Match[str]) -> str:
        if ctx.order_number and match.group(0) == ctx.order_number:
            return "{{order_id}}"
        raise _Refused  # another customer's order

    def amount(match: re.Match[str]) -> str:
        try:
            value = Decimal(match.group(1).replace(".", "") + "." + _cents(match.group(2)))
        except InvalidOperation:
            return match.group(0)
        if ctx.order_total and value == ctx.order_total:
            return "{{order_total}}"
        if value in ctx.price_list:
            return match.group(0)  # a catalogue price ("elke extra meter kost € 24,50")
        raise _Refused  # this conversation's own sum: a credit, a discount, a quote

    try:
        text = EMAIL.sub(email, text)
        text = ORDER_NUMBER.sub(order, text)
        if PARTNER_REFERENCE.search(text):
            raise _Refused
        text = AMOUNT.sub(amount, text)
        return PHONE.sub(phone, text)
    except _Refused:
        return None


def _cents(raw: str | None) -> str:
    return raw if raw and raw.isdigit() else "00"


class _Refused(Exception):
    """The reply names something of this conversation that cannot be made general."""


def _day_of(moment: Moment, ctx: ReplyContext) -> date | None:
    """The calendar day a date, weekday or relative day stands for, if it can be told."""
    if moment.kind == "date":
        if moment.day is None or ctx.visit_date is None:
            return moment.day
        if not moment.year_given and (moment.month, moment.day_of_month) == (
            ctx.visit_date.month,
            ctx.visit_date.day,
        ):
            return ctx.visit_date  # "26 november": the visit's year is meant
        return moment.day
    if moment.kind == "relative" and moment.exact:
        return ctx.sent_on + timedelta(days=moment.offset or 0)
    if moment.kind == "weekday" and moment.exact and ctx.visit_date is not None:
        ahead = (ctx.visit_date - ctx.sent_on).days
        if 0 <= ahead <= 7 and ctx.visit_date.weekday() == moment.weekday:
            return ctx.visit_date
    return None


def _is_visit_window(moment: Moment, ctx: ReplyContext) -> bool:
    return (
        moment.kind == "window"
        and ctx.visit_start is not None
        and (moment.start, moment.end) == (ctx.visit_start, ctx.visit_end)
    )


def _replace_moments(text: str, ctx: ReplyContext) -> str | None:
    """Every date and time as a visit placeholder, or None if one is not the visit's."""
    moments = find_moments(text, (ctx.visit_date or ctx.sent_on).year)
    pieces: list[str] = []
    at = 0
    index = 0
    while index < len(moments):
        moment = moments[index]
        before = text[at : moment.start_at]
        if moment.kind == "window":
            if not _is_visit_window(moment, ctx):
                return None
            pieces += [before, "{{visit_hours}}"]
            at = moment.end_at
            index += 1
            continue
        day = _day_of(moment, ctx)
        if day is None or day != ctx.visit_date:
            return None  # not the visit's day (or no day at all): never offered
        if moment.weekday is not None and day.weekday() != moment.weekday:
            return None  # "vrijdag 26 november" when the 26th is a Thursday
        end = moment.end_at
        following = moments[index + 1] if index + 1 < len(moments) else None
        lead = _PREPOSITION.search(before)
        spoken = moment.kind != "date" or lead is not None
        if spoken and following is not None and following.kind == "window":
            gap = text[end : following.start_at]
            same_sentence = not text[following.start_at].isupper()
            if same_sentence and _WINDOW_PREFIX.match(gap) and _is_visit_window(following, ctx):
                # "op donderdag 26 november tussen 8:00 en 12:00": one visit moment.
                end, index = following.end_at, index + 1
        if spoken:
            # {{visit_moment}} reads "op 26-11-2026 …" / "morgen (…)": the preposition goes.
            if lead is not None:
                before = before[: lead.start()]
            pieces += [before, "{{visit_moment}}"]
        else:
            pieces += [before, "{{visit_date}}"]
        at = end
        index += 1
    pieces.append(text[at:])
    return "".join(pieces)


def _unplaced_surname(text: str, ctx: ReplyContext) -> bool:
    surname = (ctx.customer_last_name or "").strip()
    return len(surname) >= 2 and re.search(rf"(?<!\w){re.escape(surname)}(?!\w)", text) is not None


def generalise(text: str, ctx: ReplyContext) -> str | None:
    """``text`` with its particulars as placeholders, or None when it cannot be made safe."""
    text = strip_sign_off(text, ctx.agent_name)
    if not text:
        return None
    text = _replace_contacts(_replace_names(text, ctx), ctx)
    if text is None:
        return None
    text = _replace_moments(text, ctx)
    if text is None or _unplaced_surname(text, ctx) or has_moment(text):
        return None
    return text.strip() or None
