"""Moving through a page with the keyboard alone, as a browser test does it."""

from __future__ import annotations

# More stops than any of our pages has before what a test looks for; reaching
# the limit means the element is not reachable (or focus is trapped before it).
TAB_LIMIT = 150


def tab_to(page, selector: str, backwards: bool = False) -> int:
    """Press Tab (Shift+Tab) until the focused element matches ``selector``; the presses."""
    key = "Shift+Tab" if backwards else "Tab"
    for presses in range(TAB_LIMIT):
        if page.evaluate(
            "s => !!document.activeElement && document.activeElement.matches(s)", selector
        ):
            return presses
        page.keyboard.press(key)
    focused = page.evaluate("() => document.activeElement && document.activeElement.outerHTML")
    raise AssertionError(
        f"{TAB_LIMIT} presses of {key} never reached {selector}; focus is on {focused[:200]}"
    )
