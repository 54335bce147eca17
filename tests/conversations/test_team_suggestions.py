"""Team suggestions: trained on our own closed conversations, measured on
the weeks it never saw, routing by itself only when the admin says so and it is sure.

The history is :mod:`tests.support.routing_history` (twelve weeks of generated closed
conversations of the four demo teams); the desk and its rules are the demo's
(:mod:`tests.support.routing_support`): every new conversation is customer support, so
the rules send it to Klantenservice.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.conversations.assignment.suggestions import learning, save_settings
from app.conversations.assignment.suggestions.classifier import current_classifier, library_version
from app.conversations.assignment.suggestions.outcomes import settle_closed_conversations
from app.conversations.assignment.suggestions.samples import HOLDOUT_DAYS, MIN_TRAINING_SAMPLES
from app.conversations.assignment.suggestions.training import (
    retrain_routing_model,
    train_routing_model,
)
from app.conversations.workspace.editing import update_thread
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import (
    AuditLog,
    CommunicationThread,
    RoutingModel,
    RoutingOutcome,
    RoutingSettings,
    RoutingSuggestion,
)
from app.platform.transactions import commit
from tests.conftest import TEST_DATABASE_URL
from tests.support import factories
from tests.support.helpers import customer_writes, race, raised
from tests.support.jobs import drain_queues
from tests.support.routing_history import generate_history
from tests.support.routing_support import (
    INSTALLATION_COMPLAINT,
    desk,
    remember,
    store_generated_history,
    store_history,
    trained_model,
)

INVOICE_QUESTION = "Ik heb een vraag over mijn factuur, het bedrag klopt volgens mij niet."


def _new_conversation(channel, content: str, external_id: str = "in-1") -> CommunicationThread:
    message = customer_writes(channel, factories.contact(), external_id, content)
    db.session.expire_all()
    return db.session.get(CommunicationThread, message.thread_id)


def _suggestion(thread) -> RoutingSuggestion:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(RoutingSuggestion).where(RoutingSuggestion.thread_id == thread.id)
    )


# --- training and measuring ---------------------------------------------------------


def test_training_learns_from_earlier_weeks_and_measures_on_the_unseen_last_two(
    app, make_user, monkeypatch
):
    the_desk = desk(make_user)
    history = generate_history(weeks=12, per_week=60, end=utcnow())
    store_history(the_desk, history)
    fits = []
    fit_classifier = learning.fit_classifier
    monkeypatch.setattr(
        learning,
        "fit_classifier",
        lambda samples: fits.append(list(samples)) or fit_classifier(samples),
    )
    now = utcnow()
    run = remember(train_routing_model(now))
    commit()

    holdout_from = now - timedelta(days=HOLDOUT_DAYS)
    earlier = [c for c in history if c.started_at < holdout_from]
    assert run.holdout_from == holdout_from
    measured, in_use = fits[:2]  # (a periodic run may follow in the embedded worker)
    assert len(measured) == len(earlier)
    assert run.holdout_samples == len(history) - len(earlier) > 50
    # The model measured saw nothing of the last two weeks: no look-ahead.
    assert max(sample.started_at for sample in measured) < holdout_from
    # The model put to use learnt from them too.
    assert run.training_samples == len(in_use) == len(history)
    assert max(sample.started_at for sample in in_use) >= holdout_from
    assert run.holdout_accuracy > 0.75
    assert len(run.holdout_scores) == run.holdout_samples
    assert sum(right for _confidence, right in run.holdout_scores) == run.holdout_correct
    per_team = {row["name"]: row for row in run.per_team}
    assert set(per_team) == {"Klantenservice", "Techniek", "Sales", "Management"}
    assert sum(row["holdout"] for row in per_team.values()) == run.holdout_samples
    assert per_team["Techniek"]["correct"] <= per_team["Techniek"]["holdout"]
    # The brands technical conversations were tagged with (the Techniek agent's skills).
    assert run.skills == ["alfen", "easee", "wallbox", "zaptec"]
    loaded = current_classifier()
    assert loaded is not None and loaded[0] == run.id


def test_too_few_closed_conversations_make_no_model_and_no_suggestion(app, make_user):
    the_desk = desk(make_user)
    store_history(the_desk, generate_history(weeks=4, per_week=8, end=utcnow())[:30])
    assert retrain_routing_model() == "too few samples"
    run = db.session.scalar(sa.select(RoutingModel))
    assert run.model is None and 0 < run.training_samples < MIN_TRAINING_SAMPLES
    assert current_classifier() is None
    save_settings(True, 0.5, None)
    commit()
    thread = _new_conversation(the_desk.whatsapp, INSTALLATION_COMPLAINT)
    assert _suggestion(thread) is None
    assert thread.assigned_team.name == "Klantenservice"


# --- routing ---------------------------------------------------------------------------


def test_with_auto_routing_on_an_installation_complaint_goes_to_the_technical_team(app, make_user):
    the_desk = desk(make_user)
    trained_model(the_desk)
    save_settings(True, 0.6, None)
    commit()
    thread = _new_conversation(the_desk.whatsapp, INSTALLATION_COMPLAINT)
    assert thread.assigned_team.name == "Techniek"
    assert thread.assigned_to_user_id == the_desk.agents["tech"].id
    assert thread.assignment_reason.startswith("Team suggestion → Techniek (")
    assert thread.assignment_reason.endswith("least loaded (0 open of 25)")
    suggestion = _suggestion(thread)
    assert suggestion.team_id == the_desk.teams["tech"].id and suggestion.confidence >= 0.6
    assert suggestion.auto_routed is True
    assert suggestion.outcome == RoutingOutcome.ACCEPTED
    assert suggestion.rules_team_id == the_desk.teams["customer-service"].id


def _rules_reason(the_desk) -> str:
    agent = the_desk.agents["customer-service"]
    return f"Customer support → Klantenservice; {agent.name}, least loaded (0 open of 25)"


def test_with_auto_routing_off_the_rules_decide_as_before_and_the_suggestion_waits(app, make_user):
    the_desk = desk(make_user)
    trained_model(the_desk)
    thread = _new_conversation(the_desk.whatsapp, INSTALLATION_COMPLAINT)
    assert thread.assigned_team.name == "Klantenservice"
    assert thread.assigned_to_user_id == the_desk.agents["customer-service"].id
    assert thread.assignment_reason == _rules_reason(the_desk)
    suggestion = _suggestion(thread)
    assert suggestion.team_id == the_desk.teams["tech"].id
    assert suggestion.outcome == RoutingOutcome.PENDING and not suggestion.auto_routed
    assert suggestion.rules_team_id == the_desk.teams["customer-service"].id


def test_below_the_threshold_the_rules_decide(app, make_user):
    the_desk = desk(make_user)
    trained_model(the_desk)
    save_settings(True, 0.99, None)
    commit()
    thread = _new_conversation(the_desk.whatsapp, INSTALLATION_COMPLAINT)
    suggestion = _suggestion(thread)
    assert suggestion.team_id == the_desk.teams["tech"].id and suggestion.confidence < 0.99
    assert thread.assignment_reason == _rules_reason(the_desk)
    assert suggestion.outcome == RoutingOutcome.PENDING


def test_a_suggestion_the_rules_agree_with_needs_no_decision(app, make_user):
    the_desk = desk(make_user)
    trained_model(the_desk)
    save_settings(True, 0.5, None)
    commit()
    thread = _new_conversation(the_desk.mail, INVOICE_QUESTION)
    assert thread.assignment_reason == _rules_reason(the_desk)
    assert _suggestion(thread).outcome == RoutingOutcome.AGREED_WITH_RULES


def test_a_broken_model_leaves_routing_to_the_rules(app, make_user, caplog):
    the_desk = desk(make_user)
    now = utcnow()
    db.session.add(
        RoutingModel(
            trained_at=now,
            holdout_from=now,
            model=b"not a model",
            library_version=library_version(),
        )
    )
    save_settings(True, 0.5, None)
    commit()
    thread = _new_conversation(the_desk.whatsapp, INSTALLATION_COMPLAINT)
    assert thread.assignment_reason == _rules_reason(the_desk)
    assert "cannot be loaded" in caplog.text


# --- the agent's panel and outcomes --------------------------------------------------


def test_an_agent_sends_the_conversation_to_the_suggested_team_with_one_click(
    app, client, auth, make_user
):
    the_desk = desk(make_user)
    trained_model(the_desk)
    thread = _new_conversation(the_desk.whatsapp, INSTALLATION_COMPLAINT)
    technician = make_user("technician", email="monteur@switchboard.test")
    auth.login(technician.email)
    assert client.get(f"/threads/{thread.id}/team-suggestion").status_code == 403
    auth.logout()
    auth.login(the_desk.agents["customer-service"].email)
    header = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert f'hx-get="/threads/{thread.id}/team-suggestion"' in header
    panel = client.get(f"/threads/{thread.id}/team-suggestion").get_data(as_text=True)
    assert "Suggested team" in panel and "Send to Techniek" in panel
    token = auth.csrf_token(f"/threads/{thread.id}")
    answer = client.post(f"/threads/{thread.id}/team-suggestion", data={"csrf_token": token})
    # Now Techniek's conversation, out of this agent's sight: back to their inbox.
    assert answer.status_code == 303 and answer.headers["Location"] == "/inbox"
    db.session.expire_all()
    thread = db.session.get(CommunicationThread, thread.id)
    assert thread.assigned_team.name == "Techniek"
    assert thread.assigned_to_user_id == the_desk.agents["tech"].id
    assert thread.assignment_reason.startswith(
        f"{the_desk.agents['customer-service'].name} followed the team suggestion → Techniek"
    )
    suggestion = _suggestion(thread)
    assert suggestion.outcome == RoutingOutcome.ACCEPTED
    assert suggestion.decided_by_user_id == the_desk.agents["customer-service"].id
    # Followed: nothing left to show, and a late second click changes nothing.
    auth.logout()
    manager = make_user("manager")
    auth.login(manager.email)
    assert client.get(f"/threads/{thread.id}/team-suggestion").get_data(as_text=True) == ""
    token = auth.csrf_token(f"/threads/{thread.id}")
    again = client.post(f"/threads/{thread.id}/team-suggestion", data={"csrf_token": token})
    assert again.status_code == 303 and again.headers["Location"] == f"/threads/{thread.id}"
    assert _suggestion(thread).decided_by_user_id == the_desk.agents["customer-service"].id


def _edit(thread, actor, **changes) -> None:
    thread = db.session.get(CommunicationThread, thread.id)
    update_thread(thread, actor, expected_version=thread.lock_version, changes=changes)
    commit()


def test_outcomes_follow_what_people_do(app, make_user):
    the_desk = desk(make_user)
    trained_model(the_desk)
    lead = make_user("team_lead", team_id=the_desk.teams["customer-service"].id)
    changed = _new_conversation(the_desk.whatsapp, INSTALLATION_COMPLAINT, "in-1")
    ignored = _new_conversation(the_desk.whatsapp, INSTALLATION_COMPLAINT, "in-2")
    kept = _new_conversation(the_desk.whatsapp, INSTALLATION_COMPLAINT, "in-3")
    accepted = _new_conversation(the_desk.whatsapp, INSTALLATION_COMPLAINT, "in-4")

    # Given to someone of a third team: changed.
    _edit(changed, lead, assigned_to_user_id=str(the_desk.agents["sales"].id))
    assert _suggestion(changed).outcome == RoutingOutcome.CHANGED
    # Handed to a colleague in the rules' team: still open; resolved so: ignored.
    _edit(kept, lead, assigned_to_user_id=str(lead.id))
    assert _suggestion(kept).outcome == RoutingOutcome.PENDING
    _edit(kept, lead, status="resolved")
    assert _suggestion(kept).outcome == RoutingOutcome.IGNORED
    # Given to someone of the suggested team by hand: accepted; moved away after: changed.
    _edit(accepted, lead, assigned_to_user_id=str(the_desk.agents["tech"].id))
    assert _suggestion(accepted).outcome == RoutingOutcome.ACCEPTED
    assert _suggestion(accepted).decided_by_user_id == lead.id
    # Closed some other way (an API, a job): the sweep finds it.
    db.session.get(CommunicationThread, ignored.id).status = "closed"
    db.session.commit()
    assert settle_closed_conversations() == 1
    assert _suggestion(ignored).outcome == RoutingOutcome.IGNORED
    _edit(accepted, lead, assigned_to_user_id=str(the_desk.agents["customer-service"].id))
    assert _suggestion(accepted).outcome == RoutingOutcome.CHANGED


def test_analytics_shows_the_routing_suggestions_accepted(app, client, auth, make_user):
    the_desk = desk(make_user)
    trained_model(the_desk)
    lead = make_user("team_lead", team_id=the_desk.teams["customer-service"].id)
    threads = [
        _new_conversation(the_desk.whatsapp, INSTALLATION_COMPLAINT, f"in-{n}") for n in range(3)
    ]
    _new_conversation(the_desk.mail, INVOICE_QUESTION, "in-invoice")  # agreed with the rules
    _edit(threads[0], lead, assigned_to_user_id=str(the_desk.agents["tech"].id))
    _edit(threads[1], lead, assigned_to_user_id=str(the_desk.agents["tech"].id))
    _edit(threads[2], lead, assigned_to_user_id=str(the_desk.agents["sales"].id))
    manager = make_user("manager")
    auth.login(manager.email)
    html = client.get("/analytics").get_data(as_text=True)
    section = html.split('id="figure-routing"', 1)[1].split("</section>", 1)[0]
    assert "Routing suggestions accepted" in section
    assert 'data-testid="definition-routing"' in section
    assert "Accepted ÷ (accepted + changed + ignored)" in section
    techniek = section.split('<td data-col="label" >Techniek</td>', 1)[1].split("</tr>", 1)[0]
    assert ">3</td>" in techniek  # three suggestions of Techniek
    assert "66.7 %" in techniek  # two of three accepted
    csv = client.get("/analytics.csv", query_string={"figure": "routing"}).get_data(as_text=True)
    heading = csv.lstrip("\ufeff").splitlines()[0].split(";")
    assert heading[:4] == ["Suggested team", "Suggestions", "Accepted", "Changed"]


# --- the admin page --------------------------------------------------------------------


def test_the_admin_page_shows_the_accuracy_and_turns_auto_routing_on(app, client, auth, make_user):
    the_desk = desk(make_user)
    admin = make_user("admin", email="admin@switchboard.test")
    auth.login(admin.email)
    page = client.get("/admin/assignment/").get_data(as_text=True)
    assert "Team suggestions" in page and "Not trained yet" in page
    run = trained_model(the_desk)
    page = client.get("/admin/assignment/").get_data(as_text=True)
    figures = page.split('data-testid="suggestions-figures"', 1)[1].split("</dl>", 1)[0]
    accuracy = f"{100 * run.holdout_accuracy:.1f} %"
    assert accuracy in figures
    assert f"of {run.holdout_samples} conversations it never trained on" in figures
    assert f"{run.training_samples} closed conversations" in figures
    assert "At the threshold of 70 %" in figures

    token = auth.csrf_token("/admin/assignment/")
    answer = client.post(
        "/admin/assignment/suggestions",
        data={"csrf_token": token, "auto_routing": "on", "threshold": "80"},
    )
    assert answer.status_code == 303
    stored = db.session.scalar(sa.select(RoutingSettings))
    assert stored.auto_routing is True and stored.confidence_threshold == 0.8
    assert db.session.scalar(
        sa.select(AuditLog.id).where(AuditLog.action == "ROUTING_SETTINGS_SAVED")
    )
    page = client.get("/admin/assignment/").get_data(as_text=True)
    assert "At the threshold of 80 %" in page
    assert 'data-testid="auto-routing" checked' in page

    refused = client.post(
        "/admin/assignment/suggestions", data={"csrf_token": token, "threshold": "120"}
    )
    assert refused.status_code == 422
    assert "a whole percentage from 50 to 99" in refused.get_data(as_text=True)
    assert 'value="120"' in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(sa.select(RoutingSettings)).confidence_threshold == 0.8

    answer = client.post("/admin/assignment/suggestions", data={"csrf_token": token})
    assert answer.status_code == 422  # no threshold at all
    answer = client.post(
        "/admin/assignment/suggestions", data={"csrf_token": token, "threshold": "75"}
    )
    db.session.expire_all()
    assert db.session.scalar(sa.select(RoutingSettings)).auto_routing is False


def test_train_now_queues_a_training_run(app, client, auth, make_user):
    make_user("admin", email="admin@switchboard.test")
    auth.login("admin@switchboard.test")
    token = auth.csrf_token("/admin/assignment/")
    answer = client.post("/admin/assignment/suggestions/train", data={"csrf_token": token})
    assert answer.status_code == 303
    drain_queues(app)
    db.session.expire_all()
    [run] = db.session.scalars(sa.select(RoutingModel)).all()
    assert run.model is None  # nothing to learn from yet
    page = client.get("/admin/assignment/").get_data(as_text=True)
    assert "Too few closed conversations to learn from: 0" in page


def test_an_agent_may_not_change_the_settings(app, client, auth, make_user):
    make_user("agent", email="agent@switchboard.test")
    auth.login("agent@switchboard.test")
    token = auth.csrf_token("/inbox")
    answer = client.post(
        "/admin/assignment/suggestions",
        data={"csrf_token": token, "auto_routing": "on", "threshold": "60"},
    )
    assert answer.status_code == 403
    assert db.session.scalar(sa.select(RoutingSettings)) is None


# --- two trainings at once ---------------------------------------------------------------


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs PostgreSQL's advisory locks")
def test_two_retrain_jobs_at_once_train_once(app, make_user):
    store_generated_history(desk(make_user), weeks=6, per_week=20)
    results = race(app, lambda _index: retrain_routing_model(), 2)
    assert not raised(results), results
    assert sorted(results) == ["fresh", "trained"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RoutingModel)) == 1


def test_the_newest_run_is_looked_up_once_a_while_and_no_run_costs_no_savepoint(
    app, make_user, monkeypatch
):
    """Every new conversation asks for the newest run: each worker keeps the answer
    CONFIGURATION_CACHE_SECONDS; while there is none, routing opens no savepoint."""
    from app.conversations.assignment.suggestions import classifier

    the_desk = desk(make_user)
    monkeypatch.setitem(app.config, "CONFIGURATION_CACHE_SECONDS", 60)
    classifier._newest_runs.clear()
    statements: list[str] = []

    def note(conn, cursor, statement, *args):
        statements.append(statement.lstrip())

    sa.event.listen(db.engine, "before_cursor_execute", note)
    try:
        for number, text in enumerate(("De laadpaal doet het niet", "Wanneer komt de monteur?")):
            _new_conversation(the_desk.whatsapp, text, f"in-{number}")
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", note)
    assert len([s for s in statements if "FROM routing_models" in s]) == 1
    # The only savepoints left are the assignment notices' (one each).
    savepoints = [i for i, s in enumerate(statements) if s.startswith("SAVEPOINT")]
    assert all(statements[i + 1].startswith("INSERT INTO notifications") for i in savepoints)
    # A run trained meanwhile is seen once the kept answer runs out.
    db.session.add(
        RoutingModel(
            trained_at=utcnow(),
            holdout_from=utcnow(),
            feature_version=0,
            library_version="other",
            training_samples=0,
            holdout_samples=0,
            holdout_correct=0,
        )
    )
    commit()
    assert classifier.trained() is False
    classifier._newest_runs.clear()
    assert classifier.trained() is True
