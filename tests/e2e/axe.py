"""axe-core in a browser test: the serious and critical WCAG 2.1 A/AA violations of a page.

axe-core is vendored beside this module (``vendor/axe-<version>.min.js``, from the
npm registry, see static/vendor/VERSIONS.md); it is a test tool and never served.
It is evaluated through Playwright's ``evaluate``, which the DevTools protocol runs
outside the page's Content-Security-Policy, so the page's own policy (no inline
script, no eval) stays as strict under test as in production.
"""

from __future__ import annotations

from pathlib import Path

AXE_VERSION = "4.14.1"
AXE_SOURCE = Path(__file__).with_name("vendor") / f"axe-{AXE_VERSION}.min.js"

# WCAG 2.0 and 2.1, levels A and AA: what the app promises. best-practice adds
# rules such as "one main landmark" and "headings in order" at little extra cost.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
FAILING_IMPACTS = {"serious", "critical"}
TARGETS_SHOWN = 3

_source: str | None = None

# preload off: axe would otherwise fetch every stylesheet of the page again, on
# every run, for one rule (css-orientation-lock, WCAG 1.3.4) that then reports
# "incomplete" instead; our stylesheets lock no orientation (no "orientation"
# media query in static/css).
_RUN = """async ([runOnly, impacts]) => {
  const results = await window.axe.run(document, {
    runOnly, resultTypes: ["violations"], preload: false,
  });
  return results.violations
    .filter((rule) => impacts.includes(rule.impact))
    .map((rule) => ({
      id: rule.id,
      impact: rule.impact,
      help: rule.help,
      targets: rule.nodes.map((node) => node.target.join(" ")),
      summary: rule.nodes.length ? rule.nodes[0].failureSummary : "",
    }));
}"""


def _axe_source() -> str:
    global _source
    if _source is None:
        _source = AXE_SOURCE.read_text(encoding="utf-8")
    return _source


def load_axe_on_every_page(context) -> None:
    """Have axe-core evaluated in the top document of every page ``context`` loads,
    before the page's own scripts, so :func:`axe_violations` finds it there.

    Otherwise each page is sent the 650 kB source through Playwright and compiles it
    afresh: 75-100 ms a page, measured (87 pages in tests/e2e/test_accessibility.py);
    an init script costs a page 5-20 ms (the browser keeps it, and keeps it compiled).
    Frames are left without it, as :func:`axe_violations` leaves them: the same
    rules see the same document.
    """
    context.add_init_script("if (window === window.top) {\n" + _axe_source() + "\n}")


def axe_violations(page, rules: list[str] | None = None) -> list[str]:
    """The page's serious and critical violations, one readable line each (none: ``[]``).

    Each line names the rule, its impact and help text, how many elements fail
    and the first few of them as CSS selectors, plus what axe says would fix the
    first one. Runs on the page as it is now: wait for it to settle first.
    ``rules`` runs only those axe rules (``["color-contrast"]`` after switching
    the page to its dark colours, say) instead of every WCAG 2.1 A/AA rule.
    """
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    run_only = {"type": "rule", "values": rules} if rules else {"type": "tag", "values": TAGS}
    found = page.evaluate(_RUN, [run_only, sorted(FAILING_IMPACTS)])
    lines = []
    for rule in found:
        targets = rule["targets"]
        shown = ", ".join(targets[:TARGETS_SHOWN])
        more = f" (+{len(targets) - TARGETS_SHOWN} more)" if len(targets) > TARGETS_SHOWN else ""
        fix = " ".join(rule["summary"].split())
        lines.append(
            f"{rule['id']} ({rule['impact']}): {rule['help']}; "
            f"{len(targets)}x: {shown}{more}; {fix}"
        )
    return lines
