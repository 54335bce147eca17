"""Two web processes behind one address, as docs/deployment.md configures nginx.

The nginx site is the one in the deployment docs (tests/support/proxy.py takes it
from there), in front of two gevent web processes started as production starts
them, the webhooks' own gunicorn, two ``worker.py``, PostgreSQL and Redis. Pages
load through it; a long-polling Socket.IO connection keeps to one process (every
request of it in nginx's log went there) and a WebSocket connects; agents on both
processes hear the message a customer sends once, through the Redis message queue.

The reconnect test streams customers' messages while agents' connections on both
processes are cut (the socket closed, as a lost network does) and come back a few
seconds later asking to resume their queue: every agent must end with every
``message:new`` once, its sequence without a gap, each resume answered ``resumed``
(nginx sent it back to the process that keeps its queue).

Needs PostgreSQL and Redis (``TEST_DATABASE_URL``, ``TEST_REDIS_URL``) and nginx
(Debian's ``nginx-light``; with ``CI=true`` a missing nginx fails the test).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter, defaultdict

import pytest
import requests

from app.platform.extensions import db
from app.platform.models.enums import ChannelType
from tests.conftest import IN_CI, TEST_DATABASE_URL, TEST_REDIS_URL, base_config, opened
from tests.fakes import whatsapp as wa
from tests.support import factories
from tests.support.live_agents import LiveAgent, signed_in_through
from tests.support.proxy import nginx_binary, start_behind_nginx
from tests.support.topology import wait_until
from tests.support.whatsapp_support import fake_whatsapp_server, whatsapp_settings

pytestmark = pytest.mark.skipif(
    not (TEST_DATABASE_URL and TEST_REDIS_URL),
    reason="needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)",
)

WHATSAPP_WEBHOOK = "/api/v1/webhooks/whatsapp"
# Sign-ins to try for browsers on both processes: each lands on either by chance.
SIGN_IN_TRIES = 24
DELIVERY_SECONDS = 20.0
# The reconnect test: agents, the stream (messages a second, for how long, from how
# many customers) and when each group of agents is cut off and comes back, in
# seconds from the stream's start. Some are cut twice.
AGENTS = 12
STREAM_RATE = 5
STREAM_SECONDS = 15
STREAM_SENDERS = 5
DROPS = ((2.0, 5.0, range(0, 4)), (6.0, 8.5, range(4, 8)), (9.0, 12.0, range(0, 2)))

fake_whatsapp = pytest.fixture(fake_whatsapp_server, name="fake_whatsapp")


@pytest.fixture
def app(make_app):
    with opened(make_app(start_embedded_worker=False)) as app:
        # Configured before customers write, as in a deployment.
        factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp")
        db.session.commit()
        yield app


def needs_nginx() -> None:
    if nginx_binary() is None:
        if IN_CI:
            pytest.fail("nginx is not installed (.ci/run installs nginx-light)")
        pytest.skip("nginx is not installed (apt-get install nginx-light)")


def deployment_settings(fake_whatsapp) -> dict[str, str]:
    config = base_config()
    return {
        "DATABASE_URL": TEST_DATABASE_URL,
        "REDIS_URL": TEST_REDIS_URL,
        "SECRET_KEY": config["SECRET_KEY"],
        "ENCRYPTION_KEYS": config["ENCRYPTION_KEYS"],
        **whatsapp_settings(fake_whatsapp),
    }


@pytest.fixture
def behind_nginx(app, tmp_path, fake_whatsapp, prestarted, monkeypatch):
    """The documented deployment, started; this test's requests trust nginx's certificate."""
    needs_nginx()
    deployment = start_behind_nginx(
        tmp_path / "deployment", deployment_settings(fake_whatsapp), prestarted
    )
    # Read by requests (and python-socketio's polling) in this process only.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(deployment.nginx.ca_bundle))
    yield deployment
    deployment.stop()


def new_customer() -> str:
    """A Dutch mobile number as WhatsApp writes it, not seen before."""
    return f"316{uuid.uuid4().int % 100_000_000:08d}"


def customer_writes(base_url: str, ca_bundle: str, text: str, wa_id: str | None = None) -> str:
    """A customer's WhatsApp message, posted signed to the webhook; its wamid."""
    wa_id = wa_id or new_customer()
    wamid = f"wamid.HBgL{wa_id}FQIAEhgU{uuid.uuid4().hex.upper()}"
    payload = wa.webhook(
        contacts=[wa.contact(wa_id, f"Klant {wa_id[-4:]}")],
        messages=[wa.text_message(wa_id, text, wamid, int(time.time()))],
    )
    body, headers = wa.signed(payload)
    answer = requests.post(
        base_url + WHATSAPP_WEBHOOK, data=body, headers=headers, verify=ca_bundle, timeout=15
    )
    assert answer.status_code == 200, answer.text[:300]
    return wamid


def test_agents_on_both_web_processes_hear_one_customer_message(behind_nginx, make_user):
    url, nginx = behind_nginx.url, behind_nginx.nginx
    ca_bundle = str(nginx.ca_bundle)

    page = requests.get(f"{url}/login", verify=ca_bundle, timeout=10)
    assert page.status_code == 200
    assert 'name="csrf_token"' in page.text
    # The app believed nginx's X-Forwarded-Proto (TRUSTED_PROXY_HOPS=1): it saw https.
    assert "Strict-Transport-Security" in page.headers
    assert "switchboard_web=" in page.headers["Set-Cookie"]

    # Two browsers on each process: one long-polling, one over WebSocket.
    browsers = defaultdict(list)
    for _ in range(SIGN_IN_TRIES):
        session = signed_in_through(url, make_user("agent").email, ca_bundle)
        browsers[behind_nginx.web_of(session).name].append(session)
        if len(browsers) == 2 and all(len(s) >= 2 for s in browsers.values()):
            break
    assert sorted(browsers) == ["web-1", "web-2"], f"every sign-in landed on {list(browsers)}"

    agents = {}
    try:
        for web, sessions in browsers.items():
            for transport, session in zip(("polling", "websocket"), sessions, strict=False):
                agents[web, transport] = LiveAgent(url, session, transport).connect()
        for (_, transport), agent in agents.items():
            assert agent.client.transport() == transport

        wamid = customer_writes(url, ca_bundle, "Mijn laadpaal laadt niet")

        def everyone_heard() -> bool:
            return all(wamid in agent.wamids() for agent in agents.values())

        try:
            wait_until(everyone_heard, DELIVERY_SECONDS, "every agent hearing the message")
        except AssertionError:
            heard = {key: agent.wamids() for key, agent in agents.items()}
            raise AssertionError(f"who heard {wamid}: {heard}") from None
        polling = {web: agents[web, "polling"].client.eio.sid for web, _ in agents}
    finally:
        for agent in agents.values():
            agent.leave()

    # The customer's message went to the webhooks' own gunicorn.
    webhooks = behind_nginx.webhooks.url.removeprefix("http://")
    assert nginx.upstreams(f"POST {WHATSAPP_WEBHOOK} ") == [webhooks]

    # Sticky: every request of a long-polling connection went to the process that
    # holds it (it would have answered 400, unknown session, anywhere else).
    addresses = {web.name: web.url.removeprefix("http://") for web in behind_nginx.web}
    for web, sid in polling.items():
        answered_by = nginx.upstreams(f"sid={sid}")
        assert len(answered_by) >= 2, f"{web}'s polling connection made {answered_by}"
        assert set(answered_by) == {addresses[web]}, f"{web}'s polling connection: {answered_by}"


class Stream:
    """Customers' messages posted at a steady rate from a thread; their wamids."""

    def __init__(self, url: str, ca_bundle: str) -> None:
        self.url, self.ca_bundle = url, ca_bundle
        self.sent: list[str] = []
        self.failures: list[BaseException] = []
        self.began = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="customers", daemon=True)

    def start(self) -> "Stream":
        self.began = time.monotonic()
        self._thread.start()
        return self

    def at(self, seconds: float) -> None:
        """Wait until ``seconds`` after the stream began."""
        time.sleep(max(0.0, self.began + seconds - time.monotonic()))

    def _run(self) -> None:
        customers = [new_customer() for _ in range(STREAM_SENDERS)]
        try:
            for number in range(STREAM_RATE * STREAM_SECONDS):
                self.at(number / STREAM_RATE)
                text = f"Bericht {number + 1}"
                wa_id = customers[number % STREAM_SENDERS]
                self.sent.append(customer_writes(self.url, self.ca_bundle, text, wa_id))
        except BaseException as exc:  # raised by join()
            self.failures.append(exc)

    def join(self) -> list[str]:
        self._thread.join(STREAM_SECONDS + 30)
        assert not self._thread.is_alive(), "the stream did not finish"
        if self.failures:
            raise self.failures[0]
        return self.sent


def test_agents_cut_off_mid_stream_miss_no_live_event(behind_nginx, make_user):
    url, ca_bundle = behind_nginx.url, str(behind_nginx.nginx.ca_bundle)
    agents = []
    where = {}
    try:
        for _ in range(AGENTS):
            agent = LiveAgent(url, signed_in_through(url, make_user("agent").email, ca_bundle))
            where[agent] = behind_nginx.web_of(agent.session).name
            agents.append(agent.connect())
        assert set(where.values()) == {"web-1", "web-2"}, "every agent landed on one process"
        wait_until(
            lambda: all(agent.answers for agent in agents),
            DELIVERY_SECONDS,
            "every agent told its live queue (live:queue)",
        )

        stream = Stream(url, ca_bundle).start()
        # Cut off and back, in the order the moments come.
        moments = sorted(
            [(cut, "drop", group) for cut, _, group in DROPS]
            + [(back, "connect", group) for _, back, group in DROPS]
        )
        # For each agent, how many messages were sent while it was away, per drop.
        away = defaultdict(list)
        for seconds, act, group in moments:
            stream.at(seconds)
            for index in group:
                agent = agents[index]
                if act == "drop":
                    agent.drop()
                    away[agent].append(len(stream.sent))
                else:
                    away[agent][-1] = len(stream.sent) - away[agent][-1]
                    agent.connect()
        sent = stream.join()

        def every_agent_has_all() -> bool:
            return all(len(agent.wamids()) >= len(sent) for agent in agents)

        try:
            wait_until(every_agent_has_all, DELIVERY_SECONDS, "every agent hearing every message")
        except AssertionError:
            pass  # the lines below say who lacks what
    finally:
        for agent in agents:
            agent.leave()

    expected = Counter(sent)
    lines, wrong = [], False
    for index, agent in enumerate(agents):
        heard = Counter(agent.wamids())
        missed = sum((expected - heard).values())
        doubled = sum((heard - expected).values())
        resumed_false = agent.not_resumed()
        # Away for seconds while customers wrote: what it heard, it partly heard late.
        away_for_nothing = 0 in away[agent]
        wrong |= bool(missed or doubled or agent.gaps or resumed_false or away_for_nothing)
        lines.append(
            f"  agent {index} on {where[agent]}: away while {away[agent]} message(s) came,"
            f" missed {missed}, doubled {doubled}, gaps {agent.gaps},"
            f" resumes refused {resumed_false}"
        )
    assert not wrong, f"{len(sent)} messages sent; per agent:\n" + "\n".join(lines)
    assert sum(len(drops) for drops in away.values()) == sum(len(g) for _, _, g in DROPS)
    print(f"{len(sent)} messages, {len(agents)} agents:", *lines, sep="\n")
    for agent in agents:
        for lost in agent.lost_before_joining:
            print(f"agent {agents.index(agent)}'s connection was lost, made again:\n{lost}")
