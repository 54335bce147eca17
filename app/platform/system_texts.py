"""The one catalogue of system texts: what Switchboard itself writes in a timeline.

Status lines ("Anouk changed the status …"), routing reasons ("Technical issue
→ Techniek; …"), SLA and visit lines and the labels of automatic messages are
stored as a key and parameters (:class:`SystemText`, kept in the message's
``extra["system_text"]`` or the thread's ``assignment_reason_text``) and
rendered in the reader's language when a page is shown, through Flask-Babel
(:mod:`app.platform.i18n`). The English text is stored beside them (``message_content``,
``assignment_reason``) for search and the API.

A parameter is plain (a name, a number) or itself a catalogue text (a status,
a priority), which is translated too. Rows written before the catalogue have no
key and are shown as they were stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Union

from flask_babel import gettext

from app.platform.models.enums import Priority, ThreadStatus, ThreadType


def N_(msgid: str) -> str:
    """Marks a msgid for ``pybabel extract -k N_``; translated when rendered."""
    return msgid


CATALOGUE: dict[str, str] = {
    # Inline edits of a thread (app/conversations/workspace/editing.py).
    "edit.status": N_("%(actor)s changed the status from %(old)s to %(new)s"),
    "edit.priority": N_("%(actor)s changed the priority from %(old)s to %(new)s"),
    "edit.assigned": N_("%(actor)s assigned the thread to %(assignee)s"),
    "edit.took": N_("%(actor)s took the conversation"),
    "edit.unassigned": N_("%(actor)s unassigned the thread"),
    "edit.tags": N_("%(actor)s set the tags to %(tags)s"),
    "edit.team": N_("%(actor)s moved the conversation to team %(team)s"),
    "tags.none": N_("none"),
    # Snoozing a conversation (app/conversations/core/snoozing.py); times in Amsterdam.
    "snooze.until": N_("%(actor)s snoozed the conversation until %(until)s"),
    "snooze.until_reply": N_("%(actor)s snoozed the conversation until the customer replies"),
    "snooze.ended": N_("Snooze ended"),
    "snooze.ended_by_reply": N_("Snooze ended: the customer replied"),
    "snooze.cancelled": N_("%(actor)s ended the snooze"),
    # Routing reasons (app/conversations/assignment), shown as "Why here".
    "routing.rule": N_("%(thread_type)s → %(team)s"),
    # The rule's type reads as its team's name ("Klantenservice → Klantenservice"):
    # the team once (see SAME_TEAM).
    "routing.rule_team": N_("Team %(team)s"),
    "routing.any_type": N_("Any other type"),
    "routing.queue": N_("left in the %(team)s queue: %(why)s"),
    "routing.skills": N_("skills %(skills)s"),
    "routing.least_loaded": N_("%(user)s, least loaded (%(load)s open of %(capacity)s)"),
    "routing.least_loaded_turn": N_(
        "%(user)s, least loaded (%(load)s open of %(capacity)s, next in turn among equals)"
    ),
    "routing.busy_fallback": N_("busy, as nobody available had room"),
    "routing.nobody_with_skills": N_("nobody has skills %(skills)s"),
    "routing.at_capacity": N_("everyone who is in is at capacity"),
    "routing.nobody_available": N_("nobody is available"),
    "routing.among_skills": N_("%(why)s among people with skills %(skills)s"),
    "routing.rules_broken": N_(
        "Not auto-assigned: the rules of %(channel)s need fixing (%(error)s)"
    ),
    "routing.manual": N_("Assigned by %(actor)s"),
    "routing.manual_to": N_("Assigned to %(assignee)s by %(actor)s"),
    "routing.auto_lowest_load": N_("Auto-assigned: %(thread_type)s → %(team)s (lowest workload)"),
    "routing.auto_lowest_load_team": N_("Auto-assigned: team %(team)s (lowest workload)"),
    "routing.auto_to": N_("Auto-assigned to %(user)s in team %(team)s (lowest workload)"),
    "routing.escalated_to_person": N_(
        "Escalated: unanswered for %(hours)s → %(user)s, named in the rules"
    ),
    "routing.escalated_to_team": N_("Escalated: unanswered for %(hours)s → %(team)s"),
    # Team suggestions (app/conversations/assignment/suggestions): auto-routed, or followed by a
    # person.
    "routing.suggested": N_("Team suggestion → %(team)s (%(confidence)s sure)"),
    "routing.suggestion_followed": N_("%(actor)s followed the team suggestion → %(team)s"),
    "hours.one": N_("%(count)s business hour"),
    "hours.many": N_("%(count)s business hours"),
    # SLA ladder (app/conversations/sla/delivery.py).
    "sla.escalated": N_("No answer within the response time: escalated to management."),
    # Customer feedback from Make.com (app/orders/make/feedback.py).
    "feedback.score": N_("Customer rating %(score)s/%(scale)s: %(comment)s"),
    "feedback.score_no_comment": N_("Customer rating %(score)s/%(scale)s (no comment)"),
    # A technician's visit (app/orders/mobile).
    "visit.started": N_("%(actor)s started the visit on site."),
    "visit.completed": N_("%(actor)s completed the visit."),
    "visit.completed_one": N_(
        "%(actor)s completed visit %(number)s; the order goes on with visit %(next)s."
    ),
    "visit.completed_return": N_(
        "%(actor)s completed visit %(number)s; a return visit is needed (%(purpose)s)."
    ),
    # Why a later visit is needed (app.platform.models.planning.VISIT_PURPOSES).
    "visit_purpose.second_day": N_("second day"),
    "visit_purpose.missing_part": N_("return: a part was missing"),
    "visit_purpose.meter_box": N_("after the grid operator's meter box change"),
    "visit.signed": N_("Signed by %(signer)s at %(time)s."),
    "visit.on_the_way_told": N_(
        "%(actor)s is on the way to the visit (customer told by %(channel)s)."
    ),
    "visit.on_the_way_already_told": N_(
        "%(actor)s is on the way to the visit (the customer was told so already)."
    ),
    "visit.on_the_way_not_told": N_(
        "%(actor)s is on the way to the visit (customer not told: %(problem)s)."
    ),
    # Merging two conversations of one customer (app/conversations/core/merging.py).
    "merge.merged_into": N_("%(actor)s merged this conversation into “%(subject)s”."),
    "merge.merged_here": N_("%(actor)s merged the conversation “%(subject)s” into this one."),
    # Orders (demo data and status changes).
    "order.status_changed": N_("The status of order %(order)s changed to “%(status)s”."),
    "order_status.new": N_("received"),
    "order_status.quote_sent": N_("quote sent"),
    "order_status.approved": N_("approved"),
    "order_status.scheduled": N_("scheduled"),
    "order_status.in_progress": N_("being installed"),
    "order_status.completed": N_("completed"),
    "order_status.on_hold": N_("on hold"),
    "order_status.cancelled": N_("cancelled"),
    # Automatic messages: who "sent" them (post_outbound's ``automation``).
    "automation.out_of_hours": N_("Automatic reply"),
    "automation.order_status_answer": N_("Order status update"),
    "automation.order_milestone": N_("Order status update"),
    "automation.visit_reminder": N_("Visit reminder"),
    "automation.order_confirmation": N_("Order confirmation"),
    "automation.partner_order_confirmation": N_("Order confirmation (partner)"),
    "automation.order_status_update": N_("Order status update"),
    "automation.daily_digest": N_("Daily digest"),
    "automation.partner_callback_failed": N_("Callback failure alert"),
    "automation.technician_on_the_way": N_("Technician on the way"),
    "automation.bulk_email": N_("Bulk e-mail"),
    "automation.transactional_email": N_("Automatic e-mail"),
    "automation.auto_response": N_("Automatic reply"),
    "automation.csat": N_("Satisfaction survey"),
    # The customer's answer to the satisfaction survey (app/conversations/csat).
    "csat.rated": N_("Customer rated %(rating)s/5"),
    "csat.rated_comment": N_("Customer rated %(rating)s/5: %(comment)s"),
    # The body of an automatic e-mail whose content lives at the mail provider.
    "email.sent_from_template": N_("“%(template)s” e-mail sent."),
    # The line above the quoted customer mail in an e-mail reply
    # (app/conversations/workspace/email_reply.py).
    "email.quote_intro": N_("On %(date)s %(time)s, %(name)s wrote:"),
    "email.the_customer": N_("the customer"),
    # Notifications (the bell, live pushes): app/conversations/notifications and its callers.
    "notification.verbatim": N_("%(text)s"),  # what others wrote: an excerpt, a provider's error
    "notification.the_customer": N_("The customer"),
    "notification.a_colleague": N_("A colleague"),
    "notification.customer_reply": N_("%(sender)s replied: %(subject)s"),
    "notification.assigned_by": N_("%(actor)s assigned you: %(subject)s"),
    "notification.assigned": N_("Thread assigned to you: %(subject)s"),
    "notification.mention": N_("%(author)s mentioned you: %(subject)s"),
    "notification.new_whatsapp": N_("New WhatsApp message from %(sender)s"),
    "notification.new_sms": N_("New text message from %(sender)s"),
    "notification.new_email": N_("New e-mail from %(sender)s"),
    "notification.sla_passed": N_("SLA passed: %(subject)s"),
    "notification.sla_passed_body": N_(
        "The response time has passed. Please answer as soon as possible."
    ),
    "notification.new_task": N_("New task: %(task)s"),
    "notification.test": N_("Test notification"),
    "notification.test_body": N_("Background jobs and live updates work: this came from a worker."),
    "notification.task_reminder": N_("Reminder: %(task)s"),
    "notification.task_overdue": N_("Overdue since %(due)s."),
    "notification.task_due": N_("Due %(due)s."),
    "notification.task_assigned": N_("Task assigned to you: %(task)s"),
    "notification.task_from": N_("From %(actor)s."),
    "notification.task_from_due": N_("From %(actor)s. Due %(due)s."),
    "notification.intake": N_("New intake: %(customer)s"),
    "notification.intake_location": N_("Location: %(location)s"),
    "notification.unknown": N_("unknown"),
    "notification.order_to_review": N_("New order to review: %(number)s"),
    "notification.order_to_approve": N_("New order to approve: %(number)s"),
    "notification.order_from": N_("From %(partner)s."),
    "notification.channel_test_sent": N_("Test via %(provider)s sent"),
    "notification.channel_test_failed": N_("Test via %(provider)s failed"),
    "notification.whatsapp_token": N_("WhatsApp stopped sending: the access token was rejected"),
    "notification.whatsapp_token_body": N_(
        "Meta answered %(reason)s. Replies on WhatsApp fail until a new "
        "WHATSAPP_ACCESS_TOKEN is configured."
    ),
    "notification.integration_broken": N_("%(integration)s stopped working"),
    "notification.integration_reconnect": N_("%(problem)s Reconnect it on the integrations page."),
    "notification.health_failed": N_("%(label)s health check failed"),
    "notification.draft_review": N_("Partner order to review"),
    "notification.draft_review_body": N_(
        "%(partner)s: %(subject)s — %(confidence)s%% sure. Check and approve."
    ),
    "notification.no_subject": N_("(no subject)"),
    "notification.callback_failed": N_("Callback to %(who)s failed: %(what)s"),
    "notification.callback_gave_up": N_(
        "Gave up after %(attempts)s attempt(s) to %(url)s: %(reason)s"
    ),
    "notification.sla": N_("SLA: %(subject)s"),
    "notification.sla_answer_due": N_("%(stage)s. Answer due %(due)s."),
    "notification.sla_overdue_by": N_("%(stage)s. Overdue by %(span)s."),
    "notification.sla_stage": N_("%(stage)s."),
    "notification.sla_digest": N_("%(count)s conversations need attention (SLA)"),
    "notification.sla_digest_line": N_("%(subject)s (%(stage)s)"),
    "notification.sla_digest_more": N_("… and %(count)s more"),
    # Integration health checks (app/integrations/health.py), on /integrations.
    "health.whatsapp_sandbox": N_("no access token or phone number ID: messages are sandboxed"),
    "health.whatsapp_ok": N_("%(number)s (quality %(quality)s)"),
    "health.sendgrid_sandbox": N_("no API key: e-mail is sandboxed"),
    "health.sendgrid_no_send_scope": N_("the API key lacks the mail.send scope"),
    "health.sendgrid_ok": N_("key valid, %(count)s scopes"),
    "health.teams_sandbox": N_("no TEAMS_WEBHOOK_URLS: cards are sandboxed"),
    "health.teams_card_failed": N_("last card failed: %(error)s"),
    "health.teams_ok": N_("%(count)s channel(s) configured; last card delivered: %(last)s"),
    "health.teams_ok_no_card_yet": N_("%(count)s channel(s) configured; no card delivered yet"),
    "health.make_sandbox": N_("no MAKE_WEBHOOK_URLS: scenarios are not called"),
    "health.make_call_failed": N_("last call to %(event)s failed: %(error)s"),
    "health.make_ok": N_("%(count)s scenario(s) configured"),
    "health.pdok_no_response": N_("the answer has no response object"),
    "health.pdok_ok": N_("%(postcode)s: %(count)s address(es) found"),
    "health.timeout": N_("no answer within %(seconds)s s"),
    "health.connection_failed": N_("connection failed (%(error)s)"),
    "health.http_error": N_("HTTP %(status)s: %(words)s"),
    "health.no_error_text": N_("no error text"),
    "health.no_reason": N_("no reason given"),
    "health.test_failed": N_("connection test failed"),
    "health.test_passed": N_("connection test passed"),
    "sla_step.used": N_("%(percent)s%% of the response time used"),
    "sla_step.3": N_("response deadline passed: escalated to management"),
    "sla_step.3_first": N_("Response deadline passed: escalated to management"),
    "sla_step.4": N_("24 hours overdue"),
    # Labels used as parameters.
    "status.open": N_("open"),
    "status.in_progress": N_("in progress"),
    "status.waiting_customer": N_("waiting customer"),
    "status.waiting_internal": N_("waiting internal"),
    "status.escalated": N_("escalated"),
    "status.resolved": N_("resolved"),
    "status.closed": N_("closed"),
    "priority.low": N_("low"),
    "priority.normal": N_("normal"),
    "priority.high": N_("high"),
    "priority.urgent": N_("urgent"),
    "priority.critical": N_("critical"),
    "thread_type.customer_support": N_("Customer support"),
    "thread_type.partner_inquiry": N_("Partner inquiry"),
    "thread_type.installation_coordination": N_("Installation coordination"),
    "thread_type.technical_issue": N_("Technical issue"),
    "thread_type.sales_inquiry": N_("Sales inquiry"),
    "thread_type.complaint": N_("Complaint"),
    "thread_type.internal_task": N_("Internal task"),
    "thread_type.project_discussion": N_("Project discussion"),
}

Param = Union[str, int, float, "SystemText"]

# Routing lines that name a thread type and the team it goes to, and their form
# naming the team once: used when the type, in the reader's words, is the team's
# name (customer support → the team Klantenservice reads "Klantenservice" twice).
SAME_TEAM = {
    "routing.rule": "routing.rule_team",
    "routing.auto_lowest_load": "routing.auto_lowest_load_team",
}


@dataclass(frozen=True)
class SystemText:
    """A catalogue key and its parameters: one sentence, in no language yet."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.key not in CATALOGUE:
            raise KeyError(f"system text {self.key!r} is not in the catalogue")
        # Fails here, where the line is written, not later on a page.
        CATALOGUE[self.key] % _english_params(self.params)

    def to_json(self) -> dict:
        return {"key": self.key, "params": {k: _param_json(v) for k, v in self.params.items()}}

    def english(self) -> str:
        """The text in English (the msgids are English): stored for search and the API."""
        params = _english_params(self.params)
        return CATALOGUE[_worded(self.key, params)] % params

    def render(self) -> str:
        """The text in the current locale (the request's, or one forced by the caller)."""
        params = _rendered_params(self.params)
        return gettext(CATALOGUE[_worded(self.key, params)], **params)


Sentence = Union[SystemText, list[SystemText]]


def text(key: str, **params: Param) -> SystemText:
    """A catalogue text; raises KeyError for a key or parameter the catalogue lacks."""
    return SystemText(key, params)


def label(prefix: str, value: Any) -> SystemText:
    """The catalogue label of an enum value: ``label("status", ThreadStatus.OPEN)``."""
    return SystemText(f"{prefix}.{getattr(value, 'value', value)}")


def status_label(status: ThreadStatus) -> SystemText:
    return label("status", status)


def priority_label(priority: Priority) -> SystemText:
    return label("priority", priority)


def thread_type_label(key: str) -> SystemText:
    if key in {t.value for t in ThreadType}:
        return label("thread_type", key)
    return SystemText("routing.any_type")


def hours_text(value: float) -> SystemText:
    number = int(value) if float(value).is_integer() else value
    return text("hours.one" if number == 1 else "hours.many", count=number)


def verbatim(value: Any) -> SystemText:
    """Text we did not write (a customer's words, a provider's error), shown as it is."""
    return SystemText("notification.verbatim", {"text": str(value)})


def parts(sentence: Sentence) -> list[SystemText]:
    return list(sentence) if isinstance(sentence, list) else [sentence]


def english(sentence: Sentence) -> str:
    """A sentence (or its parts, joined by "; ") in English."""
    return "; ".join(part.english() for part in parts(sentence))


def to_json(sentence: Sentence) -> list[dict]:
    """What is stored: always a list of parts."""
    return [part.to_json() for part in parts(sentence)]


def from_json(stored: Any) -> list[SystemText] | None:
    """The parts stored by :func:`to_json`; None for anything else (then show the text)."""
    if isinstance(stored, dict):
        stored = [stored]
    if not isinstance(stored, list) or not stored:
        return None
    try:
        return [_from_dict(item) for item in stored]
    except (KeyError, TypeError, ValueError):
        return None


def render_stored(stored: Any, fallback: str | None) -> str:
    """The stored sentence in the reader's language, or ``fallback`` (older rows)."""
    found = from_json(stored)
    if found is None:
        return fallback or ""
    return "; ".join(part.render() for part in found)


def _from_dict(item: dict) -> SystemText:
    params = {
        name: _from_dict(value) if isinstance(value, dict) else value
        for name, value in (item.get("params") or {}).items()
    }
    return SystemText(item["key"], params)


def _worded(key: str, params: Mapping[str, Any]) -> str:
    """The key to write: ``key``, or its :data:`SAME_TEAM` form when the words repeat."""
    same = SAME_TEAM.get(key)
    if same and str(params.get("thread_type", "")).casefold() == str(params["team"]).casefold():
        return same
    return key


def _param_json(value: Param):
    return value.to_json() if isinstance(value, SystemText) else value


def _english_params(params: Mapping[str, Any]) -> dict:
    return {k: v.english() if isinstance(v, SystemText) else v for k, v in params.items()}


def _rendered_params(params: Mapping[str, Any]) -> dict:
    return {k: v.render() if isinstance(v, SystemText) else v for k, v in params.items()}


# --- who sent an automatic message -------------------------------------------------

# Mails sent through SendGrid before ``automation`` was stored name their template key.
OLD_AUTOMATIC_TYPES = {"auto_response": "auto_response"}


def automation_of(message) -> str | None:
    """The kind of automation that wrote ``message`` (a catalogue ``automation.*`` key).

    Read from ``extra["automation"]`` (set by ``post_outbound``); for rows written
    before it, guessed from what they carry: an auto-response, a SendGrid mail.
    """
    extra = message.extra or {}
    kind = extra.get("automation")
    if kind is None and extra.get("provider") == "sendgrid" and message.sender_user_id is None:
        kind = email_automation(extra.get("template_key"))
    if kind is None:
        kind = OLD_AUTOMATIC_TYPES.get(getattr(message.message_type, "value", None))
    return kind if kind and f"automation.{kind}" in CATALOGUE else None


def email_automation(template_key: str | None) -> str:
    """The automation kind of a transactional mail, by our SendGrid template key."""
    if template_key and f"automation.{template_key}" in CATALOGUE:
        return template_key
    return "transactional_email"


def automation_label(message) -> str:
    """The sender shown for an automatic message, in the reader's language."""
    kind = automation_of(message)
    return SystemText(f"automation.{kind}").render() if kind else ""


def provider_detail(message) -> str | None:
    """Internal details of an automatic message (template ids), for admins' tooltips."""
    extra = message.extra or {}
    sendgrid = extra.get("sendgrid") or {}
    if sendgrid.get("template_id"):
        return f"SendGrid template {sendgrid['template_id']} ({extra.get('template_key')})"
    if extra.get("template_name"):
        return f"WhatsApp template {extra['template_name']}"
    if message.template_id:
        return f"Template {message.template_id}"
    return None
