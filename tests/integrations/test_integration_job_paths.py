"""The integration hub's jobs are named through its groups, and older job names still run."""

from __future__ import annotations

import pytest
from rq.utils import import_attribute

from app.integrations import FEATURE
from app.integrations.sync import RUN_SYNC, run_sync
from app.integrations.work_orders import CLOSE_WORK_ORDER, close_work_order

# Job names enqueued before the hub was grouped: jobs may wait in Redis,
# or for a retry, under these when a deployment moves the code.
NAMES_BEFORE_THE_GROUPS = (
    "app.integrations.sync.run_sync",
    "app.integrations.sync.run_scheduled_syncs",
    "app.integrations.sync.resume_stalled_syncs",
    "app.integrations.work_order_close.close_work_order",
    "app.integrations.tokens.refresh_expiring_tokens",
    "app.integrations.health.scheduled_health_checks",
    "app.integrations.usage.flush_usage",
)


def test_jobs_are_named_through_a_group_never_a_file_inside_one():
    assert import_attribute(RUN_SYNC) is run_sync
    assert import_attribute(CLOSE_WORK_ORDER) is close_work_order
    paths = [RUN_SYNC, CLOSE_WORK_ORDER] + [job.func_path for job in FEATURE.periodic_jobs]
    for path in paths:
        # app.integrations.<group or top-level module>.<function>
        assert path.count(".") == 3, path
        assert callable(import_attribute(path)), path


@pytest.mark.parametrize("path", NAMES_BEFORE_THE_GROUPS)
def test_a_job_queued_under_an_older_name_still_finds_its_function(path):
    function = import_attribute(path)
    assert callable(function) and function.__name__ == path.rpartition(".")[2]
