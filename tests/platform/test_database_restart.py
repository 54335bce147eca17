"""PostgreSQL restarted mid-traffic, judged from outside.

The deployment (``wsgi.py`` and two ``worker.py``) runs on a PostgreSQL cluster
of this test's own, so it can be stopped and started as an operator restarts
one. Customers' WhatsApp messages are posted as Meta posts them (a 5xx is sent
again) and an agent's client reads the API throughout. While the database is
down the answers are 503 with ``Retry-After``; once it is back, not one request
answers 5xx, every message is stored once and the workers process them all.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from app.platform.auth.services import create_user
from app.platform.auth.tokens import issue_token
from app.platform.extensions import db
from app.platform.models.enums import ChannelType, TokenKind
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL, base_config, opened
from tests.platform.test_scale_out import (
    assert_one_conversation_each,
    new_mobile_numbers,
    wait_settled,
    whatsapp_burst,
)
from tests.support import factories
from tests.support.topology import LocalPostgres, Topology, wait_until
from tests.support.whatsapp_support import fake_whatsapp_server, whatsapp_settings

pytestmark = pytest.mark.skipif(
    not (TEST_DATABASE_URL and TEST_REDIS_URL),
    reason="needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)",
)

DOWN_SECONDS = 3.0
# After the restart, traffic goes on this long: every request in it must succeed.
AFTER_SECONDS = 8.0


fake_whatsapp = pytest.fixture(fake_whatsapp_server, name="fake_whatsapp")


@pytest.fixture
def local_postgres(migrated_database):
    cluster = LocalPostgres().start()
    yield cluster
    print(cluster.log_tail())
    cluster.remove()


@pytest.fixture
def app(make_app, local_postgres):
    url = local_postgres.copy_database(TEST_DATABASE_URL, "switchboard")
    with opened(make_app(SQLALCHEMY_DATABASE_URI=url, start_embedded_worker=False)) as app:
        factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp")
        db.session.commit()
        yield app


class Traffic:
    """Posts and reads, each attempt noted with when it started and what it got."""

    def __init__(self, base_url: str, bearer: str) -> None:
        self.base_url = base_url
        self.bearer = bearer
        self.answers: list[tuple[float, str, int | None]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.reading = threading.Event()  # cleared: the reader waits
        self.reading.set()

    def _note(self, began: float, what: str, status: int | None) -> None:
        with self._lock:
            self.answers.append((began, what, status))

    def post(self, post) -> None:
        """As Meta does: until accepted, a failure sent again half a second later."""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            began = time.monotonic()
            try:
                status = requests.post(
                    self.base_url + post.path, data=post.body, headers=post.headers, timeout=15
                ).status_code
            except requests.ConnectionError:
                status = None
            self._note(began, "webhook", status)
            if status is not None and status < 300:
                return
            assert status is None or status >= 500, f"webhook refused: {status}"
            time.sleep(0.5)
        raise AssertionError(f"{post.message_id} never accepted")

    def read_until_stopped(self) -> None:
        while not self._stop.is_set():
            self.reading.wait()
            began = time.monotonic()
            try:
                answer = requests.get(
                    f"{self.base_url}/api/communication/threads",
                    headers={"Authorization": f"Bearer {self.bearer}"},
                    timeout=15,
                )
                status = answer.status_code
                if status == 503:
                    assert answer.headers.get("Retry-After"), "503 without Retry-After"
            except requests.ConnectionError:
                status = None
            self._note(began, "read", status)
            time.sleep(0.05)

    def stop(self) -> None:
        self._stop.set()

    def server_errors_since(self, moment: float) -> list[tuple[float, str, int | None]]:
        with self._lock:
            return [a for a in self.answers if a[0] >= moment and (a[2] is None or a[2] >= 500)]

    def during(self, start: float, end: float) -> list[int | None]:
        with self._lock:
            return [status for began, _, status in self.answers if start <= began < end]


def test_after_a_postgresql_restart_no_request_fails(
    app, local_postgres, fake_whatsapp, tmp_path, prestarted
):
    agent = create_user("agent@switchboard.test", "Agent", "agent", "password-for-the-test")
    _, bearer = issue_token(TokenKind.PERSONAL, "desk", user_id=agent.id)
    db.session.commit()
    config = base_config()
    topology = Topology(
        tmp_path / "topology",
        {
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "REDIS_URL": TEST_REDIS_URL,
            "SECRET_KEY": config["SECRET_KEY"],
            "ENCRYPTION_KEYS": config["ENCRYPTION_KEYS"],
            **whatsapp_settings(fake_whatsapp),
        },
        prestarted,
    )
    topology.workdir.mkdir(parents=True)
    try:
        topology.start_web()
        topology.start_worker()
        topology.start_worker()
        traffic = Traffic(topology.base_url, bearer)
        posts = whatsapp_burst(new_mobile_numbers(4), 12)
        reader = threading.Thread(target=traffic.read_until_stopped, daemon=True)
        reader.start()

        # A quiet restart first: nothing asks while the database is away, so the
        # pooled connections, used a moment ago, are all dead when asked for again.
        wait_until(lambda: len(traffic.answers) >= 10, 30, "reads under way")
        traffic.reading.clear()
        time.sleep(0.3)
        local_postgres.stop()
        local_postgres.start()
        quietly_back = time.monotonic()
        traffic.reading.set()
        wait_until(
            lambda: len(traffic.during(quietly_back, time.monotonic())) >= 20, 30, "reads again"
        )
        assert traffic.server_errors_since(quietly_back) == [], topology.report()

        # Then a restart in the middle of a burst, the database away for seconds.
        with ThreadPoolExecutor(6) as pool:
            futures = []
            started = time.monotonic()
            for number, post in enumerate(posts):
                futures.append(pool.submit(_paced, traffic.post, post, started + number / 4))
            wait_until(
                lambda: len(traffic.during(quietly_back, time.monotonic())) >= 60,
                30,
                "traffic under way",
            )

            went_down = time.monotonic()
            local_postgres.stop()
            time.sleep(DOWN_SECONDS)
            local_postgres.start()
            back = time.monotonic()

            for future in futures:
                future.result(timeout=150)
        time.sleep(max(0.0, AFTER_SECONDS - (time.monotonic() - back)))
        traffic.stop()
        reader.join(20)

        assert traffic.during(back, time.monotonic()), "no traffic after the restart"
        assert traffic.server_errors_since(back) == [], topology.report()
        # While it was down: 503 (or the connection refused), never a 500.
        assert 500 not in traffic.during(went_down, back)
        wait_settled(len(posts), timeout=150)
        assert_one_conversation_each(posts)
    finally:
        topology.stop()
        print(topology.report())


def _paced(post_one, post, at: float) -> None:
    """Post at ``at`` (monotonic): four a second from the start, whichever thread
    of the pool takes it (a delay counted from the thread's start added up to
    40 s of posts trickling in one by one)."""
    time.sleep(max(0.0, at - time.monotonic()))
    post_one(post)
