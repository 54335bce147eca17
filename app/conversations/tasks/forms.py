"""The task form, and the translation between it and the service's field names."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from app.conversations.tasks.reminders import AMSTERDAM
from app.conversations.tasks.services import order_number_for
from app.conversations.tasks.validation import MAX_MINUTES_BEFORE
from app.platform.models import InternalTask, Team, User
from app.platform.models.enums import Priority, TaskStatus, TaskType

# 00:00 to 23:59; the service checks again for API callers.
CLOCK_TIME = r"^([01]?\d|2[0-3]):[0-5]\d$"

TASK_TYPE_LABELS = {
    TaskType.FOLLOW_UP: _l("Follow up"),
    TaskType.CALLBACK: _l("Call back"),
    TaskType.SEND_EMAIL: _l("Send e-mail"),
    TaskType.SCHEDULE_VISIT: _l("Schedule visit"),
    TaskType.ESCALATE: _l("Escalate"),
    TaskType.RESEARCH: _l("Research"),
    TaskType.DOCUMENTATION: _l("Documentation"),
    TaskType.APPROVAL_REQUEST: _l("Approval request"),
    TaskType.OTHER: _l("Other"),
}
STATUS_LABELS = {
    TaskStatus.OPEN: _lp("status", "Open"),
    TaskStatus.IN_PROGRESS: _l("In progress"),
    TaskStatus.WAITING: _l("Waiting"),
    TaskStatus.COMPLETED: _l("Completed"),
    TaskStatus.CANCELLED: _l("Cancelled"),
}
PRIORITY_LABELS = {
    Priority.LOW: _l("Low"),
    Priority.NORMAL: _l("Normal"),
    Priority.HIGH: _l("High"),
    Priority.URGENT: _l("Urgent"),
    Priority.CRITICAL: _l("Critical"),
}


def _choices(labels: dict) -> list[SelectChoice]:
    return [SelectChoice(member.value, label) for member, label in labels.items()]


# Service field name -> the form field that shows its error.
FORM_FIELD_FOR = {"order_id": "order_number", "reminder_settings": "remind_minutes_before"}


class TaskForm(FlaskForm):
    task_title = StringField(
        _l("Title"), validators=[DataRequired(message=_l("Enter a title.")), Length(max=255)]
    )
    task_description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=20000)])
    task_type = SelectField(
        _l("Type"), choices=_choices(TASK_TYPE_LABELS), default=TaskType.FOLLOW_UP.value
    )
    priority = SelectField(
        _l("Priority"),
        choices=_choices(PRIORITY_LABELS),
        default=Priority.NORMAL.value,
    )
    status = SelectField(
        _l("Status"),
        choices=_choices(STATUS_LABELS),
        default=TaskStatus.OPEN.value,
    )
    # Filled per request from the database (``set_choices``); "" means nobody.
    assigned_to_user_id = SelectField(_l("Assignee"), choices=[], default="")
    assigned_team_id = SelectField(_l("Team"), choices=[], default="")
    due_date = DateField(_l("Due date"), validators=[Optional()], render_kw={"autocomplete": "off"})
    due_time = StringField(
        _l("Due time"),
        validators=[
            Optional(),
            Regexp(CLOCK_TIME, message=_l("Enter a time as HH:MM, for example 09:30.")),
        ],
        render_kw={"type": "time", "placeholder": _l("HH:MM")},
    )
    thread_id = StringField(
        _l("Conversation id"),
        validators=[Optional(), Length(max=36)],
        render_kw={"spellcheck": "false"},
    )
    order_number = StringField(
        _l("Order number"),
        validators=[Optional(), Length(max=36)],
        render_kw={"placeholder": "CC-2026-00001", "spellcheck": "false"},
    )
    remind_minutes_before = IntegerField(
        _l("Remind the assignee (minutes before due)"),
        validators=[
            Optional(),
            NumberRange(min=0, max=MAX_MINUTES_BEFORE, message=_l("Enter 0 to 10080 minutes.")),
        ],
        render_kw={"inputmode": "numeric", "min": 0, "max": MAX_MINUTES_BEFORE},
    )
    remind_at = DateTimeLocalField(
        _l("…or remind at"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    completion_notes = TextAreaField(
        _l("Completion notes"), validators=[Optional(), Length(max=20000)]
    )
    lock_version = HiddenField()

    def set_choices(self, users: list[User], teams: list[Team]) -> None:
        self.assigned_to_user_id.choices = [SelectChoice("", _l("Unassigned"))] + [
            SelectChoice(str(user.id), user.name) for user in users
        ]
        self.assigned_team_id.choices = [SelectChoice("", _l("No team"))] + [
            SelectChoice(str(team.id), team.name) for team in teams
        ]

    def fill_from(self, task: InternalTask) -> None:
        """Show ``task``'s current values (GET of the edit page)."""
        self.task_title.data = task.task_title
        self.task_description.data = task.task_description
        self.task_type.data = task.task_type.value
        self.priority.data = task.priority.value
        self.status.data = task.status.value
        self.assigned_to_user_id.data = str(task.assigned_to_user_id or "")
        self.assigned_team_id.data = str(task.assigned_team_id or "")
        self.due_date.data = task.due_date
        self.due_time.data = task.due_time or ""
        self.thread_id.data = str(task.thread_id or "")
        self.order_number.data = order_number_for(task.order_id) or ""
        settings = task.reminder_settings or {}
        minutes = settings.get("minutes_before", settings.get("remind_before_minutes"))
        self.remind_minutes_before.data = minutes
        if settings.get("remind_at"):
            moment = datetime.fromisoformat(settings["remind_at"]).astimezone(AMSTERDAM)
            self.remind_at.data = moment.replace(tzinfo=None)
        self.completion_notes.data = task.completion_notes
        self.lock_version.data = str(task.lock_version)

    def expected_lock_version(self) -> int | None:
        try:
            return int(self.lock_version.data)
        except (TypeError, ValueError):
            return None

    def to_changes(self) -> dict[str, Any]:
        """The submitted values, named as the task service expects them."""
        reminder: dict[str, Any] = {}
        if self.remind_minutes_before.data is not None:
            reminder["minutes_before"] = self.remind_minutes_before.data
        if self.remind_at.data is not None:
            # datetime-local has no zone: the person means Amsterdam time.
            reminder["remind_at"] = self.remind_at.data.replace(tzinfo=AMSTERDAM)
        return {
            "task_title": self.task_title.data,
            "task_description": self.task_description.data,
            "task_type": self.task_type.data,
            "priority": self.priority.data,
            "status": self.status.data,
            "assigned_to_user_id": self.assigned_to_user_id.data or None,
            "assigned_team_id": self.assigned_team_id.data or None,
            "due_date": self.due_date.data,
            "due_time": self.due_time.data or None,
            "thread_id": (self.thread_id.data or "").strip() or None,
            "order_id": (self.order_number.data or "").strip() or None,
            "reminder_settings": reminder,
            "completion_notes": self.completion_notes.data,
        }

    def add_service_errors(self, fields: dict[str, str]) -> None:
        """Show the service's field errors under the matching form fields."""
        for name, problem in fields.items():
            target = getattr(self, FORM_FIELD_FOR.get(name, name), None)
            if target is None:
                target = self.task_title
            target.errors = [*target.errors, problem[:1].upper() + problem[1:].rstrip(".") + "."]
