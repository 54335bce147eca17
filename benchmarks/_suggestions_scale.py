"""Set-based load for benchmarks/suggestions.py above 50,000 messages (1,000,000 say).

Replaying a million messages through the app would take hours, so the latency at
that size is measured on data GENERATED inside PostgreSQL (INSERT … SELECT over
generate_series). What the rows say comes from benchmarks/history.py: about 20,000
exchanges are generated there first (question, the reply as sent, and that reply
made general the way harvesting makes it, or its template), and every thread of
the load takes two of them. Per four messages: one thread (two questions, two
replies); one contact per two threads, each with an order planned on a visit;
85 % of threads resolved, whose replies are harvested (their full-text document
built as harvesting builds it); each thread's latest customer message has its
suggestion set of three (the one a thread page reads; older sets are never read
again, so they are left out to keep the load short); and each distinct candidate
has use counts. Secondary indexes are dropped
for the load and rebuilt after it; foreign-key triggers are skipped (the ids are
consistent by construction).
"""

from __future__ import annotations

import contextlib
import time

import sqlalchemy as sa

from app.conversations.reply_suggestions.harvest import candidate_key
from app.conversations.reply_suggestions.placeholders import ReplyContext, generalise, title_of
from app.platform.extensions import db
from benchmarks import history

TABLES = ("contacts", "contact_identities", "orders", "visits", "communication_thread",
          "communication_message", "harvested_replies", "suggestion_sets", "reply_suggestions",
          "suggestion_feedback")  # fmt: skip
SHAPE_MESSAGES = 40_000


@contextlib.contextmanager
def phase(label: str):
    started = time.perf_counter()
    yield
    print(f"  load: {label:<44} {time.perf_counter() - started:6.1f} s", flush=True)


def shapes(found: dict, seed: int) -> dict[str, list]:
    """Exchanges of the generated history, each with its reply made general (or None)."""
    templates = {key: str(template.id) for key, template in found["templates"].items()}
    rows = {name: [] for name in ("q", "reply", "body", "tmpl", "key", "title", "lang", "chan",
                                  "status")}  # fmt: skip
    for conv in history.generate(SHAPE_MESSAGES, seed=seed):
        window = conv.window
        for exchange in conv.exchanges:
            reply = exchange.reply
            agent = history.AGENTS[reply.agent][0]
            if reply.template:
                text = history.TEMPLATES[reply.template][4].replace(
                    "{{customer_name}}", conv.full_name)
                body, tmpl = None, templates[reply.template]
                key = f"t:{tmpl}"
            else:
                text, tmpl = reply.text, None
                context = ReplyContext(
                    sent_on=exchange.replied_at.date(), customer_name=conv.full_name,
                    customer_first_name=conv.first, customer_last_name=conv.last,
                    order_number=conv.order_number, visit_date=conv.visit_day,
                    visit_start=window[0], visit_end=window[1],
                    technician_name=conv.technician, agent_name=agent,
                )
                body = generalise(text, context)
                key = candidate_key(None, body) if body else None
            rows["q"].append(exchange.question)
            rows["reply"].append(text)
            rows["body"].append(body)
            rows["tmpl"].append(tmpl)
            rows["key"].append(key)
            rows["title"].append(title_of(body)[:120] if body else "")
            rows["lang"].append(conv.language)
            rows["chan"].append(conv.channel)
            rows["status"].append(conv.order_status)
    return rows


def load(found: dict, messages: int, *, seed: int) -> None:
    threads = messages // 4
    contacts = max(threads // 2, 1)
    with phase("shapes from benchmarks/history.py"):
        params = shapes(found, seed)
    params.update(
        threads=threads, contacts=contacts, shapes=len(params["q"]),
        channels=[str(found["channels"]["whatsapp_business"].id),
                  str(found["channels"]["email_outlook"].id)],
        agents=[str(agent.id) for agent in found["agents"]],
        techs=[str(tech.id) for tech in found["technicians"].values()],
        first=history.FIRST, last=history.LAST,
    )
    with db.engine.connect() as conn:
        run = conn.exec_driver_sql
        for setting in ("synchronous_commit = off", "work_mem = '256MB'",
                        "maintenance_work_mem = '1GB'", "session_replication_role = replica"):
            run(f"SET {setting}")
        run("SELECT setseed(0.33)")
        indexes = conn.execute(sa.text(
            "SELECT indexname, indexdef FROM pg_indexes i WHERE schemaname = 'public' "
            "AND tablename IN :tables AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
        ).bindparams(sa.bindparam("tables", expanding=True)), {"tables": list(TABLES)}).all()
        for name, _ in indexes:
            run(f'DROP INDEX "{name}"')
        _run_all(conn, SHAPES_SQL, params)
        for label, statements in STEPS:
            with phase(label.format(**params)):
                _run_all(conn, statements, params)
        with phase(f"rebuild {len(indexes)} secondary indexes"):
            for _, definition in indexes:
                run(definition)
        conn.commit()
    autocommit = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    with phase("VACUUM ANALYZE"), autocommit as conn:
        for table in TABLES:
            conn.exec_driver_sql(f"VACUUM (ANALYZE) {table}")


def _run_all(conn, statements: str, params: dict) -> None:
    """Each statement of ``statements`` (one per ``;`` at a line's end) on its own."""
    for statement in statements.split(";\n"):
        if statement.strip():
            conn.execute(sa.text(statement), params)


SHAPES_SQL = """
CREATE TEMP TABLE bench_shape AS
SELECT s - 1 AS s, q, reply, body, CAST(tmpl AS uuid) AS tmpl, key, title, lang, chan, status
FROM unnest(CAST(:q AS text[]), CAST(:reply AS text[]), CAST(:body AS text[]),
            CAST(:tmpl AS text[]), CAST(:key AS text[]), CAST(:title AS text[]),
            CAST(:lang AS text[]), CAST(:chan AS text[]), CAST(:status AS text[]))
     WITH ORDINALITY AS x(q, reply, body, tmpl, key, title, lang, chan, status, s);
CREATE UNIQUE INDEX ON bench_shape (s);
ANALYZE bench_shape;
"""

STEPS = [
    ("contacts, identities, orders, visits ({contacts:,})", """
INSERT INTO contacts (id, contact_type, first_name, last_name, display_name, email, phone,
  is_primary, locale, metadata, created_at, updated_at)
SELECT CAST(md5('contact-' || n) AS uuid), 'person', f, l, f || ' ' || l,
  lower(f) || '.' || n || '@example.nl', '+3162' || lpad(n::text, 7, '0'), true,
  CASE WHEN n % 10 = 0 THEN 'en' ELSE 'nl' END, '{}', now(), now()
FROM (SELECT n, (CAST(:first AS text[]))[1 + n % 40] AS f,
             (CAST(:last AS text[]))[1 + (n * 7) % 42] AS l
      FROM generate_series(1, :contacts) AS n) s;
INSERT INTO contact_identities (id, contact_id, kind, address, created_at, updated_at)
SELECT gen_random_uuid(), CAST(md5('contact-' || n) AS uuid), 'phone',
  '+3162' || lpad(n::text, 7, '0'), now(), now()
FROM generate_series(1, :contacts) AS n;
INSERT INTO orders (id, order_number, status, source, order_type, business_entity,
  channel_contact_ids, partner_external_references, installation_preferences, needs_review,
  review_reasons, total_amount, currency, end_customer_contact_id, scheduled_date,
  assigned_technician_id, created_at, updated_at)
SELECT CAST(md5('order-' || n) AS uuid), 'CC-' || (3000 + n / 100000) || '-'
  || lpad((n % 100000)::text, 5, '0'), 'scheduled', 'manual', 'installation', 'chargecars',
  '[]', '{}', '{}', false, '[]', 1849, 'EUR', CAST(md5('contact-' || n) AS uuid),
  current_date + (2 + n % 20), (CAST(:techs AS uuid[]))[1 + n % 4], now(), now()
FROM generate_series(1, :contacts) AS n;
INSERT INTO visits (id, order_id, scheduled_date, window_start, window_end, duration_minutes,
  version, created_at, updated_at)
SELECT gen_random_uuid(), CAST(md5('order-' || n) AS uuid), current_date + (2 + n % 20),
  (ARRAY[time '08:00', time '12:00', time '08:00'])[1 + n % 3],
  (ARRAY[time '12:00', time '17:00', time '17:00'])[1 + n % 3], 120, 1, now(), now()
FROM generate_series(1, :contacts) AS n;
"""),
    ("threads ({threads:,})", """
CREATE TEMP TABLE bench_plan AS
SELECT g, gen_random_uuid() AS id, 1 + (g - 1) % :contacts AS cn,
  CASE WHEN abs(hashint4(g)) % 100 < 65 THEN 1 ELSE 2 END AS ch,
  CASE WHEN random() < .85 THEN 'resolved' ELSE 'open' END AS status,
  abs(hashint4(g * 2)) % :shapes AS s1, abs(hashint4(g * 2 + 1)) % :shapes AS s2,
  now() - interval '1 hour' - random() * interval '365 days' AS started
FROM generate_series(1, :threads) AS g;
INSERT INTO communication_thread (id, thread_subject, thread_type, priority, status, channel_id,
  contact_id, order_id, last_message_at, last_customer_message_at, resolved_at,
  sla_paused_seconds, sla_stage, tags, external_references, lock_version, created_at,
  updated_at, urgency_bucket, urgency_score)
SELECT p.id, 'Vraag ' || p.g, 'customer_support', 'normal', p.status,
  (CAST(:channels AS uuid[]))[p.ch], CAST(md5('contact-' || p.cn) AS uuid),
  CAST(md5('order-' || p.cn) AS uuid), p.started + interval '3 hours',
  p.started + interval '2 hours', CASE WHEN p.status = 'resolved'
  THEN p.started + interval '4 hours' END, 0, 0, '[]', '{}', 1, p.started,
  p.started + interval '3 hours', CASE WHEN p.status = 'resolved' THEN 3 ELSE 2 END,
  -CAST(EXTRACT(EPOCH FROM p.started) AS BIGINT)
FROM bench_plan p;
"""),
    ("messages ({threads:,} × 4)", """
INSERT INTO communication_message (id, thread_id, channel_id, message_type, sender_user_id,
  sender_contact_id, sender_external, recipient_external, message_content, attachments,
  external_message_id, delivery_status, metadata, template_id, created_at, updated_at)
SELECT CAST(md5('message-' || p.g || '-' || k) AS uuid), p.id,
  (CAST(:channels AS uuid[]))[p.ch],
  CASE WHEN k % 2 = 0 THEN 'incoming' ELSE 'outgoing' END,
  CASE WHEN k % 2 = 1 THEN (CAST(:agents AS uuid[]))[1 + (p.g + k) % 6] END,
  CASE WHEN k % 2 = 0 THEN CAST(md5('contact-' || p.cn) AS uuid) END, '{}', '{}',
  CASE WHEN k % 2 = 0 THEN sh.q ELSE sh.reply END, '[]', 'bench-' || p.g || '-' || k,
  'delivered', '{}', CASE WHEN k % 2 = 1 THEN sh.tmpl END,
  p.started + k * interval '1 hour', p.started + k * interval '1 hour'
FROM bench_plan p CROSS JOIN generate_series(0, 3) AS k
JOIN bench_shape sh ON sh.s = CASE WHEN k < 2 THEN p.s1 ELSE p.s2 END;
"""),
    ("harvested replies of resolved threads", """
INSERT INTO harvested_replies (id, message_id, thread_id, template_id, body, candidate_key, title,
  question, language, channel_type, order_status, replied_at, document, created_at, updated_at)
SELECT gen_random_uuid(), CAST(md5('message-' || p.g || '-' || k) AS uuid), p.id, sh.tmpl,
  sh.body, sh.key, sh.title, sh.q, sh.lang, sh.chan, sh.status,
  p.started + k * interval '1 hour',
  setweight(to_tsvector(CASE WHEN sh.lang = 'en' THEN 'english' ELSE 'dutch' END::regconfig,
                        sh.q), 'A')
  || setweight(to_tsvector(CASE WHEN sh.lang = 'en' THEN 'english' ELSE 'dutch' END::regconfig,
                           coalesce(sh.body, '')), 'B'),
  now(), now()
FROM bench_plan p CROSS JOIN (VALUES (1), (3)) AS ks(k)
JOIN bench_shape sh ON sh.s = CASE WHEN k < 2 THEN p.s1 ELSE p.s2 END
WHERE p.status = 'resolved' AND sh.key IS NOT NULL;
"""),
    ("a suggestion set of three per thread", """
INSERT INTO suggestion_sets (id, message_id, thread_id, set_name, message_at, language,
  channel_type, order_status, created_at, updated_at)
SELECT CAST(md5('set-' || p.g || '-' || k) AS uuid),
  CAST(md5('message-' || p.g || '-' || k) AS uuid), p.id, 'open',
  p.started + k * interval '1 hour', 'nl', 'whatsapp_business', 'scheduled',
  p.started + k * interval '1 hour', p.started + k * interval '1 hour'
FROM bench_plan p CROSS JOIN (VALUES (2)) AS ks(k);
INSERT INTO reply_suggestions (id, set_id, rank, kind, template_id, candidate_key, title, body,
  language, score, created_at, updated_at)
SELECT gen_random_uuid(), CAST(md5('set-' || p.g || '-' || k) AS uuid), r,
  CASE WHEN sh.tmpl IS NULL THEN 'reply' ELSE 'template' END, sh.tmpl, sh.key, sh.title,
  sh.body, sh.lang, 1.0 / r, now(), now()
FROM bench_plan p CROSS JOIN (VALUES (2)) AS ks(k) CROSS JOIN generate_series(1, 3) AS r
JOIN LATERAL (SELECT * FROM bench_shape WHERE key IS NOT NULL
              AND s >= (p.s1 + k * 7 + r * 13) % :shapes ORDER BY s LIMIT 1) sh ON true;
"""),
    ("use counts per candidate", """
INSERT INTO suggestion_feedback (id, candidate_key, offered, used, edited, created_at,
  updated_at)
SELECT gen_random_uuid(), key, 50 + n % 400, n % 50, n % 20, now(), now()
FROM (SELECT key, row_number() OVER (ORDER BY key) AS n
      FROM (SELECT DISTINCT key FROM bench_shape WHERE key IS NOT NULL) d) k;
"""),
]
