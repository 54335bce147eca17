"""The admins' job queue page: queues, workers, failed jobs with
their traceback, requeue; behind the admin role and the second factor."""

from __future__ import annotations

from app.platform.jobs.queues import enqueue
from tests.support.jobs import drain_queues

# A job that fails: "nobody" is not a user id. On the periodic queue, which does
# not retry, it lands in the failed registry at once.
FAILING = "app.conversations.notifications.jobs.send_test_notification"


def _fail_a_job(app) -> None:
    enqueue(FAILING, "nobody", queue="periodic")
    drain_queues(app)


def test_only_an_admin_with_the_second_factor_opens_it(client, auth, make_user):
    make_user("agent", email="agent@switchboard.test")
    auth.login("agent@switchboard.test")
    assert client.get("/admin/queues").status_code == 403
    auth.logout()
    make_user("admin", email="admin@switchboard.test", two_factor=False)
    auth.login("admin@switchboard.test")
    answer = client.get("/admin/queues")
    assert answer.status_code in (302, 303)
    assert "/settings/security" in answer.headers["Location"]


def test_a_failed_job_shows_its_traceback_and_runs_again_when_requeued(
    app, client, auth, make_user
):
    make_user("admin", email="admin@switchboard.test")
    auth.login("admin@switchboard.test")
    _fail_a_job(app)
    failed = app.extensions["broker"].queue("periodic").failed_job_registry
    assert failed.count == 1

    page = client.get("/admin/queues").get_data(as_text=True)
    assert 'data-testid="queue-periodic"' in page
    assert "app.conversations.notifications.jobs.send_test_notification" in page
    assert "Traceback" in page and "ValueError" in page

    token = auth.csrf_token("/admin/queues")
    [job_id] = failed.get_job_ids()
    answer = client.post(
        f"/admin/queues/periodic/failed/{job_id}/requeue", data={"csrf_token": token}
    )
    assert answer.status_code == 303
    assert failed.count == 0
    assert app.extensions["broker"].queue("periodic").count == 1  # waiting to run again

    again = client.post(
        f"/admin/queues/periodic/failed/{job_id}/requeue", data={"csrf_token": token}
    )
    assert again.status_code == 404


def test_requeue_all_of_a_queue(app, client, auth, make_user):
    make_user("admin", email="admin@switchboard.test")
    auth.login("admin@switchboard.test")
    _fail_a_job(app)
    _fail_a_job(app)
    token = auth.csrf_token("/admin/queues")
    answer = client.post("/admin/queues/periodic/failed/requeue", data={"csrf_token": token})
    assert answer.status_code == 303
    assert app.extensions["broker"].queue("periodic").failed_job_registry.count == 0
    assert app.extensions["broker"].queue("periodic").count == 2
    assert (
        client.post("/admin/queues/nonsense/failed/requeue", data={"csrf_token": token}).status_code
        == 404
    )
