"""SLA scan and /analytics at scale: 100,000 open threads and 1,000,000 messages.

    .venv/bin/python benchmarks/sla.py [--open 100000 --closed 50000 --messages 1000000
                                        --due-share 0.015 --runs 5 --reuse]
    .venv/bin/python benchmarks/sla.py --scale 10m [--reuse]   # 10 M messages, 2 M threads

The PostgreSQL database BENCH_DATABASE_URL (default
postgresql+psycopg://postgres@127.0.0.1/sb_bench_sla) is created if missing, wiped
and migrated, then filled in SQL: the staff and channels of benchmarks/inbox.py,
``--open`` open threads with their SLA columns set (``--due-share`` of them with
``sla_next_check_at`` already past, the rest due in the next three days),
``--closed`` resolved or closed threads from the past year, ``--messages`` messages
spread over all of them, tasks and ladder alerts (``--scale 10m``: 10 M messages
over 2 M threads, 200,000 of them open; loaded in about ten minutes). The analytics
roll-ups of every past day are then built with the rebuild code (``flask analytics
rebuild``). With --reuse a loaded database is kept (migrated to this checkout, its
roll-ups built if it has none, or again with --rebuild). Jobs run on the embedded
queue unless BENCH_REDIS_URL is set (not needed: nothing is delivered, after-commit
work only enqueues).

It prints:

(0) the roll-up build, and one dirty day recomputed as the periodic job does;
(a) one escalation scan, ``app.conversations.sla.ladder.scan(now)``, over the due backlog
    (restored before each run, so every run does the same work), then a scan with
    nothing due; plus the scan's core query alone with EXPLAIN ANALYZE;
(b) ``GET /analytics`` through the Flask test client, signed in as a manager, for
    the default 30 days and for 365 days, with the SQL time of each figure.

Targets: scan < 1 s, analytics < 1 s (p95 of --runs runs after one warm-up).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from app import create_app  # noqa: E402
from app.analytics.calls import call_figures  # noqa: E402
from app.analytics.figures import FIGURES  # noqa: E402
from app.analytics.filters import local_today, parse_filter, team_choices  # noqa: E402
from app.analytics.rollups import mark_dirty, rebuild, refresh  # noqa: E402
from app.analytics.services import build_dashboard  # noqa: E402
from app.analytics.sql import prepare_connection  # noqa: E402
from app.platform.auth import two_factor  # noqa: E402
from app.platform.database import utcnow  # noqa: E402
from app.platform.extensions import db  # noqa: E402
from app.platform.models import (  # noqa: E402
    AnalyticsDay,
    CommunicationTemplate,
    RecoveryCode,
    TotpCredential,
    User,
)
from app.platform.models.enums import Role, TemplateCategory  # noqa: E402
from benchmarks._inbox_data import AGENT_PASSWORD, create_staff_and_channels, phase  # noqa: E402
from benchmarks._support import ensure_database, use_throwaway_secrets  # noqa: E402
from tests.support.helpers import AuthActions, enroll_two_factor  # noqa: E402

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1/sb_bench_sla"
TARGET_MS = 1000.0
# Bulk-load session: no FK triggers (ids are consistent by construction), big sort memory.
LOAD_SETTINGS = (
    "synchronous_commit = off",
    "work_mem = '512MB'",
    "maintenance_work_mem = '1GB'",
    "session_replication_role = replica",
)
# --scale presets; 10m keeps the 1m shape (a tenth of the threads open, five messages a thread).
SCALES = {
    "1m": {"open": 100_000, "closed": 50_000, "messages": 1_000_000, "tasks": 20_000},
    "10m": {"open": 200_000, "closed": 1_800_000, "messages": 10_000_000, "tasks": 200_000},
}
TABLES = ("communication_thread", "communication_message", "internal_task", "sla_alerts")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--open", type=int, default=100_000, help="open threads")
    parser.add_argument("--closed", type=int, default=50_000, help="resolved/closed threads")
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--tasks", type=int, default=20_000)
    parser.add_argument("--due-share", type=float, default=0.015)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="keep a database that has data")
    parser.add_argument(
        "--rebuild", action="store_true", help="rebuild the analytics roll-ups of a reused database"
    )
    parser.add_argument(
        "--analytics-only",
        action="store_true",
        help="skip the escalation scan (and the roll-up catch-up after it): measure /analytics",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also time each figure of the year view alone and cProfile one year request",
    )
    parser.add_argument(
        "--scale",
        choices=sorted(SCALES),
        help="a preset size: 1m (the defaults) or 10m (10 M messages, 2 M threads)",
    )
    args = parser.parse_args()
    if args.scale:
        for name, value in SCALES[args.scale].items():
            setattr(args, name, value)
    return args


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def summary(samples: list[float]) -> str:
    p95 = percentile(samples, 95)
    verdict = "PASS" if p95 < TARGET_MS else "FAIL"
    return (
        f"p50 {statistics.median(samples):7.1f} ms  p95 {p95:7.1f} ms  "
        f"max {max(samples):7.1f} ms  (target < {TARGET_MS:.0f} ms: {verdict})"
    )


# --- the load ----------------------------------------------------------------------

# Thread g (1-based) has id md5('sla-thread-g'), so messages can point at it by number.
THREADS_SQL = """
CREATE TEMP TABLE bench_thread AS
WITH r AS (
  SELECT g, random() AS r_ch, random() AS r_st, random() AS r_team, random() AS r_user,
         random() AS r_age, random() AS r_due, random() AS r_resp, random() AS r_pri,
         random() AS r_biz, g <= :open AS is_open
  FROM generate_series(1, :open + :closed) AS g
), s AS (
  SELECT r.*,
    CASE WHEN r_ch < .45 THEN 1 WHEN r_ch < .80 THEN 2 WHEN r_ch < .90 THEN 3
         WHEN r_ch < .95 THEN 4 ELSE 5 END AS ch,
    CASE WHEN r_team < .45 THEN 1 WHEN r_team < .70 THEN 2 WHEN r_team < .85 THEN 3 ELSE 4 END
      AS team_no,
    CASE WHEN NOT is_open THEN CASE WHEN r_st < .6 THEN 'resolved' ELSE 'closed' END
         WHEN r_st < .55 THEN 'open' WHEN r_st < .80 THEN 'in_progress'
         WHEN r_st < .92 THEN 'waiting_customer' WHEN r_st < .97 THEN 'waiting_internal'
         ELSE 'escalated' END AS status,
    -- Open threads too reach back a year, so messages spread over the year
    -- (about an eighth of them in the last 30 days) instead of piling up recently.
    CASE WHEN is_open THEN now() - r_age * interval '365 days'
         ELSE now() - interval '2 days' - r_age * interval '363 days' END AS created
  FROM r
), t AS (
  SELECT s.*, u.id AS user_id,
    CASE ch WHEN 1 THEN 14400 WHEN 2 THEN 3600 WHEN 5 THEN 7200 ELSE 28800 END AS target,
    CASE WHEN s.is_open AND status <> 'waiting_customer' AND r_due < :due_share THEN 'due'
         WHEN s.is_open AND status <> 'waiting_customer' THEN 'later' END AS sla
  FROM s
  LEFT JOIN (SELECT team_no, count(*) AS size FROM bench_user GROUP BY team_no) ts
    ON ts.team_no = s.team_no
  LEFT JOIN bench_user u ON u.team_no = s.team_no
    AND u.k = CASE WHEN r_user < .9 THEN 1 + floor(r_user / .9 * ts.size)::int END
)
SELECT g, CAST(md5('sla-thread-' || g) AS uuid) AS id, ch,
  (CAST(:channels AS uuid[]))[ch] AS channel_id, (CAST(:teams AS uuid[]))[team_no] AS team_id,
  user_id, status, is_open, target, sla, r_resp, r_biz, r_pri,
  -- A due thread's cycle started minutes ago: the scan fires its first step only.
  CASE WHEN sla = 'due' THEN now() - interval '10 minutes' ELSE created END AS created,
  CASE WHEN sla = 'due' THEN now() - r_due / :due_share * interval '10 minutes'
       WHEN sla = 'later' THEN now() + r_due * interval '3 days' END AS next_check,
  CASE WHEN NOT is_open THEN created + interval '1 hour' + r_resp * interval '5 days' END
    AS resolved
FROM t;
"""

INSERT_THREADS_SQL = """
INSERT INTO communication_thread (id, thread_subject, thread_type, priority, status, channel_id,
  assigned_team_id, assigned_to_user_id, last_message_at, response_due_at, first_response_at,
  resolved_at, sla_paused_at, sla_paused_seconds, sla_stage, sla_started_at, sla_target_seconds,
  sla_cycle, sla_next_check_at, first_response_seconds, resolution_seconds, tags,
  external_references, lock_version, created_at, updated_at, urgency_bucket, urgency_score)
SELECT id, 'Vraag over laadpaal ' || g,
  CASE WHEN ch IN (3, 4) THEN 'internal_task' ELSE 'customer_support' END,
  CASE WHEN r_pri < .1 THEN 'low' WHEN r_pri < .7 THEN 'normal' WHEN r_pri < .9 THEN 'high'
       ELSE 'urgent' END,
  status, channel_id, team_id, user_id, coalesce(resolved, now() - r_resp * interval '1 day'),
  due, first_response, resolved,
  CASE WHEN status = 'waiting_customer' THEN created + interval '1 hour' END, 0,
  CASE WHEN status = 'escalated' THEN 3 ELSE 0 END, created, target, 1, next_check,
  CASE WHEN first_response IS NOT NULL AND r_biz < .8
       THEN CAST(EXTRACT(EPOCH FROM first_response - created) * .6 AS int) END,
  CASE WHEN resolved IS NOT NULL AND r_biz < .8
       THEN CAST(EXTRACT(EPOCH FROM resolved - created) * .3 AS int) END,
  '[]', '{}', 1, created, created,
  CASE WHEN NOT is_open THEN 3 WHEN due IS NULL THEN 2 WHEN ch IN (3, 4) THEN 1 ELSE 0 END,
  CASE WHEN is_open AND due IS NOT NULL THEN CAST(EXTRACT(EPOCH FROM due) AS bigint)
       ELSE -CAST(EXTRACT(EPOCH FROM coalesce(resolved, created)) AS bigint) END
FROM (
  SELECT b.*,
    CASE WHEN status <> 'waiting_customer' THEN created + target * 2.5 * interval '1 second' END
      AS due,
    -- Most threads have been answered; some late (past their deadline).
    CASE WHEN sla = 'due' OR (is_open AND r_resp > .7) THEN NULL
         ELSE created + r_resp * target * 3.2 * interval '1 second' END AS first_response
  FROM bench_thread b
) x;
"""

# Message m belongs to thread 1 + m % threads; its time falls inside its thread's life.
MESSAGES_SQL = """
INSERT INTO communication_message (id, thread_id, channel_id, message_type, sender_user_id,
  sender_external, recipient_external, message_content, attachments, delivery_status,
  template_id, metadata, created_at, updated_at)
SELECT gen_random_uuid(), b.id, b.channel_id, mtype,
  CASE WHEN mtype IN ('outgoing', 'internal_note') THEN b.user_id END, '{}', '{}',
  'Bericht ' || m, '[]', 'delivered',
  CASE WHEN mtype IN ('outgoing', 'auto_response') AND r_tpl < .4
       THEN (CAST(:templates AS uuid[]))[1 + (m % 3)] END,
  '{}', at, at
FROM (
  SELECT m, 1 + m % :threads AS g, random() AS r_type, random() AS r_tpl, random() AS r_at
  FROM generate_series(1, :messages) AS m
) s
JOIN bench_thread b ON b.g = s.g
CROSS JOIN LATERAL (SELECT
  CASE WHEN b.ch IN (3, 4) THEN 'internal_note' WHEN s.m <= :threads OR r_type < .45 THEN 'incoming'
       WHEN r_type < .85 THEN 'outgoing' WHEN r_type < .93 THEN 'internal_note'
       WHEN r_type < .97 THEN 'auto_response' ELSE 'system_notification' END AS mtype,
  b.created + r_at * (coalesce(b.resolved, now()) - b.created) AS at) x
ORDER BY at;
"""

TASKS_SQL = """
INSERT INTO internal_task (id, task_title, task_type, priority, status, assigned_to_user_id,
  assigned_team_id, thread_id, due_date, due_time, completed_at, reminder_settings,
  lock_version, created_at, updated_at)
SELECT gen_random_uuid(), 'Terugbellen ' || n, 'callback', 'normal',
  CASE WHEN r_done < .7 THEN 'completed' ELSE 'open' END, b.user_id, b.team_id, b.id,
  CAST(b.created + interval '2 days' AS date), CASE WHEN n % 3 = 0 THEN '10:00' END,
  CASE WHEN r_done < .7 THEN b.created + r_late * interval '3 days' END, '{}', 1, b.created,
  b.created
FROM (SELECT n, random() AS r_done, random() AS r_late, 1 + (n * 7) % :threads AS g
      FROM generate_series(1, :tasks) AS n) s
JOIN bench_thread b ON b.g = s.g;
"""

ALERTS_SQL = """
INSERT INTO sla_alerts (id, thread_id, sla_cycle, step, due_at, recipients, created_at, updated_at)
SELECT gen_random_uuid(), id, 1, step, created, '[]', created, created
FROM bench_thread CROSS JOIN generate_series(1, 3) AS step
WHERE status = 'escalated';
"""


def create_templates() -> list[str]:
    templates = [
        CommunicationTemplate(
            template_name=f"Standaard antwoord {n}",
            template_category=TemplateCategory.CUSTOMER_SERVICE,
            message_template="Beste {{naam}}, dank voor uw bericht.",
        )
        for n in (1, 2, 3)
    ]
    db.session.add_all(templates)
    db.session.commit()
    return [str(t.id) for t in templates]


def load(args: argparse.Namespace) -> None:
    with phase("schema (DROP SCHEMA, migrations)"):
        db.session.execute(sa.text("DROP SCHEMA public CASCADE"))
        db.session.execute(sa.text("CREATE SCHEMA public"))
        db.session.commit()
        upgrade()
    with phase("teams, users, channels, templates (ORM)"):
        staff = create_staff_and_channels()
        templates = create_templates()
    threads = args.open + args.closed
    params = {
        "open": args.open, "closed": args.closed, "threads": threads,
        "messages": args.messages, "tasks": args.tasks, "due_share": args.due_share,
        "channels": staff["channels"], "teams": staff["teams"], "templates": templates,
    }  # fmt: skip
    with db.engine.connect() as conn:
        run = conn.exec_driver_sql
        for setting in LOAD_SETTINGS:
            run(f"SET {setting}")
        run("SELECT setseed(0.6)")
        indexes = conn.execute(
            sa.text(
                "SELECT indexname, indexdef FROM pg_indexes i WHERE schemaname = 'public' "
                "AND tablename IN :tables AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
            ).bindparams(sa.bindparam("tables", expanding=True)),
            {"tables": list(TABLES)},
        ).all()
        for name, _ in indexes:
            run(f'DROP INDEX "{name}"')
        conn.execute(
            sa.text(
                "CREATE TEMP TABLE bench_user AS SELECT * FROM unnest(CAST(:team AS int[]), "
                "CAST(:k AS int[]), CAST(:id AS uuid[])) AS u(team_no, k, id)"
            ),
            staff["users"],
        )
        with phase(f"thread plan ({threads:,})"):
            conn.execute(sa.text(THREADS_SQL), params)
            run("CREATE INDEX ON bench_thread (g)")
            run("ANALYZE bench_thread")
        with phase(f"threads ({args.open:,} open, {args.closed:,} closed)"):
            conn.execute(sa.text(INSERT_THREADS_SQL), params)
        with phase(f"messages ({args.messages:,})"):
            conn.execute(sa.text(MESSAGES_SQL), params)
        with phase(f"tasks ({args.tasks:,}) and ladder alerts"):
            conn.execute(sa.text(TASKS_SQL), params)
            conn.execute(sa.text(ALERTS_SQL), params)
        with phase(f"rebuild {len(indexes)} secondary indexes"):
            for _, definition in indexes:
                run(definition)
        conn.commit()
    autocommit = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    with phase("VACUUM ANALYZE"), autocommit as conn:
        for table in (*TABLES, "users", "teams", "communication_channel"):
            conn.exec_driver_sql(f"VACUUM (ANALYZE) {table}")


def loaded() -> bool:
    try:
        return bool(db.session.scalar(sa.text("SELECT count(*) FROM communication_thread")))
    except sa.exc.ProgrammingError:
        db.session.rollback()
        return False


# --- the analytics roll-ups -----------------------------------------------------------


def vacuum_if_needed() -> None:
    """VACUUM the thread table if its visibility map is mostly unset, as the load meant to.

    The load's VACUUM cannot mark pages all-visible while a transaction older than
    the load is open anywhere on the server (another benchmark's load, say); then
    the workload figure's index-only count reads every open thread from the heap.
    Autovacuum would not come round for a table that only had inserts long since.
    """
    visible, pages = db.session.execute(
        sa.text(
            "SELECT relallvisible, relpages FROM pg_class WHERE relname = 'communication_thread'"
        )
    ).one()
    db.session.rollback()
    if pages and visible < pages / 2:
        started = time.perf_counter()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM communication_thread")
        print(
            f"  VACUUM communication_thread: {visible:,} of {pages:,} pages were all-visible "
            f"({time.perf_counter() - started:.1f} s)"
        )


def build_rollups(args: argparse.Namespace) -> None:
    """Roll up every past day with the rebuild code (``flask analytics rebuild``), once.

    A reused database keeps its roll-ups unless ``--rebuild``; then one day is
    marked dirty and recomputed, as the periodic job does after a late change.
    """
    have = db.session.scalar(sa.select(sa.func.count()).select_from(AnalyticsDay))
    if args.rebuild or not have:
        started = time.perf_counter()
        rows = rebuild(batch_days=14)
        print(
            f"  roll-ups: {rows:,} rows over every past day, "
            f"{time.perf_counter() - started:.1f} s (flask analytics rebuild)"
        )
    day = local_today() - timedelta(days=7)
    mark_dirty([day])
    db.session.commit()
    started = time.perf_counter()
    days = refresh()
    print(
        f"  roll-ups: the periodic job recomputed {days} day(s) (one marked dirty) in "
        f"{(time.perf_counter() - started) * 1000:.0f} ms"
    )


# --- (a) the escalation scan ----------------------------------------------------------


def snapshot_backlog() -> int:
    """Keep the due threads' SLA state, so each run can start from the same backlog.

    A reused database already has it (and may hold the state a previous run left):
    the backlog is put back in full instead.
    """
    if db.session.scalar(sa.text("SELECT to_regclass('bench_due') IS NOT NULL")):
        restore_backlog(utcnow())
        return db.session.scalar(sa.text("SELECT count(*) FROM bench_due"))
    db.session.execute(
        sa.text(
            "CREATE TABLE bench_due AS SELECT id, sla_next_check_at, sla_stage, status, "
            "urgency_bucket, urgency_score FROM communication_thread "
            "WHERE sla_next_check_at <= now()"
        )
    )
    db.session.commit()
    return db.session.scalar(sa.text("SELECT count(*) FROM bench_due"))


def restore_backlog(since, limit: int | None = None) -> None:
    """Undo a scan: put back the SLA state of ``limit`` backlog threads (all by default).

    Alerts, notifications, tasks and Teams deliveries made since ``since`` are removed.
    """
    db.session.execute(
        sa.text(
            "UPDATE communication_thread t SET sla_next_check_at = d.sla_next_check_at, "
            "sla_stage = d.sla_stage, status = d.status, urgency_bucket = d.urgency_bucket, "
            "urgency_score = d.urgency_score FROM (SELECT * FROM bench_due ORDER BY id "
            "LIMIT :limit) d WHERE d.id = t.id"
        ),
        {"limit": limit},
    )
    for table in ("sla_alerts", "notifications", "internal_task", "outbound_deliveries"):
        db.session.execute(
            sa.text(f"DELETE FROM {table} WHERE created_at >= :since"),  # noqa: S608
            {"since": since},
        )
    db.session.commit()


def core_query_ms() -> tuple[float, str]:
    sql = (
        "SELECT id FROM communication_thread WHERE sla_next_check_at <= now() "
        "ORDER BY sla_next_check_at LIMIT 500 FOR UPDATE SKIP LOCKED"
    )
    samples = []
    for _ in range(5):
        started = time.perf_counter()
        db.session.execute(sa.text(sql)).all()
        samples.append((time.perf_counter() - started) * 1000)
        db.session.rollback()
    plan = db.session.execute(sa.text("EXPLAIN (ANALYZE, COSTS OFF) " + sql)).scalars().all()
    db.session.rollback()
    return statistics.median(samples), "\n".join("      " + line for line in plan)


def bench_scan(args: argparse.Namespace) -> None:
    try:
        from app.conversations.sla.ladder import scan
    except ImportError:
        scan = None
    due = snapshot_backlog()
    open_threads = db.session.scalar(
        sa.text(
            "SELECT count(*) FROM communication_thread WHERE status NOT IN ('resolved', 'closed')"
        )
    )
    print(
        f"\n(a) escalation scan: {open_threads:,} open threads, {due:,} with sla_next_check_at "
        f"in the past ({due / max(open_threads, 1):.1%})"
    )
    median, plan = core_query_ms()
    print(f"    core query (500 due rows, FOR UPDATE SKIP LOCKED): p50 {median:.1f} ms\n{plan}")
    if scan is None:
        print(
            "    app.conversations.sla.ladder.scan is not there yet: only the core query was timed"
        )
        return
    # The whole backlog at once, then one batch (a 15-second scan's usual share is
    # smaller still: 100,000 threads crossing four steps a day is about 70 per scan).
    for label, limit in ((f"the backlog ({due:,})", None), ("one batch (200 due)", 200)):
        timed, idle, handled = [], [], set()
        for run in range(args.runs + 1):  # the first run warms caches and is not counted
            since = utcnow() - timedelta(seconds=1)
            started = time.perf_counter()
            count = scan(utcnow())
            if run:
                handled.add(count)
            timed.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            scan(utcnow())
            idle.append((time.perf_counter() - started) * 1000)
            restore_backlog(since, limit)
        print(f"    scan of {label:<22} handled {sorted(handled)}  {summary(timed[1:])}")
    print(f"    scan with nothing due {'':<22}        {summary(idle[1:])}")
    restore_backlog(utcnow())  # leave the full backlog for a --reuse run


# --- (b) /analytics -------------------------------------------------------------------


class StatementLog:
    def __init__(self, engine) -> None:
        self.entries: list[tuple[str, float]] = []
        sa.event.listen(engine, "before_cursor_execute", self._before)
        sa.event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def _after(self, conn, cursor, statement, parameters, context, executemany) -> None:
        started = conn.info["bench_started"].pop()
        self.entries.append((statement, (time.perf_counter() - started) * 1000))


def bench_analytics(app, args: argparse.Namespace, manager_email: str) -> None:
    with app.app_context():
        messages = db.session.scalar(sa.text("SELECT count(*) FROM communication_message"))
        log = StatementLog(db.engine)
    client = app.test_client()
    with app.app_context():  # the second step reads the manager's authenticator
        signed_in = AuthActions(client).login(manager_email, AGENT_PASSWORD)
    assert signed_in.status_code == 302, "could not sign in as the benchmark manager"
    today = local_today()
    year = {"from": (today - timedelta(days=364)).isoformat(), "to": today.isoformat()}
    print(f"\n(b) GET /analytics over {messages:,} messages, signed in as a manager")
    for label, query in (("default (30 days)", {}), ("365 days", year)):
        samples, sql = [], []
        for _ in range(args.runs + 1):
            log.entries.clear()
            started = time.perf_counter()
            response = client.get("/analytics", query_string=query)
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
            sql.append(list(log.entries))
        print(f"    {label:<20} {summary(samples[1:])}  ({len(response.data) // 1024} KiB)")
        slowest = sorted(sql[-1], key=lambda e: -e[1])[:4]
        for statement, took in slowest:
            first_line = " ".join(statement.split())[:110]
            print(f"        {took:6.1f} ms  {first_line}…")
    if args.profile:
        profile_year(app, client, year)


def profile_year(app, client, year: dict) -> None:
    """Where a year request's time goes: each figure's SQL + Python alone, then cProfile."""
    runs = 5
    with app.test_request_context("/analytics", query_string=year):
        f, _errors = parse_filter(year)
        now = utcnow()
        steps: dict[str, list[float]] = {}

        def timed(name: str, work) -> None:
            started = time.perf_counter()
            work()
            steps.setdefault(name, []).append((time.perf_counter() - started) * 1000)

        for _ in range(runs + 1):
            prepare_connection()
            memo: dict = {}
            for key, figure in FIGURES.items():
                timed(key, lambda figure=figure, memo=memo: figure(f, now, memo))
            timed("calls", lambda: call_figures(f))
            timed("team choices", team_choices)
            timed("whole dashboard (figures + charts)", lambda: build_dashboard(f, now))
            db.session.rollback()
    print("\n    year view, each part alone (median of 5 after one warm-up; shared memo in order):")
    for name, samples in steps.items():
        print(f"        {statistics.median(samples[1:]):7.1f} ms  {name}")
    profiler = cProfile.Profile()
    client.get("/analytics", query_string=year)
    profiler.enable()
    for _ in range(runs):
        client.get("/analytics", query_string=year)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt / runs * 1000
    print(f"\n    cProfile of {runs} year requests: {total:.0f} ms a request in process")
    wanted = (
        "render_template", "build_dashboard", "compute_all", "call_figures", "day_chart",
        "bar_chart", "execute", "_headlines", "team_choices",
    )  # fmt: skip
    for (path, _line, name), row in sorted(stats.stats.items(), key=lambda kv: -kv[1][3]):
        if name in wanted and ("app/" in path or "flask/templating" in path):
            print(f"        {row[3] / runs * 1000:7.1f} ms cumulative  {name}  ({Path(path).name})")
    stats.sort_stats("tottime").print_stats(15)


def main() -> None:
    args = parse_args()
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    ensure_database(database_url)
    use_throwaway_secrets()
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": os.environ.get("BENCH_REDIS_URL")},
        start_embedded_worker=False,
    )
    with app.app_context():
        if args.reuse and loaded():
            print("reusing the loaded database (--reuse)")
        else:
            started = time.perf_counter()
            load(args)
            print(f"  load: {'total':<38} {time.perf_counter() - started:6.1f} s")
        # A reused database gets the tables and indexes of a newer checkout; the
        # count above ends its transaction first, or its lock holds the migration up.
        db.session.rollback()
        upgrade()
        vacuum_if_needed()
        build_rollups(args)
        manager = db.session.scalar(
            sa.select(User).where(User.role == Role.MANAGER).order_by(User.email).limit(1)
        )
        manager_email = manager.email
        # Managers open analytics only with two-factor sign-in; AuthActions
        # types the code when the user has an authenticator.
        # A reused database holds the authenticator sealed with an earlier run's
        # throwaway ENCRYPTION_KEYS: the manager enrols again with this run's.
        for model in (TotpCredential, RecoveryCode):
            db.session.execute(sa.delete(model).where(model.user_id == manager.id))
        db.session.commit()
        if not two_factor.has_two_factor(manager):
            enroll_two_factor(manager)
        if args.analytics_only:
            bench_analytics(app, args, manager_email)
            return
        bench_scan(args)
        # The scan's escalations touched the days their conversations opened on; in
        # the deployment the periodic job recomputes those within a minute, and until
        # then the page reads them directly (slower, never wrong). Measure that job,
        # then the page as it is once the job has run.
        started, days, rounds = time.perf_counter(), 0, 0
        while recomputed := refresh():
            days, rounds = days + recomputed, rounds + 1
        print(
            f"  roll-ups after the scan: the periodic job recomputed {days} day(s) "
            f"the escalations touched in {rounds} run(s) (one a minute when deployed), "
            f"{time.perf_counter() - started:.1f} s of work"
        )
    bench_analytics(app, args, manager_email)
    print(
        f"\nPostgreSQL, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
        "times in process (Flask test client), first run of each not counted."
    )


if __name__ == "__main__":
    main()
