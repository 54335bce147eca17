"""Reading a Fillout webhook body, whichever of its shapes arrives.

Fillout posts a submission as its REST API returns it::

    {"formId": "…", "formName": "…",
     "submission": {"submissionId": "…", "submissionTime": "…", "lastUpdatedAt": "…",
                    "questions": [{"id", "name", "type", "value"}, …],
                    "urlParameters": [{"id", "name", "value"}, …],
                    "calculations": […], "scheduling": […], "quiz": {…}, …}}

Some integrations flatten ``submission`` into the top level; others post
a simplified ``{"formId", "submissionId", "submittedAt", "responses": {…}}``.
All three become one :class:`Submission`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any


@dataclass
class Answer:
    """One question's answer: Fillout's question id, its label, type and value."""

    id: str
    name: str
    value: Any
    type: str | None = None


@dataclass
class Submission:
    form_id: str
    submission_id: str
    form_name: str | None = None
    submitted_at: datetime | None = None
    answers: list[Answer] = field(default_factory=list)
    url_parameters: dict[str, str] = field(default_factory=dict)

    @property
    def dedupe_key(self) -> str:
        return f"{self.form_id}:{self.submission_id}"


class InvalidSubmission(Exception):
    """Not a Fillout submission; ``fields`` names what is missing or wrong."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


def parse_submission(payload: dict) -> Submission:
    """The submission in any of the three shapes; :class:`InvalidSubmission` otherwise."""
    nested = payload.get("submission")
    body = nested if isinstance(nested, dict) else payload
    problems: dict[str, str] = {}
    form_id = _text(payload.get("formId") or body.get("formId"))
    submission_id = _text(body.get("submissionId") or payload.get("submissionId"))
    if not form_id:
        problems["formId"] = "required"
    elif len(form_id) > 120:
        problems["formId"] = "at most 120 characters"
    if not submission_id:
        problems["submissionId"] = "required"
    elif len(submission_id) > 120:
        problems["submissionId"] = "at most 120 characters"
    answers, answer_problem = _answers(body)
    if answer_problem:
        problems["questions"] = answer_problem
    submitted_raw = body.get("submissionTime") or body.get("submittedAt")
    submitted_at = _timestamp(submitted_raw)
    if submitted_raw and submitted_at is None:
        problems["submissionTime"] = "must be an ISO 8601 timestamp"
    if problems:
        raise InvalidSubmission(problems)
    return Submission(
        form_id=form_id,
        submission_id=submission_id,
        form_name=_text(payload.get("formName") or body.get("formName")) or None,
        submitted_at=submitted_at,
        answers=answers,
        url_parameters=_url_parameters(body.get("urlParameters")),
    )


def _answers(body: dict) -> tuple[list[Answer], str | None]:
    if "questions" in body:
        questions = body["questions"]
        if not isinstance(questions, list):
            return [], "must be a list of {id, name, type, value}"
        answers = []
        for question in questions:
            if not isinstance(question, dict) or not (question.get("id") or question.get("name")):
                return [], "each question needs an id or a name"
            answers.append(
                Answer(
                    id=_text(question.get("id")),
                    name=_text(question.get("name")),
                    type=_text(question.get("type")) or None,
                    value=question.get("value"),
                )
            )
        return answers, None
    responses = body.get("responses")
    if isinstance(responses, dict):
        return [
            Answer(id=str(key), name=str(key), value=value) for key, value in responses.items()
        ], None
    return [], "give questions[] (Fillout) or a responses object"


def _url_parameters(raw: Any) -> dict[str, str]:
    """``[{"id", "name", "value"}]`` (or a plain object) as ``{name: value}``."""
    if isinstance(raw, dict):
        return {str(k): _text(v) for k, v in raw.items() if _text(v)}
    parameters: dict[str, str] = {}
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, dict) and _text(item.get("value")):
            parameters[_text(item.get("name") or item.get("id"))] = _text(item.get("value"))
    return parameters


def _text(value: Any) -> str:
    if value is None or isinstance(value, (dict, list)):
        return ""
    return str(value).strip()


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
