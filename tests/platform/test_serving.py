"""app.platform.serving: a serving process keeps its start-up objects out of full collections."""

from __future__ import annotations

import gc

from app.platform.serving import YOUNG_GENERATION_THRESHOLD, settle_heap


def test_settling_freezes_what_start_built_and_collects_the_young_less_often(app):
    before = gc.get_threshold()
    try:
        settle_heap()
        assert gc.get_freeze_count() > 10_000  # the app, its routes and templates
        assert gc.get_threshold() == (YOUNG_GENERATION_THRESHOLD, *before[1:])
        # What requests leave behind is still collected.
        cycle = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
