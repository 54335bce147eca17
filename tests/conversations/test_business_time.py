"""Business-time arithmetic: opening hours, Dutch holidays, DST, pauses."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from app.conversations.business_time import clock
from app.conversations.business_time.calendar import (
    add_business_seconds,
    business_seconds_between,
    calendar_for,
    default_calendar,
    is_open,
    next_opening,
    subtract_business_seconds,
)
from app.platform.extensions import db
from app.platform.models.enums import ChannelType, ThreadStatus
from app.platform.models.sla import BusinessCalendar
from tests.support import factories

AMS = ZoneInfo("Europe/Amsterdam")
HOUR = 3600


def ams(*args) -> datetime:
    return datetime(*args, tzinfo=AMS)


def utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc)


def round_the_clock() -> BusinessCalendar:
    """Open every hour of every day (NL holidays still closed): shows DST in real hours."""
    calendar = default_calendar()
    calendar.weekly_hours = {d: [["00:00", "24:00"]] for d in calendar.weekly_hours}
    return calendar


def test_an_email_on_friday_afternoon_is_due_monday_morning():
    friday = utc(ams(2026, 6, 12, 16, 30))
    due = add_business_seconds(default_calendar(), friday, 4 * HOUR)
    assert due == utc(ams(2026, 6, 15, 11, 30))
    assert due.tzinfo == timezone.utc
    assert business_seconds_between(default_calendar(), friday, due) == 4 * HOUR
    assert business_seconds_between(default_calendar(), due, friday) == -4 * HOUR


def test_subtracting_business_time_runs_the_clock_backwards():
    monday = utc(ams(2026, 6, 15, 11, 30))
    assert subtract_business_seconds(default_calendar(), monday, 4 * HOUR) == utc(
        ams(2026, 6, 12, 16, 30)
    )
    # From a closed moment (Sunday) back to Friday's closing time; zero is the moment itself.
    sunday = utc(ams(2026, 6, 14, 12, 0))
    assert subtract_business_seconds(default_calendar(), sunday, HOUR) == utc(
        ams(2026, 6, 12, 16, 0)
    )
    assert subtract_business_seconds(default_calendar(), sunday, 0) == sunday
    # Boxing Day and Christmas are skipped going back too.
    after = utc(ams(2026, 12, 28, 9, 0))
    assert subtract_business_seconds(default_calendar(), after, 2 * HOUR) == utc(
        ams(2026, 12, 24, 16, 0)
    )


def test_the_email_channel_policy_gives_the_same_deadline(app):
    channel = factories.channel(ChannelType.EMAIL_OUTLOOK)
    thread = factories.thread(channel)
    clock.start_cycle(thread, utc(ams(2030, 6, 14, 16, 30)))  # a Friday
    assert thread.response_due_at == utc(ams(2030, 6, 17, 11, 30))
    assert thread.sla_target_seconds == 4 * HOUR


def test_kings_day_is_skipped():
    calendar = default_calendar()
    # 2026: King's Day is Monday 27 April.
    friday = utc(ams(2026, 4, 24, 16, 0))
    assert add_business_seconds(calendar, friday, 2 * HOUR) == utc(ams(2026, 4, 28, 9, 0))
    assert not is_open(calendar, utc(ams(2026, 4, 27, 10, 0)))
    # 2025: the 27th is a Sunday, so King's Day moves to Saturday 26 April.
    every_day = round_the_clock()
    assert not is_open(every_day, utc(ams(2025, 4, 26, 12, 0)))
    assert is_open(every_day, utc(ams(2025, 4, 27, 12, 0)))
    assert next_opening(every_day, utc(ams(2025, 4, 26, 12, 0))) == utc(ams(2025, 4, 27, 0, 0))


def test_christmas_and_boxing_day_are_skipped():
    christmas_eve = utc(ams(2025, 12, 24, 16, 0))  # a Wednesday
    due = add_business_seconds(default_calendar(), christmas_eve, 4 * HOUR)
    # One hour on the 24th; the 25th and 26th are holidays, then the weekend.
    assert due == utc(ams(2025, 12, 29, 11, 0))


def test_closed_dates_of_our_own_are_skipped():
    calendar = default_calendar()
    calendar.closed_dates = ["2026-06-15"]
    due = add_business_seconds(calendar, utc(ams(2026, 6, 12, 16, 30)), 4 * HOUR)
    assert due == utc(ams(2026, 6, 16, 11, 30))


def test_spring_forward_day_has_23_real_hours():
    every_day = round_the_clock()
    saturday_noon = utc(ams(2026, 3, 28, 12, 0))  # clocks go forward on Sunday 29 March
    assert add_business_seconds(every_day, saturday_noon, 24 * HOUR) == utc(ams(2026, 3, 29, 13, 0))
    sunday, monday = utc(ams(2026, 3, 29, 0, 0)), utc(ams(2026, 3, 30, 0, 0))
    assert business_seconds_between(every_day, sunday, monday) == 23 * HOUR


def test_fall_back_day_has_25_real_hours():
    every_day = round_the_clock()
    sunday, monday = utc(ams(2026, 10, 25, 0, 0)), utc(ams(2026, 10, 26, 0, 0))
    assert business_seconds_between(every_day, sunday, monday) == 25 * HOUR
    assert add_business_seconds(every_day, sunday, 24 * HOUR) == utc(ams(2026, 10, 25, 23, 0))


def test_opening_hours_follow_local_time_across_the_switch():
    calendar = default_calendar()
    friday = utc(ams(2026, 3, 27, 16, 0))
    due = add_business_seconds(calendar, friday, 2 * HOUR)
    # 08:00 local is 07:00 UTC before the switch and 06:00 UTC after it.
    assert due == datetime(2026, 3, 30, 7, 0, tzinfo=timezone.utc)
    assert next_opening(calendar, friday + timedelta(hours=3)) == datetime(
        2026, 3, 30, 6, 0, tzinfo=timezone.utc
    )


def test_next_opening_and_is_open():
    calendar = default_calendar()
    open_moment = utc(ams(2026, 6, 10, 9, 15))
    assert is_open(calendar, open_moment)
    assert next_opening(calendar, open_moment) == open_moment
    assert not is_open(calendar, utc(ams(2026, 6, 13, 9, 15)))  # Saturday
    assert next_opening(calendar, utc(ams(2026, 6, 13, 9, 15))) == utc(ams(2026, 6, 15, 8, 0))
    assert not is_open(calendar, utc(ams(2026, 6, 10, 17, 0)))  # closing time is closed


def test_zero_seconds_and_naive_datetimes():
    start = utc(ams(2026, 6, 13, 9, 0))
    assert add_business_seconds(default_calendar(), start, 0) == start
    with pytest.raises(ValueError):
        add_business_seconds(default_calendar(), datetime(2026, 6, 13, 9, 0), 60)


def test_a_calendar_with_no_opening_hours_fails_loudly():
    calendar = default_calendar()
    calendar.weekly_hours = {"mon": []}
    with pytest.raises(ValueError):
        next_opening(calendar, utc(ams(2026, 6, 13, 9, 0)))


def test_calendar_for_picks_the_channel_then_the_default(app):
    assert calendar_for(None).id is None  # nothing stored: the built-in default
    assert calendar_for(None).weekly_hours["mon"] == [["08:00", "17:00"]]
    default = BusinessCalendar(name="Kantoor", weekly_hours={"mon": [["09:00", "12:00"]]})
    default.is_default = True
    weekend = BusinessCalendar(name="Weekend", weekly_hours={"sat": [["10:00", "14:00"]]})
    db.session.add_all([default, weekend])
    db.session.flush()
    plain = factories.channel(ChannelType.EMAIL_OUTLOOK)
    special = factories.channel(ChannelType.WHATSAPP_BUSINESS, business_calendar_id=weekend.id)
    assert calendar_for(None) is default
    assert calendar_for(plain) is default
    assert calendar_for(special) is weekend


def test_waiting_on_the_customer_pauses_the_clock(app):
    channel = factories.channel(ChannelType.EMAIL_OUTLOOK)
    thread = factories.thread(channel)
    monday_nine = utc(ams(2030, 6, 17, 9, 0))
    clock.start_cycle(thread, monday_nine)
    assert thread.response_due_at == utc(ams(2030, 6, 17, 13, 0))

    thread.status = ThreadStatus.WAITING_CUSTOMER
    clock.status_changed(thread, ThreadStatus.OPEN, utc(ams(2030, 6, 17, 10, 0)))
    assert thread.sla_paused_at == utc(ams(2030, 6, 17, 10, 0))
    assert thread.response_due_at is None and thread.sla_next_check_at is None

    # Waiting from Monday 10:00 to Tuesday 10:00 is nine business hours (7 + 2).
    thread.status = ThreadStatus.OPEN
    clock.status_changed(thread, ThreadStatus.WAITING_CUSTOMER, utc(ams(2030, 6, 18, 10, 0)))
    assert thread.sla_paused_at is None
    assert thread.sla_paused_seconds == 9 * HOUR
    # Three hours were still owed at the pause: Tuesday 10:00 + 3 h.
    assert thread.response_due_at == utc(ams(2030, 6, 18, 13, 0))
    assert thread.sla_next_check_at == utc(ams(2030, 6, 18, 12, 0))  # 75 % point moved too
