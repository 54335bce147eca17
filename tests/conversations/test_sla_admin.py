"""/admin/sla: calendars and policies, validated field by field, for admins only."""

from __future__ import annotations

import html
import re

import sqlalchemy as sa

from app.conversations.business_time.calendar import calendar_for
from app.conversations.business_time.policies import DEFAULT_POLICIES, target_seconds
from app.platform.extensions import db
from app.platform.models import CommunicationChannel
from app.platform.models.enums import ChannelType, Priority
from app.platform.models.sla import BusinessCalendar, SlaPolicy
from tests.support import factories

PAGE = "/admin/sla/"
WEEK = {
    "hours_mon": "08:00-12:00, 13:00-17:00",
    "hours_tue": "08:00-17:00",
    "hours_wed": "08:00-17:00",
    "hours_thu": "08:00-17:00",
    "hours_fri": "08:00-16:00",
    "hours_sat": "",
    "hours_sun": "",
}


def _admin(auth, make_user):
    make_user("admin", email="admin@switchboard.test")
    auth.login("admin@switchboard.test")


def _post(client, auth, path, data):
    return client.post(path, data={**data, "csrf_token": auth.csrf_token(PAGE)})


def test_only_admins_may_open_the_page(client, auth, make_user):
    assert client.get(PAGE).status_code == 302  # to the login page
    make_user("manager", email="manager@switchboard.test")
    auth.login("manager@switchboard.test")
    assert client.get(PAGE).status_code == 403


def test_the_page_stores_and_shows_the_defaults(client, auth, make_user):
    _admin(auth, make_user)
    page = client.get(PAGE)
    assert page.status_code == 200
    text = html.unescape(page.get_data(as_text=True))
    assert "Kantooruren (NL)" in text and "08:00-17:00" in text
    assert "75%: a reminder to the assignee" in text
    assert db.session.scalar(sa.select(sa.func.count(SlaPolicy.id))) == len(DEFAULT_POLICIES)
    [calendar] = db.session.scalars(sa.select(BusinessCalendar)).all()
    assert calendar.is_default and calendar.holiday_country == "NL"
    client.get(PAGE)
    assert db.session.scalar(sa.select(sa.func.count(BusinessCalendar.id))) == 1


def test_a_bad_calendar_is_refused_with_each_field_named(client, auth, make_user):
    _admin(auth, make_user)
    client.get(PAGE)
    response = _post(
        client,
        auth,
        "/admin/sla/calendars",
        {
            **WEEK,
            "name": "Zaterdagdienst",
            "timezone": "Europe/Atlantis",
            "holiday_country": "XX",
            "hours_tue": "17:00-08:00",
            "hours_wed": "8 tot 5",
            "closed_dates": "2030-12-24\n24-12-2030",
        },
    )
    assert response.status_code == 422
    text = html.unescape(response.get_data(as_text=True))
    for field in ("timezone", "holiday_country", "hours_tue", "hours_wed", "closed_dates"):
        assert f'id="calendar-new-{field}-error"' in text, field
    assert "the end must come after the start" in text
    assert 'value="Zaterdagdienst"' in text  # what was typed is kept
    names = db.session.scalars(sa.select(BusinessCalendar.name)).all()
    assert names == ["Kantooruren (NL)"]


def test_a_week_without_opening_hours_is_refused(client, auth, make_user):
    _admin(auth, make_user)
    client.get(PAGE)
    closed_week = {key: "" for key in WEEK}
    response = _post(
        client,
        auth,
        "/admin/sla/calendars",
        {**closed_week, "name": "Dicht", "timezone": "Europe/Amsterdam"},
    )
    assert response.status_code == 422
    assert 'id="calendar-new-hours_mon-error"' in response.get_data(as_text=True)


def test_a_new_calendar_takes_over_the_channels_ticked(client, auth, make_user):
    _admin(auth, make_user)
    whatsapp = factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp")
    mail = factories.channel(ChannelType.EMAIL_OUTLOOK, channel_name="Outlook")
    db.session.commit()
    client.get(PAGE)
    response = _post(
        client,
        auth,
        "/admin/sla/calendars",
        {
            **WEEK,
            "name": "WhatsApp-dienst",
            "timezone": "Europe/Amsterdam",
            "holiday_country": "nl",
            "closed_dates": "2030-12-24 2030-12-31",
            "channel_ids": [str(whatsapp.id)],
        },
    )
    assert response.status_code == 303
    db.session.expire_all()
    calendar = db.session.scalar(
        sa.select(BusinessCalendar).where(BusinessCalendar.name == "WhatsApp-dienst")
    )
    assert calendar.weekly_hours["mon"] == [["08:00", "12:00"], ["13:00", "17:00"]]
    assert calendar.weekly_hours["sat"] == []
    assert calendar.holiday_country == "NL"
    assert calendar.closed_dates == ["2030-12-24", "2030-12-31"]
    assert calendar_for(db.session.get(CommunicationChannel, whatsapp.id)) == calendar
    assert calendar_for(db.session.get(CommunicationChannel, mail.id)).name == "Kantooruren (NL)"

    # Made the default: the old default steps down; it cannot be un-defaulted by itself.
    response = _post(
        client,
        auth,
        f"/admin/sla/calendars/{calendar.id}",
        {
            **WEEK,
            "name": "WhatsApp-dienst",
            "timezone": "Europe/Amsterdam",
            "holiday_country": "NL",
            "is_default": "1",
        },
    )
    assert response.status_code == 303
    db.session.expire_all()
    defaults = db.session.scalars(
        sa.select(BusinessCalendar.name).where(BusinessCalendar.is_default.is_(True))
    ).all()
    assert defaults == ["WhatsApp-dienst"]
    assert db.session.get(CommunicationChannel, whatsapp.id).business_calendar_id is None
    response = _post(
        client,
        auth,
        f"/admin/sla/calendars/{calendar.id}",
        {**WEEK, "name": "WhatsApp-dienst", "timezone": "Europe/Amsterdam"},
    )
    assert response.status_code == 422
    assert f'id="calendar-{calendar.id}-is_default-error"' in response.get_data(as_text=True)


def test_the_default_calendar_cannot_be_deleted_but_others_can(client, auth, make_user):
    _admin(auth, make_user)
    client.get(PAGE)
    default = db.session.scalar(sa.select(BusinessCalendar))
    extra = BusinessCalendar(name="Extra", weekly_hours={"mon": [["09:00", "10:00"]]})
    db.session.add(extra)
    db.session.flush()
    channel = factories.channel(ChannelType.SMS, business_calendar_id=extra.id)
    db.session.commit()
    extra_id, channel_id = extra.id, channel.id
    assert _post(client, auth, f"/admin/sla/calendars/{default.id}/delete", {}).status_code == 422
    assert _post(client, auth, f"/admin/sla/calendars/{extra.id}/delete", {}).status_code == 303
    db.session.expire_all()
    assert db.session.get(BusinessCalendar, extra_id) is None
    assert db.session.get(CommunicationChannel, channel_id).business_calendar_id is None


def test_policies_are_validated_and_used(client, auth, make_user):
    _admin(auth, make_user)
    client.get(PAGE)
    bad = _post(
        client,
        auth,
        "/admin/sla/policies",
        {"name": "", "channel_type": "fax", "priority": "whenever", "response_minutes": "-5"},
    )
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    for field in ("name", "channel_type", "priority", "response_minutes"):
        assert f'id="policy-new-{field}-error"' in text, field

    duplicate = _post(
        client,
        auth,
        "/admin/sla/policies",
        {"name": "Mail again", "channel_type": "email_outlook", "response_minutes": "100"},
    )
    assert duplicate.status_code == 422
    assert "already covers" in html.unescape(duplicate.get_data(as_text=True))

    saved = _post(
        client,
        auth,
        "/admin/sla/policies",
        {
            "name": "Urgent mail",
            "channel_type": "email_outlook",
            "priority": "urgent",
            "response_minutes": "120",
            "is_active": "1",
        },
    )
    assert saved.status_code == 303
    mail = factories.channel(ChannelType.EMAIL_OUTLOOK)
    assert target_seconds(factories.thread(mail, priority=Priority.URGENT)) == 120 * 60
    assert target_seconds(factories.thread(mail, priority=Priority.NORMAL)) == 240 * 60

    policy = db.session.scalar(sa.select(SlaPolicy).where(SlaPolicy.name == "Urgent mail"))
    db.session.commit()
    edited = _post(
        client,
        auth,
        f"/admin/sla/policies/{policy.id}",
        {
            "name": "Urgent mail",
            "channel_type": "email_outlook",
            "priority": "urgent",
            "response_minutes": "90",
        },
    )
    assert edited.status_code == 303
    db.session.expire_all()
    policy = db.session.get(SlaPolicy, policy.id)
    assert policy.response_minutes == 90 and policy.is_active is False  # unticked: inactive
    assert _post(client, auth, f"/admin/sla/policies/{policy.id}/delete", {}).status_code == 303
    assert db.session.scalar(sa.select(SlaPolicy).where(SlaPolicy.name == "Urgent mail")) is None


def test_each_calendar_and_policy_is_one_closed_section(client, auth, make_user):
    """Not a wall of forms; one thing opened at a time, no JS needed."""
    _admin(auth, make_user)
    text = client.get(PAGE).get_data(as_text=True)
    sections = re.findall(r'<details class="card sla-item[^>]*>', text)
    assert len(sections) == 1 + 1 + len(DEFAULT_POLICIES) + 1  # calendar, new, policies, new
    assert all('name="sla-edit"' in tag and " open" not in tag for tag in sections)
    response = _post(client, auth, "/admin/sla/calendars", {**WEEK, "name": "", "timezone": "x"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    failed = re.search(r'<details [^>]*data-testid="calendar-new"[^>]*>', page)
    assert failed and failed.group(0).endswith(" open>")
