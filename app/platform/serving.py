"""What a serving process does once its app is built, before the first request."""

from __future__ import annotations

import gc

# Young objects collected every 7,000 allocations instead of 700: a page makes
# tens of thousands of short-lived objects, and each young collection costs
# ~0.25 ms (3 a page at 700; measured on the inbox page, about 1 ms a request).
YOUNG_GENERATION_THRESHOLD = 7000


def settle_heap() -> None:
    """Keep the objects built at start (app, routes, templates, catalogues) out of
    the garbage collector's full passes.

    A full collection walks every live object: ~250,000 after start, 150 ms of a
    request's time every hundred or so requests (the inbox's slowest requests).
    Frozen, those are skipped; what requests leave behind is still collected.
    """
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, middle, old)
