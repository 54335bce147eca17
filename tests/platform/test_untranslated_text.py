"""No interface text outside the catalogue.

The rule, for every ``templates/**/*.html``:

1. The template is split by Jinja's own lexer. Only its ``data`` tokens, the
   literal text outside ``{{ }}``, ``{% %}`` and ``{# #}``, are the template's own
   words; whatever an expression prints (``{{ _("Save") }}``, a customer's name)
   is not checked here, and the text between ``{% trans %}`` and
   ``{% endtrans %}`` is in the catalogue by construction.
2. Those literal pieces are put back together, every Jinja construct replaced by
   a mark with no letters in it, and read with :mod:`html.parser`. Checked are
   (a) text nodes, except inside ``<script>``/``<style>`` (not shown) and
   ``<code>``/``<pre>``/``<kbd>``/``<samp>`` (code and keys, the same in every
   language), and (b) the values of the attributes people read or hear:
   ``placeholder``, ``title``, ``aria-label``, ``alt``, ``hx-confirm``, and
   ``value`` of ``<input type="submit|button|reset">``.
3. Such a text is untranslated when it has a word (a run of letters) that is not
   in :data:`ALLOWED_WORDS`: names that are the same in Dutch and English.

Every offender is listed as ``file:line: text`` in the failure message.

The second test renders the pages a Dutch agent, manager and technician use
and looks for common English interface words in what they see.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import Environment

from app.platform.extensions import db
from app.platform.models.enums import ChannelType
from tests.support import factories
from tests.support.helpers import AuthActions

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"

# Words that are not translated: product and brand names, and abbreviations
# Dutch uses as they are. Keep it short; anything else goes through _().
ALLOWED_WORDS = frozenset(
    {
        "Switchboard",  # our product
        "ChargeCars",  # the customer
        "WhatsApp",
        "Microsoft",
        "Outlook",
        "Teams",
        "HubSpot",
        "SLA",  # service level agreement: used as such in Dutch
        "CSAT",  # customer satisfaction score
        # Abbreviations and units written the same in Dutch.
        "SMS",
        "API",
        "HTTP",
        "URL",
        "MB",
        "ms",
        "https",  # the URL scheme, as a placeholder shows it
        # A language's own name for itself, in a language choice: never translated.
        "Nederlands",
        "English",
    }
)
CHECKED_ATTRIBUTES = frozenset({"placeholder", "title", "aria-label", "alt", "hx-confirm"})
BUTTON_INPUTS = frozenset({"submit", "button", "reset"})
NOT_SHOWN = frozenset({"script", "style"})
CODE = frozenset({"code", "pre", "kbd", "samp"})
# Blocks whose text base.html puts in an attribute, not on the page.
ATTRIBUTE_BLOCKS = (["main_class"],)
# A macro that prints attributes (aria-invalid="true" …) is markup, not prose.
ONLY_ATTRIBUTES = re.compile(r'^(\s*[\w:-]+="[^"]*")+\s*$')
# Stands for a Jinja construct: private use, so no letter and no markup.
MARK = "\ue000"
WORD = re.compile(r"[^\W\d_]+")


def untranslated_at(text: str) -> int | None:
    """Where the first word of ``text`` that needs a translation starts, or None.

    Each piece between Jinja constructs is judged apart: a piece that is only
    ``name="value"`` pairs is a macro printing attributes, markup and not prose.
    """
    if ONLY_ATTRIBUTES.match(text.replace(MARK, "")):
        return None
    start = 0
    for piece in text.split(MARK):
        if not ONLY_ATTRIBUTES.match(piece):
            for word in WORD.finditer(piece):
                if word.group() not in ALLOWED_WORDS:
                    return start + word.start()
        start += len(piece) + len(MARK)
    return None


def literal_html(source: str, env: Environment) -> str:
    """The template with each Jinja construct replaced by :data:`MARK`, lines kept.

    Literal text that is not prose is masked too: inside ``{% trans %}`` (in the
    catalogue) and inside the blocks of :data:`ATTRIBUTE_BLOCKS` (a CSS class).
    """
    out: list[str] = []
    line = 1
    masked = False
    tag: list[str] | None = None  # the names in the {% … %} being read
    for lineno, kind, value in env.lex(source):
        if kind == "block_begin":
            tag = []
            out.append(MARK)
        elif kind == "block_end" and tag is not None:
            if tag[:1] == ["trans"] or tag[:1] == ["block"] and tag[1:2] in ATTRIBUTE_BLOCKS:
                masked = True
            elif tag[:1] in (["endtrans"], ["endblock"]):
                masked = False
            tag = None
        elif kind == "name" and tag is not None:
            tag.append(value)
        elif kind in ("variable_begin", "comment_begin"):
            out.append(MARK)
        if kind != "data":
            continue
        if lineno > line:  # keep html.parser's line numbers those of the file
            out.append("\n" * (lineno - line))
            line = lineno
        out.append(MARK + "\n" * value.count("\n") if masked else value)
        line += value.count("\n")
    return "".join(out)


class _Offenders(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hidden_depth = 0
        self.found: list[tuple[int, str]] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attrs:
            checked = name in CHECKED_ATTRIBUTES or (
                name == "value"
                and tag == "input"
                and (attributes.get("type") or "").lower() in BUTTON_INPUTS
            )
            if checked and value and untranslated_at(value) is not None:
                self._offend(f'{name}="{value}"')
        if tag in NOT_SHOWN or tag in CODE:
            self.hidden_depth += 1

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in NOT_SHOWN or tag in CODE:
            self.hidden_depth -= 1

    def handle_endtag(self, tag):
        if (tag in NOT_SHOWN or tag in CODE) and self.hidden_depth:
            self.hidden_depth -= 1

    def handle_data(self, data):
        at = None if self.hidden_depth else untranslated_at(data)
        if at is not None:  # reported at the line of that word, not of the node's start
            self._offend(data, data[:at].count("\n"))

    def _offend(self, text: str, lines_in: int = 0) -> None:
        shown = " ".join(text.replace(MARK, "{…}").split())
        self.found.append((self.getpos()[0] + lines_in, shown))


def offenders_in(path: Path, env: Environment) -> list[str]:
    parser = _Offenders()
    parser.feed(literal_html(path.read_text(encoding="utf-8"), env))
    parser.close()
    name = path.relative_to(TEMPLATES.parent)
    return [f"{name}:{line}: {text}" for line, text in parser.found]


def test_the_rule_reads_templates_as_meant():
    """The checker itself: what it flags and what it lets through."""
    env = Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
    source = (
        '<h1>{{ _("Inbox") }}</h1>\n'
        "<p>Open {{ count }} threads</p>\n"
        '<input type="submit" value="Save"> <input name="q" value="free text">\n'
        '<a title="{{ _(\'Help\') }}" aria-label="Close">×</a>\n'
        "{% trans %}Hello {{ name }}{% endtrans %} <b>WhatsApp · SLA</b>\n"
        "<script>const label = 'not shown';</script><kbd>r</kbd>{# a comment #}\n"
        "{% block main_class %}login-page{% endblock %}\n"
        '{% macro invalid() %}aria-invalid="true"{% endmacro %}\n'
        "\n  Last line\n"
    )
    parser = _Offenders()
    parser.feed(literal_html(source, env))
    assert [(line, text) for line, text in parser.found] == [
        (2, "Open {…} threads"),
        (3, 'value="Save"'),
        (4, 'aria-label="Close"'),
        (10, '{…} {…}{…}{…} {…}aria-invalid="true"{…} Last line'),
    ]


def test_no_template_has_text_outside_the_catalogue(app):
    env = app.jinja_env  # the app's own delimiters and extensions
    offenders = [
        line for path in sorted(TEMPLATES.rglob("*.html")) for line in offenders_in(path, env)
    ]
    assert not offenders, (
        f"{len(offenders)} texts in templates are not in the catalogue; wrap them in "
        '{{ _("…") }} (tests/platform/test_untranslated_text.py has the rule):\n'
        + "\n".join(offenders)
    )


# --- a Dutch user's pages -----------------------------------------------------------

# English interface words that have a Dutch translation in the catalogue; none may
# reach a Dutch user's screen. Whole words, case-sensitive (customer data is Dutch).
ENGLISH_WORDS = (
    "Sign out",
    "Settings",
    "Search",
    "Reply",
    "Assign",
    "Assigned",
    "Unassigned",
    "Priority",
    "Save",
    "Tasks",
    "Overdue",
    "Customer",
    "Send",
    "Internal note",
    "Due",
    "Analytics",
    "Preferences",
    "My day",
)


class _Shown(HTMLParser):
    """What a person sees or hears of a page: text and the checked attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hidden_depth = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value and (name in CHECKED_ATTRIBUTES or name == "value" and tag == "input"):
                self.parts.append(value)
        if tag in NOT_SHOWN:
            self.hidden_depth += 1

    def handle_endtag(self, tag):
        if tag in NOT_SHOWN and self.hidden_depth:
            self.hidden_depth -= 1

    def handle_data(self, data):
        if not self.hidden_depth:
            self.parts.append(data)


def english_words_shown(html: str) -> list[str]:
    parser = _Shown()
    parser.feed(html)
    text = " ".join(" ".join(parser.parts).split())
    return [word for word in ENGLISH_WORDS if re.search(rf"\b{re.escape(word)}\b", text)]


@pytest.fixture
def dutch_pages(make_user):
    """A Dutch agent, manager and technician, and a conversation to open."""
    agent = make_user("agent", language="nl")
    manager = make_user("manager", language="nl")
    technician = make_user("technician", language="nl")
    whatsapp = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    contact = factories.contact(display_name="Jan Jansen", phone="+31612345678")
    thread = factories.thread(
        whatsapp, contact, thread_subject="Laadpaal", assigned_to_user_id=agent.id
    )
    factories.message(thread, "Hallo, mijn laadpaal doet het niet", sender_contact_id=contact.id)
    db.session.commit()
    return {
        agent.email: ["/inbox", f"/threads/{thread.id}", "/tasks", "/settings/preferences"],
        manager.email: ["/analytics"],
        technician.email: ["/m/"],
    }


def test_a_dutch_user_sees_no_english_interface_words(app, dutch_pages):
    found = []
    for email, paths in dutch_pages.items():
        client = app.test_client()
        AuthActions(client).login(email)
        for path in paths:
            response = client.get(path, follow_redirects=True)
            assert response.status_code == 200, path
            html = response.get_data(as_text=True)
            assert '<html lang="nl">' in html, path
            found += [f"{path}: {word}" for word in english_words_shown(html)]
    assert not found, "English on a Dutch user's pages:\n" + "\n".join(found)


# --- an order made through the partner API, followed to completion ------------------

# What a walk through the order page saw in English or as stored on a Dutch order page.
ORDER_ENGLISH = (
    "morning",
    "installation",
    "No article is mapped",
    "created_via_api",
    "partner_callback",
    "delivered",
    "Order created via partner API",
    "Visit planned for",
    "Visit started on site",
    "Visit completed on site",
    "Installation started",
    "Installation completed",
    "address service unavailable",
    "ConnectionError",
    "True",
    "Partner references",
)


def order_english_shown(html: str) -> list[str]:
    parser = _Shown()
    parser.feed(html)
    text = " ".join(" ".join(parser.parts).split())
    words = ENGLISH_WORDS + ORDER_ENGLISH
    return [word for word in words if re.search(rf"\b{re.escape(word)}\b", text)]


def test_a_dutch_desk_and_partner_read_an_api_order_in_dutch(app, make_user):
    """An order posted through the partner API (PDOK unreachable, SKUs unmapped), planned
    by a Dutch planner, started and completed on the phone: its order page, planning
    section and the partner portal's order page show no English and no stored values."""
    from datetime import date, timedelta

    import sqlalchemy as sa

    from app.orders.core.status_engine import change_entity_status
    from app.orders.mobile.visits import complete_visit, start_visit
    from app.platform.models import Order
    from app.platform.models.enums import OrderStatus
    from app.platform.transactions import commit
    from tests.support.helpers import csrf_token_from, enroll_two_factor
    from tests.support.partner_support import line_items_order, make_partner

    partner = make_partner("Groendus", webhook_url="https://groendus.example/hooks")
    api = app.test_client()
    made = api.post(
        f"/api/v1/partners/{partner.id}/orders",
        json=line_items_order("GRO-NL-58"),
        headers=partner.headers,
    )
    assert made.status_code == 201, made.get_json()
    order = db.session.scalar(sa.select(Order).where(Order.partner_order_id == "GRO-NL-58"))
    planner = make_user("team_lead", language="nl")
    technician = make_user("technician", language="nl")
    partner_user = make_user(
        "partner", partner_organization_id=partner.organization.id, language="nl"
    )
    enroll_two_factor(partner_user)
    change_entity_status(order, OrderStatus.APPROVED, actor=planner)
    commit()

    desk = app.test_client()
    AuthActions(desk).login(planner.email)
    day = date.today() + timedelta(days=9)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    token = csrf_token_from(desk.get("/planning/").get_data(as_text=True))
    planned = desk.post(
        f"/planning/orders/{order.order_number}",
        data={
            "date": day.isoformat(),
            "window_start": "08:00",
            "window_end": "12:00",
            "technician_ids": [str(technician.id)],
            "duration_minutes": "120",
            "override": "1",
            "csrf_token": token,
        },
    )
    assert planned.status_code in (200, 303), planned.get_data(as_text=True)[:2000]
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.status == OrderStatus.SCHEDULED
    planned_page = desk.get(f"/planning/orders/{order.order_number}", headers={"HX-Request": "1"})
    start_visit(order, technician)
    commit()
    complete_visit(order, technician)
    commit()

    portal = app.test_client()
    AuthActions(portal).login(partner_user.email)
    pages = {
        "planning section (planned)": planned_page,
        "order page": desk.get(f"/orders/{order.order_number}"),
        "planning section": desk.get(
            f"/planning/orders/{order.order_number}", headers={"HX-Request": "1"}
        ),
        "portal order page": portal.get(f"/portal/orders/{order.id}"),
    }
    found = []
    for name, response in pages.items():
        assert response.status_code == 200, name
        html = response.get_data(as_text=True)
        found += [f"{name}: {word}" for word in order_english_shown(html)]
    assert not found, "English or stored values on a Dutch order's pages:\n" + "\n".join(found)
    # The callbacks table had rows to read: their kind in Dutch.
    assert "terugmelding aan partner" in pages["order page"].get_data(as_text=True)
