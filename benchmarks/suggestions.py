"""Suggested replies: top-3 hit rate on a replayed history, and latency.

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/sb_bench_suggestions \
        .venv/bin/python benchmarks/suggestions.py --messages 10000
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/sb_bench_suggestions_1m \
        .venv/bin/python benchmarks/suggestions.py --messages 1000000

The history is GENERATED (benchmarks/history.py says how); no real conversation is
in it. Up to 50,000 messages it is REPLAYED in time order through the app's own
code, with the clock set to each event's moment: a customer's message is recorded
by the conversation's owner and its suggestions computed by the job's function;
then the reply the history says the agent sent is compared with the three stored
suggestions (a hit when it is one of them: the same template, or the same text once
names, order number and dates are placeholders and the sign-off is gone), and
sent: through the suggestion when it was one (picked, sent as suggested: what the
learned prior then counts), else as the history has it. A conversation is
harvested when the history resolves it and dropped again when it rates it 1–2. So
nothing is known before it happened: no look-ahead. Baselines, with the same
no-look-ahead: the most used template so far (top 1), the three most used templates
so far, and the three most frequent replies (templates or texts) so far.

Latency, after the replay (or, above 50,000 messages, on data generated in SQL by
benchmarks/_suggestions_scale.py): the job's own time for 200 new customer
questions (compute_suggestions, in process, queue wait not included), and the
thread-open part: the suggestions' share of opening a thread (reading the stored
set and filling it in) and the whole thread page and the suggestions row as the
Flask test client gets them, signed in as an agent, p50/p95 over 200 threads. The
database named by BENCH_DATABASE_URL is created if missing and wiped; --reuse keeps
what an earlier run loaded and measures the latency again (on a machine that is
busier or quieter than before, say: each run prints the load average).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

import app.platform.database as clock  # noqa: E402
from app import create_app  # noqa: E402
from app.conversations.core import InboundMessage, Sender, record_inbound  # noqa: E402
from app.conversations.reply_suggestions.compute import OPEN, compute_suggestions  # noqa: E402
from app.conversations.reply_suggestions.harvest import (  # noqa: E402
    _context,
    candidate_key,
    harvest_conversation,
    price_list,
)
from app.conversations.reply_suggestions.offer import (  # noqa: E402
    latest_set,
    offered_suggestions,
    suggestion_text,
)
from app.conversations.reply_suggestions.outcomes import record_pick  # noqa: E402
from app.conversations.reply_suggestions.placeholders import generalise, without_greeting  # noqa: E402
from app.conversations.workspace.editing import update_thread  # noqa: E402
from app.conversations.workspace.services import compose_reply  # noqa: E402
from app.platform.auth.services import create_user  # noqa: E402
from app.platform.extensions import db  # noqa: E402
from app.platform.models import (  # noqa: E402
    CommunicationChannel,
    CommunicationTemplate,
    CommunicationThread,
    Contact,
    ContactIdentity,
    CsatResponse,
    HarvestedReply,
    Order,
    SuggestionSet,
    User,
    Visit,
)
from app.platform.models.enums import (  # noqa: E402
    ChannelType,
    OrderStatus,
    Role,
    TemplateCategory,
    TemplateChannelType,
)
from app.platform.transactions import commit  # noqa: E402
from benchmarks import history  # noqa: E402
from benchmarks._suggestions_scale import load  # noqa: E402
from benchmarks._support import ensure_database, percentile, use_throwaway_secrets  # noqa: E402
from tests.support.helpers import AuthActions  # noqa: E402

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1/sb_bench_suggestions"
REPLAY_LIMIT = 50_000
PASSWORD = "demo1234"  # noqa: S105 - the documented demo password
OPEN_TARGET_MS = 200


@dataclass
class Tally:
    asked: int = 0
    top1: int = 0
    top3: int = 0
    top3_answer: int = 0  # the same answer with another greeting ("Hoi Jan," for "Beste Jan,")
    base_template1: int = 0
    base_template3: int = 0
    base_any3: int = 0
    by_kind: Counter = field(default_factory=Counter)  # kind -> replies
    hits_by_kind: Counter = field(default_factory=Counter)
    reachable: int = 0  # the reply was a template, or its text had been harvested before
    job_ms: list[float] = field(default_factory=list)

    def line(self, label: str, hits: int, of: int | None = None) -> str:
        of = self.asked if of is None else of
        return f"  {label:<58} {hits:>6} / {of:<6} {100 * hits / max(of, 1):5.1f} %"


# --- the desk -------------------------------------------------------------------------


def desk() -> dict:
    """Channels, six agents, four technicians and the team's templates."""
    channels = {
        kind: CommunicationChannel(channel_type=ChannelType(kind), channel_name=name)
        for kind, name in (("whatsapp_business", "WhatsApp"), ("email_outlook", "Klantenservice"))
    }
    db.session.add_all(channels.values())
    agents = [create_user(f"agent{n}@switchboard.test", name, Role.AGENT, PASSWORD)
              for n, (name, _, _) in enumerate(history.AGENTS)]
    technicians = {name: create_user(f"tech{n}@switchboard.test", name, Role.TECHNICIAN, PASSWORD)
                   for n, name in enumerate(history.TECHNICIANS)}
    templates = {}
    for key, (name, language, channel, approved, text) in history.TEMPLATES.items():
        templates[key] = CommunicationTemplate(
            template_name=f"bench_{key}", display_name=name, language=language,
            channel_type=TemplateChannelType(channel), whatsapp_template_name=approved,
            message_template=text,
            template_category=TemplateCategory.CUSTOMER_SERVICE,
        )
    db.session.add_all(templates.values())
    db.session.commit()
    return {"channels": channels, "agents": agents, "technicians": technicians,
            "templates": templates}


def _customer(found: dict, conv: history.Conversation) -> tuple[Contact, Order]:
    email = f"{conv.first.lower()}.{conv.n}@example.nl"
    contact = Contact(display_name=conv.full_name, first_name=conv.first, last_name=conv.last,
                      phone=conv.phone, email=email, locale=conv.language)
    db.session.add(contact)
    db.session.flush()
    address = conv.phone if conv.channel == "whatsapp_business" else email
    kind = "phone" if conv.channel == "whatsapp_business" else "email"
    db.session.add(ContactIdentity(contact_id=contact.id, kind=kind, address=address))
    order = Order(order_number=conv.order_number, status=OrderStatus(conv.order_status),
                  end_customer_contact_id=contact.id, scheduled_date=conv.visit_day,
                  assigned_technician_id=found["technicians"][conv.technician].id,
                  total_amount=1849)
    db.session.add(order)
    db.session.flush()
    if conv.visit_day:
        start, end = (datetime.strptime(t, "%H:%M").time() for t in conv.window)
        db.session.add(Visit(order_id=order.id, scheduled_date=conv.visit_day,
                             window_start=start, window_end=end))
    return contact, order


# --- the replay -----------------------------------------------------------------------


def _at(moment: datetime) -> None:
    """Set the app's clock to ``moment`` (as the tests' ``clock`` fixture does)."""
    clock._moved_on = moment - datetime.now(timezone.utc)


def _events(conversations: list[history.Conversation]) -> list[tuple]:
    events = []
    for conv in conversations:
        for turn, exchange in enumerate(conv.exchanges):
            events.append((exchange.asked_at, 0, "ask", conv, turn))
            events.append((exchange.replied_at, 1, "reply", conv, turn))
        if conv.resolved_at:
            events.append((conv.resolved_at, 2, "resolve", conv, None))
            if conv.rating is not None:
                events.append((conv.resolved_at.replace(microsecond=1), 3, "rate", conv, None))
    return sorted(events, key=lambda event: (event[0], event[1], event[3].n))


def _ask(found, state, conv, turn, tally: Tally) -> None:
    exchange = conv.exchanges[turn]
    if conv.n not in state:
        state[conv.n] = {"customer": _customer(found, conv)}
    contact, order = state[conv.n]["customer"]
    channel = found["channels"][conv.channel]
    sender = (Sender("phone", conv.phone) if conv.channel == "whatsapp_business"
              else Sender("email", contact.email, name=conv.full_name))
    inbound = InboundMessage(external_message_id=f"bench-{conv.n}-{turn}",
                             content=exchange.question, received_at=exchange.asked_at)
    message = record_inbound(channel, sender, inbound)
    if message.thread.order_id is None:
        message.thread.order_id = order.id
    commit()
    state[conv.n]["thread_id"], state[conv.n]["message_id"] = message.thread_id, message.id
    started = time.perf_counter()
    compute_suggestions(str(message.id))
    tally.job_ms.append((time.perf_counter() - started) * 1000)


def _actual_key(found, thread, reply: history.Reply, agent: User) -> tuple[str, str | None]:
    """The reply's kind and its candidate key (None: not suggestible, e.g. another date)."""
    if reply.template:
        return "template", f"t:{found['templates'][reply.template].id}"
    message = SimpleNamespace(created_at=clock.utcnow(), sender_user_id=agent.id)
    body = generalise(reply.text, _context(thread, message, price_list()))
    return "text", candidate_key(None, body) if body else None


def _normal_answer(text: str | None) -> str | None:
    return " ".join(without_greeting(text).lower().split()) if text else None


def _answer_of(found, actual, kind, reply: history.Reply, thread, agent) -> str | None:
    if actual is None:
        return None
    if kind == "template":
        return _normal_answer(found["templates"][reply.template].message_template)
    message = SimpleNamespace(created_at=clock.utcnow(), sender_user_id=agent.id)
    return _normal_answer(generalise(reply.text, _context(thread, message, price_list())))


def _answer_of_suggestion(suggestion) -> str | None:
    if suggestion.kind == "template":
        return _normal_answer(suggestion.template.message_template if suggestion.template else "")
    return _normal_answer(suggestion.body)


def _reply(found, state, conv, turn, tally: Tally, seen: dict) -> None:
    reply = conv.exchanges[turn].reply
    agent = found["agents"][reply.agent]
    thread = db.session.get(CommunicationThread, state[conv.n]["thread_id"])
    kind, actual = _actual_key(found, thread, reply, agent)
    found_set = latest_set(thread, OPEN)
    suggestions = list(found_set.suggestions) if found_set else []
    keys = [s.candidate_key for s in suggestions]
    tally.asked += 1
    tally.by_kind[kind if actual else "text, not suggestible"] += 1
    hit = actual is not None and actual in keys
    answer = _answer_of(found, actual, kind, reply, thread, agent)
    tally.top3_answer += answer is not None and answer in [
        _answer_of_suggestion(s) for s in suggestions
    ]
    tally.top1 += bool(keys) and actual == keys[0]
    tally.top3 += hit
    tally.hits_by_kind[kind] += hit
    tally.reachable += actual is not None and (kind == "template" or actual in seen["texts"])
    templates = [key for key, _ in seen["templates"].most_common(3)]
    tally.base_template1 += bool(templates) and actual == templates[0]
    tally.base_template3 += actual in templates
    tally.base_any3 += actual in [key for key, _ in seen["all"].most_common(3)]
    channel_id = thread.channel_id
    if hit:
        chosen = suggestions[keys.index(actual)]
        record_pick(thread, chosen.id, agent)
        content = suggestion_text(chosen, thread, agent)
        compose_reply(thread, agent, content=content, channel_id=channel_id,
                      suggestion_id=str(chosen.id))
    elif reply.template:
        template = found["templates"][reply.template]
        compose_reply(thread, agent, content=None, channel_id=channel_id, template_id=template.id)
    else:
        compose_reply(thread, agent, content=reply.text, channel_id=channel_id)
    commit()
    if actual:
        seen["all"][actual] += 1
        if kind == "template":
            seen["templates"][actual] += 1


def _resolve(found, state, conv, seen: dict) -> None:
    thread = db.session.get(CommunicationThread, state[conv.n]["thread_id"])
    agent = found["agents"][conv.exchanges[-1].reply.agent]
    update_thread(thread, agent, expected_version=thread.lock_version,
                  changes={"status": "resolved"})
    commit()
    harvest_conversation(str(thread.id))
    seen["texts"] |= _harvested_keys(thread.id)


def _rate(state, conv) -> None:
    thread = db.session.get(CommunicationThread, state[conv.n]["thread_id"])
    resolved = thread.resolved_at or clock.utcnow()
    db.session.add(CsatResponse(thread_id=thread.id, resolved_at=resolved, state="asked",
                                rating=conv.rating, answered_at=clock.utcnow()))
    commit()
    harvest_conversation(str(thread.id))


def _harvested_keys(thread_id) -> set[str]:
    query = sa.select(HarvestedReply.candidate_key).where(HarvestedReply.thread_id == thread_id)
    return set(db.session.scalars(query))


def replay(found: dict, conversations: list[history.Conversation]) -> Tally:
    tally, state = Tally(), {}
    seen = {"templates": Counter(), "all": Counter(), "texts": set()}
    events = _events(conversations)
    started = time.perf_counter()
    for done, (moment, _order, kind, conv, turn) in enumerate(events, start=1):
        _at(moment)
        if kind == "ask":
            _ask(found, state, conv, turn, tally)
        elif kind == "reply":
            _reply(found, state, conv, turn, tally, seen)
        elif kind == "resolve":
            _resolve(found, state, conv, seen)
        else:
            _rate(state, conv)
        if done % 1000 == 0:
            print(f"  replay: {done:,} of {len(events):,} events, "
                  f"{time.perf_counter() - started:.0f} s", flush=True)
    clock._moved_on = timedelta(0)
    return tally


def report(tally: Tally, messages: int, conversations: int) -> None:
    print(f"\nHit rate over {tally.asked:,} replies ({messages:,} messages, "
          f"{conversations:,} generated conversations, replayed in time order):")
    print(tally.line("suggestions: the reply sent is suggestion 1 (top-1)", tally.top1))
    print(tally.line("suggestions: the reply sent is among the three (top-3)", tally.top3))
    print(tally.line("  the same, counting another greeting as the same answer",
                     tally.top3_answer))
    print(tally.line("baseline: the most used template so far (top-1)", tally.base_template1))
    print(tally.line("baseline: the three most used templates so far", tally.base_template3))
    print(tally.line("baseline: the three most frequent replies so far", tally.base_any3))
    print(tally.line("ceiling: a template, or a text harvested before", tally.reachable))
    for kind, count in sorted(tally.by_kind.items()):
        hits = tally.hits_by_kind.get(kind, 0) if "not" not in kind else 0
        print(tally.line(f"  of which {kind}: in the top-3", hits, count))
    print(f"  job while replaying (in process; commits not waiting for the disk), p50 / p95: "
          f"{percentile(tally.job_ms, 50):.1f} / {percentile(tally.job_ms, 95):.1f} ms")


# --- latency ---------------------------------------------------------------------------


def measure_latency(app, found_agents: list[str], questions: list[tuple], label: str) -> None:
    """The job for each new question, then opening each thread (``questions``: thread, text)."""
    job_ms, part_ms, page_ms, row_ms = [], [], [], []
    threads = []
    for n, (channel_id, contact_phone, order_id, text) in enumerate(questions):
        channel = db.session.get(CommunicationChannel, channel_id)
        message = record_inbound(channel, Sender("phone", contact_phone), InboundMessage(
            external_message_id=f"latency-{label}-{n}", content=text,
            received_at=clock.utcnow()))
        if message.thread.order_id is None:
            message.thread.order_id = order_id  # a new conversation about the same order
        commit()
        started = time.perf_counter()
        compute_suggestions(str(message.id))
        job_ms.append((time.perf_counter() - started) * 1000)
        threads.append(message.thread_id)
    agent = db.session.scalar(sa.select(User).where(User.email == found_agents[0]))
    for thread_id in threads:
        db.session.expire_all()
        thread = db.session.get(CommunicationThread, thread_id)
        channel = db.session.get(CommunicationChannel, thread.channel_id)
        started = time.perf_counter()
        offered_suggestions(thread, channel, agent)
        part_ms.append((time.perf_counter() - started) * 1000)
    db.session.rollback()
    client = app.test_client()
    AuthActions(client).login(found_agents[0], PASSWORD)
    for thread_id in threads[:20]:  # warm-up
        client.get(f"/threads/{thread_id}")
    for thread_id in threads:
        started = time.perf_counter()
        page = client.get(f"/threads/{thread_id}")
        page_ms.append((time.perf_counter() - started) * 1000)
        assert page.status_code == 200 and b"suggestion-chip" in page.data, thread_id
        started = time.perf_counter()
        client.get(f"/threads/{thread_id}/suggestions")
        row_ms.append((time.perf_counter() - started) * 1000)
    print(f"\nLatency at {label} stored messages, {len(threads)} new questions / threads:")
    for name, samples, target in (
        ("job: rank and store the suggestions (compute_suggestions)", job_ms, None),
        ("opening a thread: the suggestions' part (read + fill in)", part_ms, OPEN_TARGET_MS),
        ("opening a thread: the whole page GET /threads/<id>", page_ms, OPEN_TARGET_MS),
        ("the row alone GET /threads/<id>/suggestions", row_ms, OPEN_TARGET_MS),
    ):
        p50, p95 = percentile(samples, 50), percentile(samples, 95)
        verdict = "" if target is None else (" (< 200 ms)" if p95 < target else " (OVER 200 ms)")
        print(f"  {name:<62} p50 {p50:7.1f}  p95 {p95:7.1f} ms{verdict}")


def _latency_questions(rng_seed: int, count: int) -> list[tuple]:
    """Open threads on WhatsApp to ask in, with questions the history would ask."""
    import random

    rng = random.Random(rng_seed)
    rows = db.session.execute(
        sa.select(CommunicationThread.channel_id, Contact.phone, CommunicationThread.order_id)
        .join(Contact, Contact.id == CommunicationThread.contact_id)
        .join(CommunicationChannel, CommunicationChannel.id == CommunicationThread.channel_id)
        .where(CommunicationChannel.channel_type == ChannelType.WHATSAPP_BUSINESS,
               CommunicationThread.order_id.is_not(None))
        .order_by(sa.func.md5(sa.cast(CommunicationThread.id, sa.Text)))
        .limit(count)
    ).all()
    topics = list(history.TOPICS.values())
    return [(*row, rng.choice(rng.choice(topics)["nl"])) for row in rows]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--seed", type=int, default=33)
    parser.add_argument("--latency-samples", type=int, default=200)
    parser.add_argument("--reuse", action="store_true",
                        help="keep the loaded database and measure the latency again only")
    return parser.parse_args()


def _synchronous_commit(database_url: str, on: bool) -> None:
    """The replay's thousands of commits need not wait for the disk; the latency does."""
    target = sa.make_url(database_url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        setting = "RESET synchronous_commit" if on else "SET synchronous_commit = off"
        conn.exec_driver_sql(f'ALTER DATABASE "{target.database}" {setting}')
    admin.dispose()
    db.engine.dispose()


def main() -> None:
    args = parse_args()
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    ensure_database(database_url)
    use_throwaway_secrets()
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": None,
                      "SEND_UNDO_SECONDS": 0}, start_embedded_worker=False)
    with app.app_context():
        if args.reuse:
            agents = [f"agent{n}@switchboard.test" for n in range(len(history.AGENTS))]
        else:
            agents = _fill(args, database_url)
        stored = db.session.scalar(sa.text("SELECT count(*) FROM communication_message"))
        sets = db.session.scalar(sa.select(sa.func.count()).select_from(SuggestionSet))
        print(f"\nStored: {stored:,} messages, {sets:,} suggestion sets; "
              f"load average {' / '.join(f'{x:.1f}' for x in os.getloadavg())}")
        questions = _latency_questions(args.seed, args.latency_samples)
        measure_latency(app, agents, questions, f"{stored:,}")


def _fill(args: argparse.Namespace, database_url: str) -> list[str]:
    """A fresh schema, the desk, and the history replayed (or loaded in SQL); the agents."""
    db.session.execute(sa.text("DROP SCHEMA public CASCADE"))
    db.session.execute(sa.text("CREATE SCHEMA public"))
    db.session.commit()
    upgrade()
    found = desk()
    agents = [agent.email for agent in found["agents"]]
    _synchronous_commit(database_url, on=False)
    if args.messages <= REPLAY_LIMIT:
        conversations = history.generate(args.messages, days=args.days, seed=args.seed)
        messages = sum(conv.messages for conv in conversations)
        started = time.perf_counter()
        tally = replay(found, conversations)
        print(f"  replay took {time.perf_counter() - started:.0f} s")
        report(tally, messages, len(conversations))
    else:
        load(found, args.messages, seed=args.seed)
    db.session.execute(sa.text("ANALYZE"))
    db.session.commit()
    _synchronous_commit(database_url, on=True)
    return agents


if __name__ == "__main__":
    main()
