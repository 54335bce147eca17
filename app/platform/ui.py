"""What every page's layout needs: navigation by role and display labels."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from weakref import WeakKeyDictionary
from zoneinfo import ZoneInfo

from babel.core import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal, format_percent, get_group_symbol
from flask import Flask, current_app, request
from flask_babel import get_domain, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.platform.models.calls import CALL_PREVIEW_MARK
from app.platform.models.communication import ERASED_THREAD_SUBJECT
from app.platform.models.crm import ERASED_CONTACT_NAME
from app.platform.models.enums import Role
from app.platform.system_texts import label as system_label

ALL = tuple(Role)
DESK = (Role.AGENT, Role.TEAM_LEAD, Role.MANAGER, Role.ADMIN)


@dataclass(frozen=True)
class NavItem:
    label: str  # lazy: read in the reader's language
    endpoint: str
    roles: tuple[Role, ...]
    # "admin": set-up pages, listed under one menu so the top bar stays one row.
    group: str = ""
    # A count shown beside the label, by the name a feature registered it under
    # (:func:`register_nav_count`): the work waiting behind the item.
    count: str = ""


# Only pages that exist are listed; later features add theirs here.
NAVIGATION = (
    NavItem(_l("Inbox"), "inbox.index", DESK),
    NavItem(_l("Orders"), "orders.desk", DESK, count="orders_waiting"),
    NavItem(_l("Tasks"), "tasks.board", DESK),
    NavItem(_l("Order e-mails"), "email_intake.queue", DESK),
    NavItem(_l("Planning"), "planning.board", DESK),
    NavItem(_l("My day"), "mobile.today", (Role.TECHNICIAN, Role.TEAM_LEAD, Role.ADMIN)),
    NavItem(_l("Analytics"), "analytics.index", (Role.MANAGER, Role.ADMIN)),
    NavItem(_l("Templates"), "message_templates.index", (Role.ADMIN,), "admin"),
    NavItem(_l("Channels"), "channels_admin.index", (Role.ADMIN,), "admin"),
    NavItem(_l("Mailboxes"), "outlook_mailboxes.index", (Role.ADMIN,), "admin"),
    NavItem(_l("Assignment"), "assignment_admin.index", (Role.ADMIN,), "admin"),
    NavItem(_l("Service levels"), "sla_admin.index", (Role.ADMIN,), "admin"),
    NavItem(_l("Partners"), "partners.index", (Role.ADMIN,), "admin"),
    NavItem(_l("Integrations"), "integrations.index", (Role.ADMIN,), "admin"),
    NavItem(_l("Forms"), "intake_forms.index", (Role.ADMIN,), "admin"),
    NavItem(_l("Events"), "webhook_events.index", (Role.ADMIN,), "admin"),
    NavItem(_l("Users"), "admin.users", (Role.ADMIN,), "admin"),
    NavItem(_l("API tokens"), "api_tokens.index", (Role.ADMIN,), "admin"),
    NavItem(_l("Audit log"), "admin.audit", (Role.ADMIN,), "admin"),
    NavItem(_l("Job queues"), "queues_admin.index", (Role.ADMIN,), "admin"),
    NavItem(_l("Privacy"), "gdpr.search", (Role.ADMIN,), "admin"),
)

# What a menu item's count means, read out and shown on hover.
NAV_COUNT_TITLES = {
    "orders_waiting": _l("Orders to review or approve"),
}

AVAILABILITY_LABELS = {
    "available": _l("available"),
    "busy": _l("busy"),
    "away": _l("away"),
    "offline": _l("offline"),
}

ROLE_LABELS = {
    Role.AGENT: _l("Agent"),
    Role.TECHNICIAN: _l("Technician"),
    Role.TEAM_LEAD: _l("Team lead"),
    Role.MANAGER: _l("Manager"),
    Role.ADMIN: _l("Admin"),
    Role.PARTNER: _l("Partner"),
}


def status_label(value) -> str:
    """A thread status as people read it ("waiting customer"); the value stays English."""
    return system_label("status", value).render()


def priority_label(value) -> str:
    return system_label("priority", value).render()


def order_status_label(value) -> str:
    return system_label("order_status", value).render()


CHANNEL_LABELS = {
    "email_outlook": _l("E-mail"),
    "whatsapp_business": "WhatsApp",  # a brand: the same in every language
    "sms": "SMS",
    "internal_comment": _l("Note"),
    "internal_task": _l("Task"),
    "internal_ticket": _l("Ticket"),
    "phone_call": _l("Phone"),
}


def channel_choice(channel) -> str:
    """A channel as a choice: its type and name ("E-mail · Outlook klantenservice"), the
    name alone when it already says the type ("WhatsApp Business", not "WhatsApp ·
    WhatsApp Business")."""
    kind = str(CHANNEL_LABELS.get(channel.channel_type.value, channel.channel_type.value))
    name = channel.channel_name or ""
    if kind.casefold() in name.casefold():
        return name
    return f"{kind} · {name}" if name else kind


# Staff work in the Netherlands: show times there, whatever the server's zone.
DISPLAY_ZONE = ZoneInfo("Europe/Amsterdam")


# Pages ask for a layout in strftime's terms ("%a %d %b %H:%M"); each directive
# becomes the CLDR field Babel writes in the reader's language ("zo 22 nov 14:05"
# in Dutch, "Sun 22 Nov 14:05" in English). Layout stays the page's choice.
_CLDR_FIELDS = {
    "a": "EEE",
    "A": "EEEE",
    "b": "MMM",
    "B": "MMMM",
    "d": "dd",
    "m": "MM",
    "y": "yy",
    "Y": "y",
    "H": "HH",
    "M": "mm",
    "S": "ss",
    "%": "%",
}
_DIRECTIVE = re.compile(r"%(.)|([^%]+)")


@lru_cache(maxsize=64)
def cldr_pattern(fmt: str) -> str:
    """A strftime layout as a CLDR pattern; literal text is quoted (a few layouts, kept)."""
    pattern = []
    for directive, literal in _DIRECTIVE.findall(fmt):
        if literal:
            pattern.append("'" + literal.replace("'", "''") + "'" if literal.strip() else literal)
        elif directive in _CLDR_FIELDS:
            pattern.append(_CLDR_FIELDS[directive])
        else:
            raise ValueError(f"no locale-aware form of %{directive} in {fmt!r}")
    return "".join(pattern)


def display_locale():
    """The locale dates and numbers are written in: the reader's (or a forced one)."""
    return get_locale() or current_app.config.get("BABEL_DEFAULT_LOCALE") or "en"


def local_time(value: datetime | None, fmt: str = "%d %b %H:%M") -> str:
    """A UTC timestamp in Amsterdam time, in the reader's language ("22 nov 14:05")."""
    if value is None:
        return ""
    return format_datetime(
        value, cldr_pattern(fmt), tzinfo=DISPLAY_ZONE, locale=display_locale()
    )


def local_date(value: date | None, fmt: str = "%d %b %Y") -> str:
    """A calendar day (no time zone) in the reader's language ("di 04 mrt 2025")."""
    if value is None:
        return ""
    return format_date(value, cldr_pattern(fmt), locale=display_locale())


def local_number(value: float | int | None, decimals: int = 0) -> str:
    """A number with the reader's separators ("1.234,5" in Dutch, "1,234.5" in English)."""
    if value is None:
        return ""
    if decimals == 0 and type(value) is int and value >= 0:
        # What babel writes for "#,##0" (groups of three whatever the locale), without
        # its pattern parsing and Decimal rounding: a year of analytics shows ~500
        # counts, and babel took ~0.1 ms each.
        return f"{value:,}".replace(",", group_symbol(str(display_locale())))
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(value, pattern, locale=display_locale())


def local_money(
    value: float | int | Decimal | None,
    currency: str | None = "EUR",
    *,
    locale: str | None = None,
) -> str:
    """An amount as the reader writes money ("€ 1.234,50" in Dutch, "€1,234.50" in
    English): the one way every page, e-mail and message shows money, so no text
    reads "EUR 0,00" beside "€ 0.00". Babel puts a no-break space after the sign, so
    "€" never ends a line.

    ``locale`` is the reader's language when the reader is not the one signed in
    (a customer's message, a partner's e-mail); the page's own otherwise.
    """
    if value is None:
        return ""
    reader = _known_locale(locale.strip()) if locale else None
    return format_currency(value, (currency or "EUR").upper(), locale=reader or display_locale())


@lru_cache(maxsize=32)
def _known_locale(code: str) -> Locale | None:
    """A stored language code ("nl", "en-US", a template's free text) as Babel's locale;
    None for one Babel does not know, which is then read in the page's language."""
    try:
        return Locale.parse(code.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return None


@lru_cache(maxsize=32)
def group_symbol(locale: str) -> str:
    """The locale's thousands separator ("." in Dutch, "," in English)."""
    return get_group_symbol(locale)


def local_percent(value: float | None, decimals: int = 1) -> str:
    """A percentage given as 0–100, with the reader's decimal sign ("92,5 %")."""
    if value is None:
        return ""
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "") + " %"
    return format_percent(value / 100, pattern, locale=display_locale())


# Ticks on outbound messages: (symbol, words for screen readers and the title).
DELIVERY_TICKS = {
    "pending": ("\u25f7", _l("Sending")),
    "sent": ("\u2713", _l("Sent")),
    "delivered": ("\u2713\u2713", _l("Delivered")),
    "read": ("\u2713\u2713", _l("Read")),
    "failed": ("\u2715", _l("Failed")),
    "bounced": ("\u2715", _l("Bounced")),
}


# Texts that static/js writes into the page, by key. base.html renders them, in the
# reader's language, as JSON in <body data-ui-texts> (the Content-Security-Policy
# allows no inline script), and static/js/i18n.js's t(key, params) reads them.
# Placeholders as in gettext.
SCRIPT_TEXTS = {
    "remove": _l("Remove"),
    "remove_file": _l("Remove %(name)s"),
    "approved_template": _l("Approved template"),
    "needs_fields": _l("Needs: %(fields)s"),
    "templates_menu": _l("Templates and canned responses"),
    "no_template_matches": _l("No template matches “%(query)s”"),
    "no_templates": _l("No templates for this channel"),
    "draft_saved": _l("Draft saved"),
    "draft_not_saved": _l("Draft not saved"),
    "insert_emoji": _l("Insert %(emoji)s"),
    "window_closes_soon": _l("Window closes in less than a minute"),
    "window_closes_hours": _l("Window closes in %(hours)s h %(minutes)s min"),
    "window_closes_minutes": _l("Window closes in %(minutes)s min"),
    "photo_too_big": _l("The photo is over the %(limit)s MB limit."),
    "notifications": _l("Notifications"),
    "notifications_unread": _l("Notifications, %(count)s unread"),
    "desktop_alerts_on": _l("Desktop alerts are on"),
    "desktop_alerts_blocked": _l("Desktop alerts are blocked"),
    # Read out by screen readers when a message arrives live (static/js/announce.js).
    "new_message": _l("New message"),
    "new_message_from": _l("New message from %(name)s"),
    "new_message_here": _l("New message in this conversation"),
    "new_message_here_from": _l("New message in this conversation from %(name)s"),
    "reply_held": _l("Your reply is being sent: you can undo it for %(seconds)s seconds."),
    # The notice of a message that arrived where the agent would not see it (arrivals.js).
    "view": _l("View"),
    "close": _l("Close"),
    # The technician's offline queue (static/js/mobile-offline.js).
    "queue_waiting": _l("Waiting for connection (%(count)s)"),
    "queue_sending": _l("Sending (%(count)s)…"),
    "queue_not_kept": _l("This phone could not keep the action: try again with a signal."),
    "queue_done": _l("Done: %(action)s"),
    "queue_refused": _l("Not processed: %(action)s — %(reason)s"),
    "queue_on_card": _l("Waiting for connection: %(count)s"),
    "queue_asks_again": _l("it needs your confirmation: tap it again on the card."),
    "queue_confirm_completed": _l(
        "%(action)s: mark completed? The partner and the customer are told once you have"
        " a connection again."
    ),
    "push_turn_on": _l("Turn on notifications"),
    "push_turn_off": _l("Turn off notifications"),
    "push_blocked": _l("Notifications are blocked in this browser"),
    # Moving a visit on the planning board by mouse or keyboard (static/js/board-move.js).
    "move_picked": _l(
        "%(order)s picked up: the arrow keys choose a technician and day, Enter puts it"
        " there, Escape stops."
    ),
    "move_here": _l("%(cell)s: where it is now"),
    "move_stays": _l("%(order)s stays where it was."),
    "move_saving": _l("Moving %(order)s to %(cell)s…"),
    "move_refused": _l("%(order)s was not moved. %(reason)s"),
    "move_ask": _l("%(reason)s Plan anyway?"),
    "move_failed": _l("The move did not reach the server. Check the connection and try again."),
}


# SCRIPT_TEXTS as read from each catalogue (a language's translations), made once.
_SCRIPT_TEXTS_READ: WeakKeyDictionary = WeakKeyDictionary()


def script_texts() -> dict[str, str]:
    """:data:`SCRIPT_TEXTS` in the reader's language, ready for ``tojson``.

    Every page carries them (``data-ui-texts`` in base.html): looked up text by text,
    ~75 of them, they took 1.3 ms of every page's rendering. A text depends only on
    the catalogue it is read from, so each catalogue's are read once.
    """
    catalogue = get_domain().get_translations()
    texts = _SCRIPT_TEXTS_READ.get(catalogue)
    if texts is None:
        texts = {key: str(value) for key, value in SCRIPT_TEXTS.items()}
        _SCRIPT_TEXTS_READ[catalogue] = texts
    return dict(texts)


def register_nav_count(app: Flask, name: str, count: Callable[[], str]) -> None:
    """Let a menu item show ``count()`` beside its label (``NavItem.count == name``).

    Features register their own, so this module imports none of them.
    """
    app.extensions.setdefault("nav_counts", {})[name] = count


def nav_count(item: NavItem) -> str:
    """The count beside ``item`` as shown ("12", "999+"); "" for none."""
    count = current_app.extensions.get("nav_counts", {}).get(item.count)
    return count() if item.count and count else ""


def navigation_for(user) -> list[NavItem]:
    if not user.is_authenticated:
        return []
    return [item for item in NAVIGATION if user.role in item.roles]


# The mark and a duration ("📞 4:12"), so a customer's own "📞 call me" is left alone.
_CALL_PREVIEW = re.compile(re.escape(CALL_PREVIEW_MARK) + r" \d{1,2}(?::\d{2}){1,2}(?: · |$)")


def message_preview(text: str | None) -> str:
    """A thread's stored preview as the reader sees it.

    A logged call's preview is stored without words ("📞 4:12 · notes") and
    gets "Phone call" in the reader's language here ("📞 Telefoongesprek 4:12 · notes").
    """
    text = text or ""
    if _CALL_PREVIEW.match(text):
        mark = CALL_PREVIEW_MARK + " "
        word = _l("Phone call")
        return f"{mark}{word} {text[len(mark):]}"
    return text


# An erased person's contact and conversations keep an English placeholder (stored
# for the API and search); staff read it in their own language.
ERASED_NAME_LABEL = _l("Erased contact")
ERASED_SUBJECT_LABEL = _l("Erased conversation")


def contact_name(contact) -> str:
    """A contact's name as staff read it: an erased person is "Gewist contact" in Dutch."""
    if contact is None:
        return ""
    if contact.erased_at is not None and contact.display_name == ERASED_CONTACT_NAME:
        return str(ERASED_NAME_LABEL)
    return contact.display_name


def thread_subject(thread) -> str:
    """A conversation's subject as staff read it (an erased one's in their language)."""
    if thread.thread_subject == ERASED_THREAD_SUBJECT:
        return str(ERASED_SUBJECT_LABEL)
    return thread.thread_subject


def register_template_helpers(app: Flask) -> None:
    app.add_template_filter(message_preview, "message_preview")
    app.add_template_filter(contact_name, "contact_name")
    app.add_template_filter(thread_subject, "thread_subject")
    app.add_template_filter(channel_choice, "channel_choice")
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(local_date, "local_date")
    app.add_template_filter(local_number, "local_number")
    app.add_template_filter(local_percent, "local_percent")
    app.add_template_filter(local_money, "money")
    app.add_template_filter(status_label, "status_label")
    app.add_template_filter(priority_label, "priority_label")
    app.add_template_filter(order_status_label, "order_status_label")

    @app.context_processor
    def layout_context():
        return {
            "nav_items": navigation_for(current_user),
            "active_endpoint": request.endpoint,
            "role_labels": ROLE_LABELS,
            "availability_labels": AVAILABILITY_LABELS,
            "channel_labels": CHANNEL_LABELS,
            "delivery_ticks": DELIVERY_TICKS,
            "url_endpoints": current_app.view_functions,
            "script_texts": script_texts,
            "nav_count": nav_count,
            "nav_count_title": NAV_COUNT_TITLES,
        }


def no_store(response):
    """Mark a page that shows a fresh key or secret as never to be cached."""
    response.headers["Cache-Control"] = "no-store"
    return response
