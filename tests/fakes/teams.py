"""A fake Teams Workflows webhook: any path takes a card, like a flow's trigger URL.

It answers 202 Accepted to a well-formed ``message`` carrying Adaptive Card
attachments and 400 (with the problems listed) to anything else, so a test
learns both that a card arrived and that Teams could render it. ``arrivals``
notes when each post came, to check retry timing.
"""

from __future__ import annotations

import json
import threading
import time

from flask import jsonify, request

from tests.fakes import FakeServer

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SUPPORTED_VERSIONS = ("1.0", "1.1", "1.2", "1.3", "1.4", "1.5")
ELEMENT_TYPES = ("TextBlock", "FactSet", "ColumnSet", "Container", "Image")
ACTION_TYPES = ("Action.OpenUrl", "Action.ShowCard", "Action.ToggleVisibility")


def card_problems(message) -> list[str]:
    """What Teams would refuse in a Workflows ``message`` body (empty when valid)."""
    if not isinstance(message, dict) or message.get("type") != "message":
        return ['type must be "message"']
    attachments = message.get("attachments")
    if not isinstance(attachments, list) or not attachments:
        return ["attachments must be a non-empty list"]
    problems = []
    for index, attachment in enumerate(attachments):
        where = f"attachments[{index}]"
        if attachment.get("contentType") != CARD_CONTENT_TYPE:
            problems.append(f"{where}.contentType must be {CARD_CONTENT_TYPE}")
        card = attachment.get("content") or {}
        if card.get("type") != "AdaptiveCard":
            problems.append(f"{where}.content.type must be AdaptiveCard")
        if card.get("version") not in SUPPORTED_VERSIONS:
            problems.append(f"{where}.content.version {card.get('version')!r} is not supported")
        if card.get("$schema") != "http://adaptivecards.io/schemas/adaptive-card.json":
            problems.append(f"{where}.content.$schema is wrong")
        for position, element in enumerate(card.get("body") or []):
            problems += _element_problems(element, f"{where}.content.body[{position}]")
        for position, action in enumerate(card.get("actions") or []):
            if action.get("type") not in ACTION_TYPES:
                problems.append(f"{where}.content.actions[{position}].type is unknown")
            if action.get("type") == "Action.OpenUrl" and not str(action.get("url", "")).startswith(
                ("http://", "https://")
            ):
                problems.append(f"{where}.content.actions[{position}].url must be absolute")
    return problems


def _element_problems(element: dict, where: str) -> list[str]:
    kind = element.get("type")
    if kind not in ELEMENT_TYPES:
        return [f"{where}.type {kind!r} is unknown"]
    if kind == "TextBlock" and not isinstance(element.get("text"), str):
        return [f"{where}.text is required"]
    if kind == "FactSet":
        facts = element.get("facts")
        if not isinstance(facts, list) or not all(
            isinstance(f.get("title"), str) and isinstance(f.get("value"), str) for f in facts
        ):
            return [f"{where}.facts need string title and value"]
    return []


class FakeTeams(FakeServer):
    def __init__(self) -> None:
        super().__init__("fake-teams")
        self.arrivals: list[tuple[str, float, int]] = []
        self._arrival_lock = threading.Lock()

        @self.app.post("/<path:hook>")
        def receive(hook):
            problems = card_problems(request.get_json(silent=True))
            if problems:
                return jsonify(
                    {"error": {"code": "InvalidRequestContent", "message": problems}}
                ), 400
            return "", 202

        @self.app.after_request
        def _note_arrival(response):
            with self._arrival_lock:
                self.arrivals.append((request.path, time.monotonic(), response.status_code))
            return response

    def cards_to(self, path: str) -> list[dict]:
        """The Adaptive Cards (attachment contents) posted to ``path``."""
        return [
            json.loads(r.body)["attachments"][0]["content"]
            for r in self.requests
            if r.path == path and r.method == "POST"
        ]
