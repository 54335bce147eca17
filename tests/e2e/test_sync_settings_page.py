"""Sync settings in a browser at 1440×900: an admin sets a HubSpot integration's sync
settings, and a sync job's page says where a resumed run stands.

A date that cannot be read is refused next to its field with the other fields
kept; a good one is saved and shown again. A failed job offers "Resume from
record 5" (four records done); a resumed one reads "Resumed at record 5 (run 2)".
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from playwright.sync_api import expect

from app.platform.extensions import db
from app.platform.models import Integration, SyncJob
from tests.e2e.test_sign_in import sign_in
from tests.support import factories

SHOTS = os.environ.get("SHOTS_DIR")


def test_admin_sets_sync_settings_and_sees_where_a_resumed_sync_stands(
    live_server, app, browser, make_user
):
    make_user("admin", email="beheer@switchboard.test")
    integration = factories.integration(
        "hubspot",
        credentials={"access_token": "t", "expires_at": time.time() + 3600},
        batch_size=50,
    )
    failed = SyncJob(
        integration_id=integration.id,
        object_type="contacts",
        direction="in",
        status="failed",
        total_records=4,
        processed=4,
        succeeded=4,
        cursor="504",
        runs=1,
        error="HTTP 500 (INTERNAL_ERROR): internal error",
    )
    resumed = SyncJob(
        integration_id=integration.id,
        object_type="contacts",
        direction="in",
        status="completed",
        total_records=7,
        processed=7,
        succeeded=6,
        archived=1,
        runs=2,
        resumed_at_record=4,
    )
    db.session.add_all([failed, resumed])
    db.session.commit()
    ids = integration.id, failed.id, resumed.id
    db.session.remove()

    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    sign_in(page, live_server.url, "beheer@switchboard.test")
    page.goto(f"{live_server.url}/integrations/{ids[0]}")
    settings = page.get_by_test_id("sync-settings")
    expect(settings).to_be_visible()
    settings.get_by_label("Include deleted and archived records").check()
    settings.get_by_label("Changed since").fill("1 maart")
    settings.get_by_label("Lifecycle stage").select_option("customer")
    page.get_by_role("button", name="Save").click()

    error = page.locator('.field-error[data-field="modified_since"]')
    expect(error).to_contain_text("a date (YYYY-MM-DD)")
    settings = page.get_by_test_id("sync-settings")
    expect(settings.get_by_label("Lifecycle stage")).to_have_value("customer")
    expect(settings.get_by_label("Changed since")).to_have_value("1 maart")
    shots = Path(SHOTS) if SHOTS else None
    if shots:
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / "sync-settings-error-1440.png"), full_page=True)

    settings.get_by_label("Changed since").fill("2026-03-01")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    expect(page.get_by_test_id("sync-settings").get_by_label("Changed since")).to_have_value(
        "2026-03-01"
    )
    saved = db.session.get(Integration, ids[0])
    assert saved.include_deleted and saved.sync_filters == {"lifecycle_stage": "customer"}
    db.session.remove()
    if shots:
        page.screenshot(path=str(shots / "sync-settings-1440.png"), full_page=True)

    page.goto(f"{live_server.url}/integrations/{ids[0]}/sync/{ids[1]}")
    expect(page.get_by_test_id("resume-sync")).to_have_text("Resume from record 5")
    if shots:
        page.screenshot(path=str(shots / "sync-job-failed-1440.png"))
    page.goto(f"{live_server.url}/integrations/{ids[0]}/sync/{ids[2]}")
    expect(page.get_by_test_id("sync-resumed")).to_have_text("Resumed at record 5 (run 2).")
    expect(page.get_by_test_id("sync-archived")).to_contain_text("1 record deleted or archived")
    if shots:
        page.screenshot(path=str(shots / "sync-job-resumed-1440.png"))
    context.close()
