"""Teams alerts: the right teams, valid Adaptive Cards, retries, sandbox, shared limits."""

from __future__ import annotations

import time

import fakeredis
import pytest
import sqlalchemy as sa
from rq.registry import ScheduledJobRegistry

from app.conversations.channels.teams import sender
from app.conversations.channels.teams.sender import notify_teams
from app.platform.extensions import db
from app.platform.models import ProviderStatus, SandboxSend
from app.platform.transports import ratelimit
from app.platform.transports.base import OutboundMessage, TransportError
from app.platform.transports.ratelimit import Limit, RateLimited, acquire
from app.platform.transports.registry import transport_for
from tests.conftest import TEST_REDIS_URL, opened
from tests.fakes.teams import FakeTeams, card_problems
from tests.support.helpers import serving
from tests.support.jobs import drain_queues, drain_until

PUBLIC_BASE_URL = "https://switchboard.example.nl"
HOOKS = {"operations": "/ops", "management": "/mgmt", "tech": "/tech"}
TRIGGER_DATA = {
    "order_urgent": {
        "order_number": "CC-2026-00042",
        "customer_name": "Eva de Boer",
        "status": "scheduled",
        "reason": "Groepenkast onveilig",
        "customer_email": "eva@example.nl",
        "customer_phone": "+31612345678",
    },
    "technician_absent": {"technician_name": "Ruben", "date": "2026-03-03", "affected_visits": 3},
    "system_error": {"component": "WhatsApp", "error": "token expired", "failure_count": 4},
    "sla_escalation": {
        "thread_id": "0b5c7d1e-2f3a-4b5c-8d9e-0f1a2b3c4d5e",
        "thread_subject": "Laadpaal laadt niet",
        "channel": "whatsapp",
        "overdue_by": "2 uur",
        "stage": 2,
    },
}


@pytest.fixture
def teams():
    yield from serving(FakeTeams())


@pytest.fixture
def app(make_app, teams):
    app = make_app(
        TEAMS_WEBHOOK_URLS={team: teams.url + path for team, path in HOOKS.items()},
        PUBLIC_BASE_URL=PUBLIC_BASE_URL,
        DELIVERY_RETRY_BASE_SECONDS=0.2,
    )
    with opened(app) as app:
        yield app


def provider_status() -> ProviderStatus:
    db.session.expire_all()
    return db.session.scalar(sa.select(ProviderStatus).where(ProviderStatus.provider == "teams"))


def test_each_trigger_reaches_its_teams_with_a_valid_card(app, teams):
    for trigger, data in TRIGGER_DATA.items():
        notify_teams(trigger, data)
    drain_queues(app)

    posted = sorted(r.path for r in teams.requests)
    assert posted == ["/mgmt", "/mgmt", "/mgmt", "/ops", "/ops", "/tech"]
    assert {status for _, _, status in teams.arrivals} == {202}
    for request in teams.requests:
        assert card_problems(request.json()) == []
    titles = {path: [c["body"][0]["text"] for c in teams.cards_to(path)] for path in HOOKS.values()}
    assert sorted(titles["/ops"]) == ["Technician absent", "Urgent order"]
    assert sorted(titles["/mgmt"]) == ["SLA escalation", "System error", "Urgent order"]
    assert titles["/tech"] == ["System error"]
    assert provider_status().last_success_at is not None


def test_card_is_an_adaptive_card_1_4_message_with_declared_facts_only(app, teams):
    notify_teams("order_urgent", TRIGGER_DATA["order_urgent"])
    drain_queues(app)

    [request] = teams.requests_to("/ops")
    assert request.headers["Content-Type"] == "application/json"
    assert request.json() == {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [
                        {
                            "type": "TextBlock",
                            "text": "Urgent order",
                            "weight": "Bolder",
                            "size": "Medium",
                            "color": "Warning",
                            "wrap": True,
                        },
                        {
                            "type": "FactSet",
                            "facts": [
                                {"title": "Order", "value": "CC-2026-00042"},
                                {"title": "Customer", "value": "Eva de Boer"},
                                {"title": "Status", "value": "scheduled"},
                                {"title": "Reason", "value": "Groepenkast onveilig"},
                            ],
                        },
                    ],
                    "actions": [
                        {
                            "type": "Action.OpenUrl",
                            "title": "View order",
                            "url": f"{PUBLIC_BASE_URL}/inbox?q=CC-2026-00042",
                        }
                    ],
                },
            }
        ],
    }
    # The e-mail address and phone number passed along never leave the building.
    assert b"eva@example.nl" not in request.body and b"+3161234" not in request.body


def test_sla_escalation_links_to_the_conversation(app, teams):
    notify_teams("sla_escalation", TRIGGER_DATA["sla_escalation"])
    drain_queues(app)
    [card] = teams.cards_to("/mgmt")
    thread_id = TRIGGER_DATA["sla_escalation"]["thread_id"]
    assert card["actions"][0]["url"] == f"{PUBLIC_BASE_URL}/threads/{thread_id}"


@pytest.fixture
def retry_delays(monkeypatch):
    """The delay of every retry the sender schedules, in order (RQ keeps whole seconds)."""
    delays = []
    schedule = sender._schedule

    def recording(team, trigger, data_json, attempt, delay):
        delays.append(delay)
        schedule(team, trigger, data_json, attempt, delay)

    monkeypatch.setattr(sender, "_schedule", recording)
    return delays


def test_server_errors_are_retried_with_backoff_until_accepted(app, teams, retry_delays):
    teams.answer_next(500, {"error": {"code": "InternalServerError"}}, times=2)
    notify_teams("technician_absent", TRIGGER_DATA["technician_absent"])

    drain_until(app, lambda: len(teams.requests_to("/ops")) == 3)

    assert [status for path, _, status in teams.arrivals if path == "/ops"] == [500, 500, 202]
    assert retry_delays == [0.2, 0.4]  # DELIVERY_RETRY_BASE_SECONDS, doubled
    status = provider_status()
    assert status.consecutive_failures == 0
    assert status.last_error_message.startswith("operations: HTTP 500")
    assert teams.url not in status.last_error_message  # the URL is the secret


def test_too_many_requests_waits_for_retry_after(app, teams, retry_delays):
    teams.answer_next(429, {"error": "throttled"}, headers={"Retry-After": "2"})
    notify_teams("technician_absent", TRIGGER_DATA["technician_absent"])

    drain_until(app, lambda: len(teams.requests_to("/ops")) == 2)

    assert retry_delays == [2.0]
    first, second = [at for path, at, _ in teams.arrivals if path == "/ops"]
    assert second - first >= 1.0


def test_a_card_is_given_up_after_five_attempts(app, teams, retry_delays):
    teams.answer_next(503, {"error": "down"}, times=10)
    notify_teams("technician_absent", TRIGGER_DATA["technician_absent"])

    drain_until(app, lambda: len(teams.requests_to("/ops")) == 5)
    time.sleep(1.2)
    drain_queues(app)

    assert len(teams.requests_to("/ops")) == 5
    assert retry_delays == [0.2, 0.4, 0.8, 1.6]
    assert provider_status().consecutive_failures == 5


def test_a_refused_card_is_not_retried(app, teams):
    teams.answer_next(400, {"error": {"code": "InvalidRequestContent"}})
    notify_teams("technician_absent", TRIGGER_DATA["technician_absent"])
    drain_queues(app)
    time.sleep(0.5)
    drain_queues(app)

    assert len(teams.requests_to("/ops")) == 1
    assert provider_status().consecutive_failures == 1


def test_team_without_a_url_is_recorded_in_the_sandbox(app, teams, monkeypatch):
    monkeypatch.setitem(app.config, "TEAMS_WEBHOOK_URLS", {"management": teams.url + "/mgmt"})
    notify_teams("system_error", TRIGGER_DATA["system_error"])
    drain_queues(app)

    assert [r.path for r in teams.requests] == ["/mgmt"]
    db.session.expire_all()
    [record] = db.session.scalars(sa.select(SandboxSend)).all()
    assert (record.provider, record.recipient) == ("teams", "tech")
    assert card_problems(record.request_body) == []
    assert record.request_body["attachments"][0]["content"]["body"][0]["text"] == "System error"


def test_test_card_for_the_channels_page(app, teams):
    transport = transport_for("teams")
    transport.send(OutboundMessage(None, "teams", "tech", "test"))
    db.session.commit()
    [card] = teams.cards_to("/tech")
    assert card["body"][0]["text"] == "Switchboard test"
    with pytest.raises(TransportError, match="Unknown team 'sales'"):
        transport.send(OutboundMessage(None, "teams", "sales", "test"))
    with pytest.raises(ValueError):
        notify_teams("party", {})


def test_over_the_limit_a_card_waits_for_the_next_window(app, teams, monkeypatch):
    monkeypatch.setitem(ratelimit.LIMITS, "teams", Limit(1, 60))
    notify_teams("order_urgent", TRIGGER_DATA["order_urgent"])  # two teams, one slot
    drain_queues(app)

    assert len(teams.requests) == 1
    registry = ScheduledJobRegistry(queue=app.extensions["broker"].queue("deliveries"))
    assert registry.count == 1


def test_the_rate_limit_is_shared_by_every_process(app, make_app, monkeypatch):
    """Two apps on one Redis (two workers) draw from one budget."""
    monkeypatch.setitem(ratelimit.LIMITS, "teams", Limit(3, 60))
    other = make_app(start_embedded_worker=False)
    if not TEST_REDIS_URL:
        # Embedded mode: make the second app a second client of the first one's server.
        server = app.extensions["broker"].connection.connection_pool.connection_kwargs["server"]
        other.extensions["broker"].connection = fakeredis.FakeRedis(server=server)
    now = 1_800_000_000.0  # the start of a window, so the test never straddles two

    acquire("teams", now)
    acquire("teams", now + 1)
    with other.app_context():
        acquire("teams", now + 2)
        with pytest.raises(RateLimited) as limited:
            acquire("teams", now + 3)
    assert limited.value.retry_after == pytest.approx(57)
    with pytest.raises(RateLimited):
        acquire("teams", now + 4)
    with other.app_context():
        acquire("teams", now + 60)  # the next window has a fresh budget
