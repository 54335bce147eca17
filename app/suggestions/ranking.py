"""Ranking the likely replies to a customer's message.

Two kinds of candidate: the message templates, and the team's harvested
replies (:mod:`app.suggestions.harvest`). On PostgreSQL the customer's words
are stemmed by the language's Snowball stemmer and matched against

* the harvested replies' documents (the question each answered, weighed most,
  and the reply), through their GIN index: ``ts_rank`` over the 1,000 most
  recent matches, grouped per distinct text or template, so an answer given
  to many similar questions counts for each;
* the active templates' names and texts, read as they stand (there are tens,
  and an edit counts at once without an index to keep in step).

Each score is weighed by the context (same language, channel and order status
as the reply was given in) and by what agents did with the candidate before
(:class:`~app.models.SuggestionFeedback`: taken often, it rises; passed over,
it sinks). When fewer than three match, the most used fill the set. SQLite
(``make run``) compares whole words instead of stems.
"""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import REGCONFIG, TSQUERY

from app.extensions import db
from app.message_templates.rendering import placeholders_in
from app.message_templates.variables import KNOWN_VARIABLES
from app.models import CommunicationTemplate, HarvestedReply, SuggestionFeedback
from app.models.enums import TemplateCategory, TemplateChannelType
from app.suggestions.placeholders import without_greeting
from app.suggestions.text import config_for, plain_words

SUGGESTIONS = 3
RECENT_MATCHES = 1000
MAX_LEXEMES = 32
# Categories never offered as a reply (notes to colleagues, automatic answers), and the
# technician's own quick replies (app.mobile.quick_replies names them so).
NOT_REPLIES = (TemplateCategory.INTERNAL_NOTIFICATION, TemplateCategory.AUTO_RESPONSE)
TECHNICIAN_PREFIX = "technician_"
# A template's own wording says less about the question than a question it answered.
TEMPLATE_TEXT_WEIGHT = 0.6
OTHER_LANGUAGE, OTHER_CHANNEL, OTHER_STATUS = 0.3, 0.85, 0.75
# Filled in from the sender or typed by them: never a reason to leave a candidate out.
AGENT_VARIABLES = frozenset({"agent_name", "team_contact"})


@dataclass(frozen=True)
class Situation:
    """What the customer asked, and in what context."""

    question: str
    language: str
    channel_type: str | None
    order_status: str | None
    # Values the thread has for each known variable (None: it has none).
    values: dict[str, str | None] = field(default_factory=dict)
    approved_only: bool = False


@dataclass
class Candidate:
    key: str
    kind: str  # template | reply
    title: str
    language: str
    template_id: uuid.UUID | None = None
    body: str | None = None
    score: float = 0.0


def rank(situation: Situation, limit: int = SUGGESTIONS) -> list[Candidate]:
    """The ``limit`` best candidates for ``situation``, best first, each distinct."""
    templates = _usable_templates(situation)
    scored: dict[str, Candidate] = {}
    if db.session.get_bind().dialect.name == "postgresql":
        lexemes = _lexemes(situation)
        if lexemes:
            query = sa.cast(sa.literal(" | ".join(_quoted(lexemes)), sa.Text), TSQUERY)
            harvested = _harvested_pg(query, situation, templates)
            _score_harvested(harvested, situation, templates, scored)
            _score_templates(_template_ranks_pg(query, templates), templates, situation, scored)
    else:
        words = plain_words(situation.question)
        if words:
            harvested = _harvested_sqlite(words, situation, templates)
            _score_harvested(harvested, situation, templates, scored)
            _score_templates(_template_ranks_sqlite(words, templates), templates, situation, scored)
    _apply_feedback(scored)
    chosen = _one_per_answer(list(scored.values()), templates)[:limit]
    if len(chosen) < limit:
        chosen += _most_used(situation, templates, {c.key for c in chosen}, limit - len(chosen))
    return chosen[:limit]


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
    if situation.approved_only:
        query = query.where(CommunicationTemplate.whatsapp_template_name.is_not(None))
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


# --- PostgreSQL --------------------------------------------------------------------

def _lexemes(situation: Situation) -> list[str]:
    config = sa.cast(config_for(situation.language), REGCONFIG)
    words = sa.func.unnest(sa.func.to_tsvector(config, situation.question)).table_valued(
        "lexeme"
    )
    found = db.session.scalars(sa.select(words.c.lexeme)).all()
    return sorted(set(found), key=len, reverse=True)[:MAX_LEXEMES]


def _quoted(lexemes: list[str]) -> list[str]:
    return ["'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'" for lexeme in lexemes]


def _harvested_pg(query, situation: Situation, templates: dict) -> list:
    recent = (
        sa.select(HarvestedReply.id)
        .where(HarvestedReply.document.op("@@")(query))
        .order_by(HarvestedReply.replied_at.desc())
        .limit(RECENT_MATCHES)
    )
    if situation.approved_only:
        recent = recent.where(HarvestedReply.template_id.in_(list(templates) or [None]))
    recent = recent.subquery()
    return db.session.execute(
        sa.select(
            HarvestedReply.candidate_key,
            HarvestedReply.template_id,
            HarvestedReply.body,
            HarvestedReply.title,
            HarvestedReply.language,
            HarvestedReply.channel_type,
            HarvestedReply.order_status,
            sa.func.ts_rank(HarvestedReply.document, query).label("rank"),
        ).join(recent, recent.c.id == HarvestedReply.id)
    ).all()


def _template_ranks_pg(query, templates: dict) -> dict[uuid.UUID, float]:
    if not templates:
        return {}
    T = CommunicationTemplate
    config = sa.case(
        (T.language.like("en%"), sa.cast("english", REGCONFIG)),
        else_=sa.cast("dutch", REGCONFIG),
    )
    named = sa.func.concat_ws(" ", T.display_name, T.description)
    text = sa.func.concat_ws(" ", T.subject_template, T.message_template)
    weight_a, weight_b = sa.literal_column("'A'"), sa.literal_column("'B'")
    document = sa.func.setweight(sa.func.to_tsvector(config, named), weight_a).op("||")(
        sa.func.setweight(sa.func.to_tsvector(config, text), weight_b)
    )
    rows = db.session.execute(
        sa.select(T.id, sa.func.ts_rank(document, query)).where(T.id.in_(list(templates)))
    ).all()
    return {template_id: float(value) for template_id, value in rows if value > 0}


# --- SQLite: whole words --------------------------------------------------------------


def _overlap(words: set[str], document: set[str]) -> float:
    shared = len(words & document)
    return shared / math.sqrt(len(document) + 1) if shared else 0.0


def _harvested_sqlite(words: set[str], situation: Situation, templates: dict) -> list:
    rows = db.session.execute(
        sa.select(
            HarvestedReply.candidate_key,
            HarvestedReply.template_id,
            HarvestedReply.body,
            HarvestedReply.title,
            HarvestedReply.language,
            HarvestedReply.channel_type,
            HarvestedReply.order_status,
            HarvestedReply.document,
        )
        .order_by(HarvestedReply.replied_at.desc())
        .limit(RECENT_MATCHES)
    ).all()
    found = []
    for row in rows:
        if situation.approved_only and row.template_id not in templates:
            continue
        value = _overlap(words, set((row.document or "").split()))
        if value > 0:
            found.append((*row[:7], value))
    return found


def _template_ranks_sqlite(words: set[str], templates: dict) -> dict[uuid.UUID, float]:
    ranks = {}
    for template_id, template in templates.items():
        document = plain_words(template.display_name, template.description, *_texts(template))
        if value := _overlap(words, document):
            ranks[template_id] = value
    return ranks


# --- scores ---------------------------------------------------------------------------


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
        key, template_id, body, title, language, channel, status, value = row
        if template_id is not None and template_id not in templates:
            continue  # inactive, another channel's, or not fillable here
        if template_id is None and not _fillable(situation, [body]):
            continue
        weighted = float(value) * _context_weight(situation, language, channel, status)
        groups[key].append((weighted, template_id, body, title, language))
    for key, hits in groups.items():
        best = max(hit[0] for hit in hits)
        alike = sum(1 for hit in hits if hit[0] >= best / 2)
        score = best * (1 + math.log1p(alike))
        _, template_id, body, title, language = max(hits, key=lambda hit: hit[0])
        if template_id is not None:
            template = templates[template_id]
            candidate = Candidate(key, "template", template.display_name, template.language,
                                  template_id=template_id)
        else:
            candidate = Candidate(key, "reply", title, language or "nl", body=body)
        candidate.score = score
        scored[key] = candidate


def _score_templates(ranks: dict, templates: dict, situation: Situation, scored: dict) -> None:
    for template_id, value in ranks.items():
        template = templates[template_id]
        key = f"t:{template_id}"
        weight = _context_weight(situation, template.language, None, situation.order_status)
        score = value * TEMPLATE_TEXT_WEIGHT * weight
        if key in scored:
            scored[key].score += score / 2  # its text agrees with the answers it gave
        else:
            scored[key] = Candidate(key, "template", template.display_name, template.language,
                                    template_id=template_id, score=score)


def _prior(offered: int, used: int, edited: int) -> float:
    """0.6 (always passed over) … 1.0 (no record yet) … 1.8 (always taken)."""
    taken = (used + 0.75 * edited + 1) / (offered + 3)
    return 0.6 + 1.2 * taken


def _apply_feedback(scored: dict[str, Candidate]) -> None:
    if not scored:
        return
    rows = db.session.execute(
        sa.select(
            SuggestionFeedback.candidate_key,
            SuggestionFeedback.offered,
            SuggestionFeedback.used,
            SuggestionFeedback.edited,
        ).where(SuggestionFeedback.candidate_key.in_(list(scored)))
    ).all()
    for key, offered, used, edited in rows:
        scored[key].score *= _prior(offered, used, edited)


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


def _most_used(situation: Situation, templates: dict, taken: set[str], wanted: int) -> list:
    """What agents took most often in this language, to fill a set the question left short."""
    rows = db.session.execute(
        sa.select(SuggestionFeedback.candidate_key)
        .where(
            SuggestionFeedback.candidate_key.like("t:%"),
            (SuggestionFeedback.used + SuggestionFeedback.edited) > 0,
        )
        .order_by((SuggestionFeedback.used + SuggestionFeedback.edited).desc())
        .limit(20)
    ).scalars()
    ranked = [key for key in rows if key not in taken]
    by_key = {f"t:{template_id}": template for template_id, template in templates.items()}
    filler = []
    for key in ranked + sorted(by_key, key=lambda k: -(by_key[k].usage_count or 0)):
        template = by_key.get(key)
        if template is None or key in taken or template.language[:2] != situation.language[:2]:
            continue
        taken.add(key)
        filler.append(Candidate(key, "template", template.display_name, template.language,
                                template_id=template.id, score=0.0))
        if len(filler) == wanted:
            break
    return filler
