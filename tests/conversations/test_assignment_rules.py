"""Assignment rules: validation with field errors, and the admin page that edits them."""

from __future__ import annotations

import json

import pytest

from app.conversations.assignment.rules import InvalidRules, parse_rules_text, validate_rules
from app.platform.extensions import db
from app.platform.models import CommunicationChannel
from app.platform.models.enums import ChannelType, ThreadType
from app.seed.demo_catalogue import AUTO_ASSIGNMENT_RULES
from tests.support import factories
from tests.support.helpers import csrf_token_from


@pytest.fixture
def teams(app, make_user):
    made = {}
    for slug, name in [
        ("customer-service", "Klantenservice"),
        ("tech", "Techniek"),
        ("sales", "Sales"),
        ("management", "Management"),
    ]:
        team = factories.team(name)
        team.slug = slug
        made[slug] = team
    db.session.commit()
    make_user("manager", email="manager@switchboard.test", team_id=made["management"].id)
    return made


def _errors(data) -> dict:
    with pytest.raises(InvalidRules) as caught:
        validate_rules(data)
    return caught.value.fields


def test_rules_in_the_stored_shape_are_kept_in_canonical_form(teams):
    canonical = validate_rules(
        {
            "enabled": True,
            "strategy": "least_loaded",
            "customer_support": {
                "default_assignee": "Klantenservice",
                "escalation_after_hours": 4,
                "escalation_to": "Manager@Switchboard.test",
            },
            "technical_issue": {
                "default_assignee": str(teams["tech"].id),
                "skill_matching": True,
                "required_skills": [" Laadpalen ", "laadpalen", "alfen"],
                "escalation_after_hours": 1.5,
                "escalation_to": "Management",
            },
        }
    )
    assert canonical == {
        "enabled": True,
        "strategy": "least_loaded",
        "customer_support": {
            "default_assignee": "customer-service",
            "escalation_after_hours": 4,
            "escalation_to": "manager@switchboard.test",
        },
        "technical_issue": {
            "default_assignee": "tech",
            "skill_matching": True,
            "required_skills": ["laadpalen", "alfen"],
            "escalation_after_hours": 1.5,
            "escalation_to": "management",
        },
    }


def test_the_demo_rules_are_valid(teams):
    assert validate_rules(AUTO_ASSIGNMENT_RULES)["technical_issue"]["escalation_to"] == "management"


def test_every_bad_key_and_value_is_named(teams):
    fields = _errors(
        {
            "enabled": "yes",
            "strategy": "random",
            "technical_isue": {"default_assignee": "tech"},
            "customer_support": {
                "default_assignee": "support team",
                "escalation_after_hours": -2,
                "escalation_to": "nobody@switchboard.test",
            },
            "complaint": {"default_assignee": "tech", "priority": "high"},
            "sales_inquiry": {
                "default_assignee": "sales",
                "escalation_after_hours": 3,
                "required_skills": "offertes",
                "skill_matching": "true",
            },
            "partner_inquiry": "sales",
        }
    )
    assert fields == {
        "enabled": "must be true or false",
        "strategy": "must be one of: least_loaded",
        "technical_isue": fields["technical_isue"],
        "customer_support.default_assignee": (
            "no team 'support team'; teams: customer-service, management, sales, tech"
        ),
        "customer_support.escalation_after_hours": "must be more than 0 hours",
        "customer_support.escalation_to": (
            "no team or active person 'nobody@switchboard.test'; "
            "teams: customer-service, management, sales, tech"
        ),
        "complaint.priority": fields["complaint.priority"],
        "sales_inquiry.required_skills": "must be a list of skill words",
        "sales_inquiry.skill_matching": "must be true or false",
        "sales_inquiry.escalation_to": "required when an escalation time is set: who takes over",
        "partner_inquiry": 'must be an object such as {"default_assignee": "<team>"}',
    }
    assert fields["technical_isue"].startswith("unknown thread type; use one of customer_support")
    assert fields["complaint.priority"].startswith("unknown setting; use default_assignee")


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        (0, "must be more than 0 hours"),
        ("4", "must be a number of hours"),
        (True, "must be a number of hours"),
        (10_000, "at most 720 hours"),
    ],
)
def test_escalation_hours_must_be_a_sensible_number(teams, hours, message):
    fields = _errors(
        {
            "complaint": {
                "default_assignee": "tech",
                "escalation_after_hours": hours,
                "escalation_to": "management",
            }
        }
    )
    assert fields == {"complaint.escalation_after_hours": message}


def test_malformed_json_and_non_objects_are_refused(teams):
    with pytest.raises(InvalidRules) as caught:
        parse_rules_text('{"complaint": {"default_assignee": "tech",}}')
    assert caught.value.fields["rules"].startswith("not valid JSON: ")
    assert "line 1" in caught.value.fields["rules"]
    assert _errors(["tech"]) == {"rules": "must be a JSON object of thread types"}
    assert parse_rules_text("   ") == {}
    assert validate_rules({}) == {}


# --- the admin page ---------------------------------------------------------------


@pytest.fixture
def channel(teams):
    record = factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp Business")
    db.session.commit()
    return record


def test_admin_page_is_for_admins(client, auth, make_user, channel):
    make_user("agent", email="agent@switchboard.test")
    auth.login("agent@switchboard.test")
    assert client.get("/admin/assignment/").status_code == 403
    auth.logout()
    make_user("admin", email="admin@switchboard.test")
    auth.login("admin@switchboard.test")
    page = client.get("/admin/assignment/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "WhatsApp Business" in html
    assert "No auto-assignment" in html
    assert 'name="viewport"' in html  # laid out for phones by the base layout


def test_admin_saves_valid_rules_and_shows_them_in_words(client, auth, make_user, channel):
    make_user("admin", email="admin@switchboard.test")
    auth.login("admin@switchboard.test")
    token = auth.csrf_token("/admin/assignment/")
    rules = {
        "technical_issue": {
            "default_assignee": "Techniek",
            "required_skills": ["laadpalen"],
            "escalation_after_hours": 2,
            "escalation_to": "manager@switchboard.test",
        }
    }
    response = client.post(
        f"/admin/assignment/{channel.id}", data={"csrf_token": token, "rules": json.dumps(rules)}
    )
    assert response.status_code == 303
    db.session.expire_all()
    stored = db.session.get(CommunicationChannel, channel.id).auto_assignment_rules
    assert stored["technical_issue"]["default_assignee"] == "tech"
    html = client.get("/admin/assignment/").get_data(as_text=True)
    assert (
        "Technical issue → Techniek, needs skills laadpalen; "
        "unanswered after 2 business hours → Test manager"
    ) in html


def test_admin_sees_field_errors_and_keeps_the_text(client, auth, make_user, channel):
    """A JSON document posted whole is still checked and its errors named."""
    make_user("admin", email="admin@switchboard.test")
    auth.login("admin@switchboard.test")
    channel.auto_assignment_rules = {"default": {"default_assignee": "sales"}}
    db.session.commit()
    token = csrf_token_from(client.get("/admin/assignment/").get_data(as_text=True))
    text = '{"complaint": {"default_assignee": "nowhere", "escalation_after_hours": -1}}'
    response = client.post(
        f"/admin/assignment/{channel.id}", data={"csrf_token": token, "rules": text}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<strong>Complaint · Team</strong>: no team &#39;nowhere&#39;" in html
    assert "<strong>Complaint · Escalate after (business hours)</strong>: must be more" in html
    assert '<option value="nowhere" selected>nowhere</option>' in html  # kept in the form
    db.session.expire_all()
    assert db.session.get(CommunicationChannel, channel.id).auto_assignment_rules == {
        "default": {"default_assignee": "sales"}
    }


def _rules_form(token: str, **rows) -> dict:
    """The rules form as a browser posts it: every thread type's fields, most empty."""
    data = {"csrf_token": token, "enabled": "on", "fallback_to_busy": "on"}
    for key in [*ThreadType.values(), "default"]:
        for setting in ("default_assignee", "required_skills", "escalation_after_hours"):
            data[f"rule-{key}-{setting}"] = ""
        data[f"rule-{key}-escalation_to"] = ""
    for key, fields in rows.items():
        for setting, value in fields.items():
            data[f"rule-{key}-{setting}"] = value
    return data


def test_the_rules_form_saves_the_same_document(client, auth, make_user, channel):
    """Fields instead of JSON, stored in the shape the rules always had."""
    make_user("admin", email="admin@switchboard.test")
    auth.login("admin@switchboard.test")
    page = client.get("/admin/assignment/").get_data(as_text=True)
    assert "<textarea" not in page
    assert 'name="rule-technical_issue-default_assignee"' in page
    data = _rules_form(
        csrf_token_from(page),
        technical_issue={
            "default_assignee": "tech",
            "required_skills": "Laadpalen, zakelijk",
            "skill_matching": "on",
            "escalation_after_hours": "1,5",
            "escalation_to": "manager@switchboard.test",
        },
        default={"default_assignee": "sales"},
    )
    del data["fallback_to_busy"]  # unticked
    response = client.post(f"/admin/assignment/{channel.id}", data=data)
    assert response.status_code == 303
    db.session.expire_all()
    stored = db.session.get(CommunicationChannel, channel.id).auto_assignment_rules
    assert stored == {
        "enabled": True,
        "fallback_to_busy": False,
        "technical_issue": {
            "default_assignee": "tech",
            "skill_matching": True,
            "required_skills": ["laadpalen", "zakelijk"],
            "escalation_after_hours": 1.5,
            "escalation_to": "manager@switchboard.test",
        },
        "default": {"default_assignee": "sales"},
    }
    assert validate_rules(stored) == stored
    page = client.get("/admin/assignment/").get_data(as_text=True)
    assert 'value="1.5"' in page and 'value="laadpalen, zakelijk"' in page  # English reader
    dutch = client.get("/admin/assignment/", headers={"Accept-Language": "nl"})
    assert 'value="1,5"' in dutch.get_data(as_text=True)  # read back as 1.5 when saved again


def test_the_rules_form_names_the_bad_field(client, auth, make_user, channel):
    make_user("admin", email="admin@switchboard.test")
    auth.login("admin@switchboard.test")
    token = csrf_token_from(client.get("/admin/assignment/").get_data(as_text=True))
    data = _rules_form(
        token, complaint={"default_assignee": "sales", "escalation_after_hours": "vier"}
    )
    response = client.post(f"/admin/assignment/{channel.id}", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<strong>Complaint · Escalate after (business hours)</strong>: must be a number" in html
    assert "<strong>Complaint · Escalate to</strong>: required when an escalation" in html
    assert 'value="vier" inputmode="decimal" aria-invalid="true"' in html  # kept, marked
    db.session.expire_all()
    assert not db.session.get(CommunicationChannel, channel.id).auto_assignment_rules


def test_an_empty_rules_form_clears_the_rules(client, auth, make_user, channel):
    make_user("admin", email="admin@switchboard.test")
    auth.login("admin@switchboard.test")
    channel.auto_assignment_rules = {"default": {"default_assignee": "sales"}}
    db.session.commit()
    token = csrf_token_from(client.get("/admin/assignment/").get_data(as_text=True))
    response = client.post(f"/admin/assignment/{channel.id}", data=_rules_form(token))
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(CommunicationChannel, channel.id).auto_assignment_rules == {}


def test_saving_needs_the_csrf_token(client, auth, make_user, channel):
    make_user("admin", email="admin@switchboard.test")
    auth.login("admin@switchboard.test")
    response = client.post(f"/admin/assignment/{channel.id}", data={"rules": "{}"})
    assert response.status_code == 400
