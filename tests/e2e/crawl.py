"""Visit every page a role can open, once, and run checks on each.

``crawl(browser, role, check)`` signs ``role`` in (in Dutch, with the second factor
where the role has one), opens each of ``role.paths`` in one browser context and
calls ``check(page, url)``, which returns the problems it found on that page. Several
checks share one visit through :func:`combined`; ``dark=True`` crawls in the dark
colour scheme (for the accessibility check, tests/e2e/axe.py).

:func:`page_paths` lists the pages from the app's URL map: every GET rule with no
arguments, and the rules with arguments filled from ``values`` (ids of data the
test seeded, by argument name). A rule whose argument has no value is returned
as not covered, so a new page cannot slip past the crawl unnoticed.

:func:`english_words` is the Dutch check: the visible texts and the attributes
people read (title, placeholder, aria-label, alt), and the scripts' texts, must
not contain English words, nor numbers written the English way ("5.7 MB",
"100.0%", "7 h 01 min"). Left out: text a person wrote (``data-user-content``
in the templates, and what form fields hold), a program's or a provider's own
output (``samp``, ``code``, ``pre``, ``kbd``), identifiers (``translate="no"``, and
dotted or snake_case names such as ``customer.created``), a provider's English menu
path quoted in a help text ("Developers → Webhooks"), and passages marked in another
language (``lang``). The sign-in pages are not crawled (the crawl signs in through
them; tests/e2e/test_sign_in.py covers them).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from playwright.sync_api import Page

from tests.e2e.timeouts import ACTION_TIMEOUT_MS
from tests.support.helpers import PASSWORD, has_second_factor, second_factor_code

Check = Callable[[Page, str], list[str]]

# Not pages people read: the JSON API and its documentation (the partner guide is
# English on purpose: partners' developers read it), files and feeds, webhooks,
# sign-in hand-offs to other sites, health probes and metrics, JSON for scripts
# (/canned: the composer's template list, whose texts the composer page shows).
NOT_PAGES = re.compile(
    r"^/(api/|static/|metrics|healthz|readyz|favicon|login|logout|csat/|calendar/)"
    r"|\.(csv|md|json|ics|js|webmanifest)$|/oauth/|/attachments/|/portal/welcome/|/canned$"
    # A customer's photo: an image, not a page.
    r"|/customer-photos/<"
)
# Partials that show something only for a choice in their query string.
QUERIES = {
    "/threads/<thread_id>/template-preview": "template_id",
    "/threads/<uuid:thread_id>/merge/preview": "into",
}


@dataclass
class Role:
    """Who crawls: the account, the site, the pages and the screen."""

    name: str
    email: str
    base_url: str
    paths: list[str] = field(default_factory=list)
    viewport: dict = field(default_factory=lambda: {"width": 1440, "height": 900})
    phone: bool = False
    password: str = PASSWORD
    missing_ok: bool = False


def sign_in(page: Page, role: Role) -> None:
    """Through the form, fields found by name (not by their words); a code if needed."""
    page.goto(f"{role.base_url}/login")
    page.locator("input[name=email]").fill(role.email)
    page.locator("input[name=password]").fill(role.password)
    page.locator("form button[type=submit]").click()
    if has_second_factor(role.email):
        page.wait_for_url("**/login/verify")
        page.locator("input[name=code]").fill(second_factor_code(role.email))
        page.locator("form button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)


def page_paths(
    app, values: dict[str, str], keep: Callable[[str], bool]
) -> tuple[list[str], list[str]]:
    """(paths to visit, rules not covered) among the GET pages whose rule ``keep`` takes.

    ``values`` fills rule arguments by name (``thread_id``, ``key`` …).
    """
    paths, uncovered = [], []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in rule.methods or NOT_PAGES.search(rule.rule) or not keep(rule.rule):
            continue
        if not all(argument in values for argument in rule.arguments):
            uncovered.append(rule.rule)
            continue
        path = rule.rule
        for argument in rule.arguments:
            path = re.sub(rf"<(?:[^:<>]+:)?{argument}>", str(values[argument]), path)
        query = QUERIES.get(rule.rule)
        if query:
            if query not in values:
                uncovered.append(rule.rule)
                continue
            path += f"?{query}={values[query]}"
        paths.append(path)
    return paths, uncovered


def crawl(browser, role: Role, check: Check, dark: bool = False) -> list[str]:
    """Sign ``role`` in and run ``check`` on each of its pages; every problem found.

    A page answering 5xx is a problem too, and so is 404 unless ``role.missing_ok``
    (some pages answer 404 to a role that may not see the record); a page the role
    may not open (401/403) is not checked: its path list was wider than its rights.
    """
    context = browser.new_context(
        viewport=role.viewport,
        locale="nl-NL",
        is_mobile=role.phone,
        has_touch=role.phone,
        color_scheme="dark" if dark else "light",
    )
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    problems: list[str] = []
    try:
        sign_in(page, role)
        for path in role.paths:
            response = page.goto(f"{role.base_url}{path}", wait_until="domcontentloaded")
            status = response.status if response else 0
            if status in (401, 403) or (status == 404 and role.missing_ok):
                continue
            if status >= 400 or status == 0:
                problems.append(f"{path}: HTTP {status}")
                continue
            problems.extend(f"{path} {problem}" for problem in check(page, path))
    finally:
        context.close()
    return problems


def combined(*checks: Check) -> Check:
    """One check that runs ``checks`` in turn on the same visit."""

    def run(page: Page, url: str) -> list[str]:
        return [problem for one in checks for problem in one(page, url)]

    return run


# English words that are not Dutch words, so a Dutch page never has them unless
# English leaked in. Left out on purpose: words Dutch shares or borrows ("open",
# "team", "status", "order", "partner", "agent", "manager", "download", "feedback",
# "test", "live", "week", "in", "is", "of", "at", "here", "april", "september" …).
ENGLISH_WORDS = frozenset(
    """
    the and with from to your you please thanks thank welcome this that these those
    what when which who there where why how not are were has have will would
    can't don't won't isn't
    settings preferences save saved cancel delete deleted search new edit add added
    remove removed show hide back next previous more less all any none yes no
    sign signed signing password language theme light dark
    closed assigned unassigned resolved snoozed waiting pending escalated overdue due
    today yesterday tomorrow ago minutes minute hours hour days day weeks months year
    monday tuesday wednesday thursday friday saturday sunday
    january february march may june july august october
    mon tue wed thu fri sat sun mar oct
    attachment attachments error errors failed failure failing loading unknown
    unread read reply replies send sent sending message messages conversation
    conversations customer customers note notes task tasks priority high low normal
    invoice paid refund refunded retry retries rotate revoke issued key keys secret
    queue queued worker workers health healthy unhealthy success first
    everyone nobody someone something nothing never always only also every other
    call calls called phone user users role roles since until before after between
    merge merged moved kept filled field fields parent created changed updated enabled
    """.split()
)
ENGLISH_CASED = frozenset({"AM", "PM"})

# Names and fixed phrases shown as they are, each for a reason:
ALLOWED_PHRASES = (
    # Products and providers: their names are not translated.
    "Make.com",
    "Microsoft Authenticator",
    "Google Authenticator",
    "Standard Webhooks",
    "Microsoft Teams",
)
# Addresses, and identifiers people match against other systems rather than read:
# dotted names (customer.created, worker.py, contact.phone) and snake_case
# (customer_name, first_name).
# A menu path in a provider's own (English) interface, quoted for the reader to find
# there as written: "Developer Console → uw app → Webhooks → Signature key".
MENU_PATH = re.compile(r"(?:[\w-]+(?: [\w-]+){0,2} → )+[\w-]+(?: [\w-]+){0,2}")
# Addresses, dotted and snake_case names, and record ids: a random id such as
# "…-4c14-add0-…" is not the English word "add".
ADDRESSES = re.compile(
    r"\S+@\S+|https?://\S+|\b\w+(?:\.\w+)+\b|\b\w+_\w+\b"
    r"|\b[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\b"
)
WORD = re.compile(r"(?<!\w)[A-Za-z][A-Za-z']*")  # "1Password" is a name, not "password"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")  # the scripts' texts carry their names
# Numbers written the English way: a decimal point before a unit ("5.7 MB", "100.0%")
# and the English hour ("7 h 01 min"), where Dutch writes "5,7 MB", "100,0 %" and
# "7 u 01 min". A Dutch thousands separator has three digits after it ("1.184 %").
ENGLISH_NUMBERS = re.compile(r"\b\d+\.\d{1,2}(?!\d)\s?(?:%|[KMG]B\b)|\b\d+ h\b")

EXTRACT_TEXTS = """
() => {
  const skip = 'script, style, template, noscript, code, pre, kbd, samp, svg, textarea, '
    + '[data-user-content], [translate="no"], [lang]:not([lang|="nl"])';
  const where = (el) => el.tagName.toLowerCase()
    + (el.dataset.testid ? `[data-testid=${el.dataset.testid}]` : '')
    + (el.id ? `#${el.id}` : '')
    + (!el.id && !el.dataset.testid && el.classList.length ? `.${el.classList[0]}` : '');
  const found = [['title', document.title]];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    const text = walker.currentNode.nodeValue.trim();
    if (text && el && !el.closest(skip)) found.push([where(el), text]);
  }
  const named = '[title], [placeholder], [aria-label], [alt], '
    + 'input[type=submit], input[type=button]';
  for (const el of document.querySelectorAll(named)) {
    if (el.closest(skip)) continue;
    for (const name of ['title', 'placeholder', 'aria-label', 'alt', 'value']) {
      const button = el.tagName === 'INPUT' && ['submit', 'button'].includes(el.type);
      if (name === 'value' && !button) continue;  // a field's value is what was typed
      const value = el.getAttribute(name);
      if (value) found.push([`${where(el)}@${name}`, value]);
    }
  }
  const scripts = document.body.dataset.uiTexts;
  if (scripts) {
    for (const [key, value] of Object.entries(JSON.parse(scripts))) {
      found.push([`script text ${key}`, String(value)]);
    }
  }
  // An htmx partial opened on its own has no <head> and no lang: its texts count.
  const fragment = document.head.children.length === 0;
  return {lang: fragment ? 'nl' : document.documentElement.lang, texts: found};
}
"""


def english_in(text: str) -> list[str]:
    """The English words and number formats in ``text`` (names, addresses and allowed
    phrases left out)."""
    numbers = ENGLISH_NUMBERS.findall(text)  # first: "5.7" reads as a dotted name below
    for phrase in ALLOWED_PHRASES:
        text = text.replace(phrase, " ")
    text = MENU_PATH.sub(" ", ADDRESSES.sub(" ", text))
    words = WORD.findall(PLACEHOLDER.sub(" ", text))
    return [w for w in words if w.lower() in ENGLISH_WORDS or w in ENGLISH_CASED] + numbers


def english_words(page: Page, url: str) -> list[str]:
    """The Dutch check: the page is ``lang="nl"`` and no text on it is English."""
    found = page.evaluate(EXTRACT_TEXTS)
    if found["lang"] != "nl":
        return [f'is in language "{found["lang"]}", not nl']
    problems = []
    for where, text in found["texts"]:
        words = english_in(text)
        if words:
            problems.append(f"{where}: {', '.join(words)} in “{_short(text)}”")
    return problems


def _short(text: str, size: int = 140) -> str:
    text = " ".join(text.split())
    return text if len(text) <= size else text[: size - 1] + "…"


def report(problems: Iterable[str]) -> str:
    return "\n".join(problems)
