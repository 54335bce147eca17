"""Ranking the likely replies to a customer's message.

Two kinds of candidate: the message templates, and the team's harvested
replies (:mod:`app.conversations.reply_suggestions.harvest`).
:mod:`app.conversations.reply_suggestions.search` finds
those sharing the question's words, and how much of its weight each shares
(rare words weigh most); harvested matches are grouped per distinct text or
template, so an answer given to many similar questions counts for each. A
candidate that shares only common words (less than ``MIN_COVERAGE``) is no
answer to the question.

Each score is weighed by the context (same language, channel, order status and
kind of conversation as the reply was given in) and by what agents did with the
candidate before (:class:`~app.platform.models.SuggestionFeedback`: taken often, it rises;
passed over, it sinks). When fewer than three match, templates made for the
conversation's kind fill the set.
"""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa

from app.conversations.message_templates.rendering import placeholders_in
from app.conversations.message_templates.variables import KNOWN_VARIABLES
from app.conversations.reply_suggestions import search
from app.conversations.reply_suggestions.placeholders import without_greeting
from app.conversations.reply_suggestions.text import plain_words
from app.platform.extensions import db
from app.platform.models import (
    CommunicationTemplate,
    SuggestionFeedback,
)
from app.platform.models.enums import TemplateCategory, TemplateChannelType

SUGGESTIONS = 3
# Less of the question's weight than this in common: not an answer to it.
MIN_COVERAGE = 0.15
# Categories never offered as a reply (notes to colleagues, automatic answers), and the
# technician's own quick replies (app.orders.mobile.quick_replies names them so).
NOT_REPLIES = (TemplateCategory.INTERNAL_NOTIFICATION, TemplateCategory.AUTO_RESPONSE)
TECHNICIAN_PREFIX = "technician_"
# A template's own wording says less about the question than a question it answered.
TEMPLATE_TEXT_WEIGHT = 0.6
OTHER_LANGUAGE, OTHER_CHANNEL, OTHER_STATUS = 0.3, 0.85, 0.75
# Filled in from the sender or typed by them: never a reason to leave a candidate out.
AGENT_VARIABLES = frozenset({"agent_name", "team_contact"})
# The templates that may fill a set the question's words left short: those made for
# the conversation's kind, else the general ones. Never a follow-up: it announces
# something that happened (an installation completed), which the words did not say.
FILLERS = {
    "installation_coordination": (TemplateCategory.INSTALLATION_SCHEDULING,),
    "technical_issue": (TemplateCategory.TECHNICAL_SUPPORT,),
    "complaint": (TemplateCategory.COMPLAINT_RESPONSE,),
    "sales_inquiry": (TemplateCategory.SALES_INQUIRY,),
}
GENERAL_FILLERS = (TemplateCategory.CUSTOMER_SERVICE,)
DONE = "completed"
# A learned prior below this: agents pass the candidate over more than they take it.
PASSED_OVER = 0.8
# An answer given in another kind of conversation (a complaint's apology in a planning
# question, an invoice's in a fault), or a template made for another kind, weighs less.
OTHER_KIND = 0.5
GENERAL_KINDS = frozenset({None, "customer_support", "partner_inquiry"})


@dataclass(frozen=True)
class Situation:
    """What the customer asked, and in what context."""

    question: str
    language: str
    channel_type: str | None
    order_status: str | None
    # Values the thread has for each known variable (None: it has none).
    values: dict[str, str | None] = field(default_factory=dict)
    thread_type: str | None = None
    # What the conversation is about (its opening message), for a short follow-up.
    topic: str = ""


@dataclass
class Candidate:
    key: str
    kind: str  # template | reply
    title: str
    language: str
    template_id: uuid.UUID | None = None
    body: str | None = None
    score: float = 0.0


def rank_sets(
    situation: Situation, approved: list[bool], limit: int = SUGGESTIONS
) -> dict[bool, list[Candidate]]:
    """The ``limit`` best candidates, best first, each distinct, for each of ``approved``
    (False: anything may be sent; True: approved templates only), the candidates found
    once: the search is most of the time, and a WhatsApp customer's message needs both."""
    everything = _usable_templates(situation)
    harvested, ranks = [], {}
    if db.session.get_bind().dialect.name == "postgresql":
        language = situation.language
        lexemes = search.terms(
            situation.question, situation.topic, lambda text: search.lexemes(text, language)
        )
        if lexemes:
            weights = search.rarity_pg(lexemes)
            harvested = search.harvested_pg(lexemes, weights)
            ranks = search.template_ranks_pg(weights, everything)
    else:
        words = search.terms(
            situation.question, situation.topic, lambda text: sorted(plain_words(text))
        )
        if words:
            harvested = search.harvested_sqlite(words)
            ranks = search.template_ranks_sqlite(words, everything)
    chosen = {}
    feedback = _Feedback()  # read once for both sets
    for approved_only in approved:
        templates = {
            template_id: template
            for template_id, template in everything.items()
            if template.whatsapp_template_name or not approved_only
        }
        # Past the WhatsApp window only an approved template may go: no typed text.
        rows = [row for row in harvested if row[1] in templates or not approved_only]
        scored: dict[str, Candidate] = {}
        _score_harvested(rows, situation, templates, scored)
        _score_templates(
            {key: value for key, value in ranks.items() if key in templates},
            templates,
            situation,
            scored,
        )
        _apply_feedback(scored, feedback)
        found = _one_per_answer(list(scored.values()), templates)[:limit]
        if len(found) < limit:
            taken = {c.key for c in found}
            found += _most_used(situation, templates, taken, limit - len(found), feedback)
        chosen[approved_only] = found[:limit]
    return chosen


# --- the candidates a situation allows ---------------------------------------------


def _usable_templates(situation: Situation) -> dict[uuid.UUID, CommunicationTemplate]:
    channels = [TemplateChannelType.ANY.value]
    if situation.channel_type:
        channels.append(situation.channel_type)
    query = sa.select(CommunicationTemplate).where(
        CommunicationTemplate.is_active.is_(True),
        CommunicationTemplate.template_category.not_in(NOT_REPLIES),
        CommunicationTemplate.channel_type.in_(channels),
        ~CommunicationTemplate.template_name.startswith(TECHNICIAN_PREFIX),
    )
    if situation.order_status not in (None, DONE):
        # A follow-up follows finished work ("your installation was completed today"):
        # never for an order still to be installed.
        query = query.where(CommunicationTemplate.template_category != TemplateCategory.FOLLOW_UP)
    return {t.id: t for t in db.session.scalars(query) if _fillable(situation, _texts(t))}


def _texts(template: CommunicationTemplate) -> list[str | None]:
    return [template.subject_template, template.message_template]


def _fillable(situation: Situation, texts: Iterable[str | None]) -> bool:
    """No known variable in ``texts`` that this thread has no value for (a planning
    answer for an order without a planned visit is no answer)."""
    if not situation.values:
        return True
    for name in placeholders_in(*texts):
        if name in AGENT_VARIABLES or name not in KNOWN_VARIABLES:
            continue  # typed by the sender (or refused when sending)
        if situation.values.get(name) is None:
            return False
    return True


# --- scores ---------------------------------------------------------------------------


def _kind_weight(situation: Situation, kind: str | None) -> float:
    """``OTHER_KIND`` for a candidate of another specific kind of conversation."""
    if situation.thread_type in GENERAL_KINDS or kind in GENERAL_KINDS:
        return 1.0
    return 1.0 if kind == situation.thread_type else OTHER_KIND


def _template_kind(template: CommunicationTemplate) -> str | None:
    """The kind of conversation a template is made for (None: any)."""
    for kind, categories in FILLERS.items():
        if template.template_category in categories:
            return kind
    return None


def _context_weight(situation: Situation, language, channel_type, order_status) -> float:
    weight = 1.0
    if (language or "nl")[:2] != situation.language[:2]:
        weight *= OTHER_LANGUAGE
    if channel_type and situation.channel_type and channel_type != situation.channel_type:
        weight *= OTHER_CHANNEL
    if order_status != situation.order_status:
        weight *= OTHER_STATUS
    return weight


def _score_harvested(rows, situation: Situation, templates: dict, scored: dict) -> None:
    """Per distinct text or template: its best match, and how often it answered alike."""
    groups: dict[str, list] = defaultdict(list)
    for row in rows:
        key, template_id, body, title, language, channel, status, kind, value = row
        if value < MIN_COVERAGE:
            continue  # only common words in common
        if template_id is not None and template_id not in templates:
            continue  # inactive, another channel's, or not fillable here
        if template_id is None and not _fillable(situation, [body]):
            continue
        kind = getattr(kind, "value", kind)
        weighted = (
            float(value)
            * _context_weight(situation, language, channel, status)
            * _kind_weight(situation, kind)
        )
        groups[key].append((weighted, template_id, body, title, language))
    for key, hits in groups.items():
        best = max(hit[0] for hit in hits)
        alike = sum(1 for hit in hits if hit[0] >= best / 2)
        score = best * (1 + math.log1p(alike))
        _, template_id, body, title, language = max(hits, key=lambda hit: hit[0])
        if template_id is not None:
            template = templates[template_id]
            candidate = Candidate(
                key, "template", template.display_name, template.language, template_id=template_id
            )
        else:
            candidate = Candidate(key, "reply", title, language or "nl", body=body)
        candidate.score = score
        scored[key] = candidate


def _score_templates(ranks: dict, templates: dict, situation: Situation, scored: dict) -> None:
    for template_id, value in ranks.items():
        if value < MIN_COVERAGE:
            continue
        template = templates[template_id]
        key = f"t:{template_id}"
        weight = _context_weight(situation, template.language, None, situation.order_status)
        weight *= _kind_weight(situation, _template_kind(template))
        score = value * TEMPLATE_TEXT_WEIGHT * weight
        if key in scored:
            scored[key].score += score / 2  # its text agrees with the answers it gave
        else:
            scored[key] = Candidate(
                key,
                "template",
                template.display_name,
                template.language,
                template_id=template_id,
                score=score,
            )


def _prior(offered: int, used: int, edited: int) -> float:
    """0.6 (always passed over) … 1.0 (no record yet) … 1.8 (always taken)."""
    taken = (used + 0.75 * edited + 1) / (offered + 3)
    return 0.6 + 1.2 * taken


class _Feedback:
    """What agents did with candidates, read once per ranking: both sets of a WhatsApp
    customer's message ask for mostly the same keys."""

    def __init__(self) -> None:
        self._priors: dict[str, float | None] = {}
        self._most_used: list[str] | None = None

    def priors(self, keys: list[str]) -> dict[str, float]:
        """The learned prior of each of ``keys`` that has a record."""
        missing = [key for key in keys if key not in self._priors]
        if missing:
            self._priors |= dict.fromkeys(missing)
            rows = db.session.execute(
                sa.select(
                    SuggestionFeedback.candidate_key,
                    SuggestionFeedback.offered,
                    SuggestionFeedback.used,
                    SuggestionFeedback.edited,
                ).where(SuggestionFeedback.candidate_key.in_(missing))
            ).all()
            for key, offered, used, edited in rows:
                self._priors[key] = _prior(offered, used, edited)
        return {key: prior for key in keys if (prior := self._priors[key]) is not None}

    def most_used(self) -> list[str]:
        """The templates agents took most often (their candidate keys), most first."""
        if self._most_used is None:
            taken = SuggestionFeedback.used + SuggestionFeedback.edited
            self._most_used = list(
                db.session.execute(
                    sa.select(SuggestionFeedback.candidate_key)
                    .where(SuggestionFeedback.candidate_key.like("t:%"), taken > 0)
                    .order_by(taken.desc())
                    .limit(20)
                ).scalars()
            )
        return self._most_used


def _apply_feedback(scored: dict[str, Candidate], feedback: _Feedback) -> None:
    for key, prior in feedback.priors(list(scored)).items():
        scored[key].score *= prior


def _answer(candidate: Candidate, templates: dict) -> str:
    """What a candidate says, greeting aside ("Beste Jan," and "Hoi Jan," say the same)."""
    if candidate.kind == "template":
        template = templates.get(candidate.template_id)
        text = template.message_template if template is not None else candidate.key
    else:
        text = candidate.body or ""
    return " ".join(without_greeting(text).lower().split())


def _one_per_answer(candidates: list[Candidate], templates: dict) -> list[Candidate]:
    """Best first, one per answer: the best-scored wording of an answer stands for the
    others (a template over the team's copies of it), and half their scores add to it, so
    an answer given in several wordings counts for each. Two chips never say the same."""
    chosen: dict[str, Candidate] = {}
    for candidate in sorted(candidates, key=lambda c: (-c.score, c.key)):
        answer = _answer(candidate, templates)
        if answer in chosen:
            chosen[answer].score += candidate.score / 2
        else:
            chosen[answer] = candidate
    return sorted(chosen.values(), key=lambda c: (-c.score, c.key))


def _most_used(
    situation: Situation, templates: dict, taken: set[str], wanted: int, feedback: _Feedback
) -> list:
    """What agents took most often in this language, of the templates that fit the
    conversation (:data:`FILLERS`), to fill a set the question left short."""
    rows = feedback.most_used()
    ranked = [key for key in rows if key not in taken]
    fitting = FILLERS.get(situation.thread_type or "", ()) + GENERAL_FILLERS
    by_key = {
        f"t:{template_id}": template
        for template_id, template in templates.items()
        if template.template_category in fitting
    }
    by_use = sorted(
        by_key,
        key=lambda k: (fitting.index(by_key[k].template_category), -(by_key[k].usage_count or 0)),
    )
    passed_over = _passed_over(list(by_key), feedback)
    filler = []
    for key in ranked + by_use:
        template = by_key.get(key)
        if template is None or key in taken or template.language[:2] != situation.language[:2]:
            continue
        if key in passed_over:
            continue
        taken.add(key)
        filler.append(
            Candidate(
                key,
                "template",
                template.display_name,
                template.language,
                template_id=template.id,
                score=0.0,
            )
        )
        if len(filler) == wanted:
            break
    return filler


def _passed_over(keys: list[str], feedback: _Feedback) -> set[str]:
    """Of ``keys``, those agents pass over more than they take: no filler."""
    return {key for key, prior in feedback.priors(keys).items() if prior < PASSED_OVER}
