"""Fixtures: a migrated database shared by the session, cleaned for every test.

``TEST_DATABASE_URL`` and ``TEST_REDIS_URL`` point the suite at real PostgreSQL
and Redis (CI does); without them it runs on SQLite and the embedded queue.
With ``CI=true`` a configured service that cannot be reached fails the run.
"""

from __future__ import annotations

import contextlib
import contextvars
import gc
import os
import signal
import tempfile
import time
import uuid
import warnings
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from flask_migrate import upgrade
from jinja2 import BytecodeCache
from werkzeug.routing import Rule

from app import create_app
from app.conversations.core import threads as conversation_threads
from app.platform import database
from app.platform.auth import passwords
from app.platform.auth.services import create_user
from app.platform.extensions import db
from app.platform.jobs.broker import EmbeddedWorker
from app.platform.jobs.consumer import InboxConsumer
from app.platform.jobs.periodic import slot_key
from app.platform.kept import forget_everything
from app.platform.webhooks.processing import take_waiting
from app.platform.webhooks.recording import NOTIFY_CHANNEL
from tests.support.helpers import PASSWORD, AuthActions, enroll_two_factor
from tests.support.live_server import LiveServer
from tests.support.parallel import own_database, own_redis_database
from tests.support.prestarted import Prestarted, children_of
from tests.support.topology import Topology, base_environment

IN_CI = os.environ.get("CI", "").lower() == "true"
# A full garbage collection every 100 middle ones instead of every 10. Every test
# builds an app, and what a finished test leaves (its app, engine, templates) lives
# long enough to reach the oldest generation, so only full passes free it; each walks
# the whole heap of the test process (500,000-750,000 objects, ~0.3 s). Measured on
# five files (130 tests): 32 full passes took 9.6 of 36 s of CPU at the default
# thresholds, 14 took 3.1 of 26 s this way; the process ends ~15 % larger.
gc.set_threshold(700, 10, 100)
# The suite makes and signs in thousands of users: scrypt at a thousandth of its
# cost (3 ms instead of 0.1 s a hash) keeps that from being minutes of each run.
# Hashes keep their own parameters, so the app checks them as it checks any.
passwords.METHOD = "scrypt:1024:8:1"


def _builders_made_once(compile_builder):
    """Werkzeug compiles two URL builder functions (Python code, through ``ast`` and
    ``compile``) for each of the app's ~280 rules, every time an app is built: 85 %
    of ``create_app``'s 0.14 s, and the suite builds an app per test. The code
    depends only on the rule's parts, defaults and the flag; the rule itself is
    passed in when it is called. So each is compiled once per test process."""
    made: dict = {}

    def cached(self, append_unknown: bool = True):
        key = (
            self.rule,
            tuple(self._trace),
            repr(sorted((self.defaults or {}).items())),
            append_unknown,
        )
        if key not in made:
            made[key] = compile_builder(self, append_unknown)
        return made[key]

    return cached


Rule._compile_builder = _builders_made_once(Rule._compile_builder)


def _rules_parsed_once(parse_rule):
    """Binding a rule to an app's URL map parses its path again (the regular
    expressions of its parts, a converter for each variable): about a third of the
    time an app's ~290 rules take to register, for every app the suite builds. The
    parts are frozen and the converters keep nothing of the map they were made for,
    so each path is parsed once per test process and its results handed to the
    rules of later apps."""
    made: dict = {}

    def cached(self, rule: str):
        hit = made.get(rule)
        if hit is None:
            traced_from = len(self._trace)
            parts = list(parse_rule(self, rule))
            trace = self._trace[traced_from:]
            converters = {name: self._converters[name] for variable, name in trace if variable}
            made[rule] = (parts, trace, converters)
            return parts
        parts, trace, converters = hit
        self._trace.extend(trace)
        self._converters.update(converters)
        self.arguments.update(converters)
        return parts

    return cached


Rule._parse_rule = _rules_parsed_once(Rule._parse_rule)


class TemplatesCompiledOnce(BytecodeCache):
    """Jinja compiles a template (parse, generate Python, ``compile``) the first time
    an app renders it, and the suite builds an app per test: measured on the thread,
    analytics and portal tests, a quarter of their time went to compiling the same
    templates again. Every app of a test process shares this cache of the compiled
    code; a key holds the template's name and file, and a changed source misses."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = TemplatesCompiledOnce()


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session):
    """Leave the whole heap out of pytest's last garbage collections.

    After the last test pytest collects twice more to report a finalizer's
    error; a test process ends holding 3-5 million objects (each test's app is
    freed only by a full pass), and each of those passes took 4-11 s at the very
    end of a run (measured: 4.4 s after 468 tests; py-spy saw 22 s in one process
    of a full run), when no other process is left to use the cores. Every test
    has finished and been reported by then, so nothing is lost.
    """
    gc.freeze()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After a test's fixtures are torn down, no process of its may be left."""
    yield
    _stop_leftover_processes()


def _stop_leftover_processes() -> None:
    """Kill a ``worker.py`` or ``wsgi.py`` a test left running (its stop timed out).

    Left running, it would take the next tests' events and jobs from this test
    process's database and Redis, with the settings of the test that started it.
    """
    if not os.path.isdir("/proc"):
        return
    for left in PRESTARTED.children():  # every one is a worker.py or wsgi.py
        warnings.warn(f"a test left a prestarted process (pid {left}) running", stacklevel=1)
        with contextlib.suppress(OSError):
            os.killpg(left, signal.SIGKILL)  # each leads its own group
    for pid in children_of(os.getpid()):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                argv = cmdline.read().split(b"\0")
        except OSError:
            continue
        if any(arg.endswith((b"worker.py", b"wsgi.py")) for arg in argv[1:3]):
            left = pid
            warnings.warn(f"a test left {argv[1].decode()} (pid {left}) running", stacklevel=1)
            with contextlib.suppress(OSError):
                # Its whole group when it leads one: RQ's forked scheduler goes too.
                if os.getpgid(left) == left:
                    os.killpg(left, signal.SIGKILL)
                else:
                    os.kill(left, signal.SIGKILL)
                os.waitpid(left, 0)


# `make test` runs the suite in parallel (pytest-xdist): each test process gets
# its own database and Redis database, so their cleaning never crosses.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
TEST_DATABASE_URL = own_database(os.environ.get("TEST_DATABASE_URL"), XDIST_WORKER)
TEST_REDIS_URL = own_redis_database(os.environ.get("TEST_REDIS_URL"), XDIST_WORKER)

_TMP = Path(tempfile.mkdtemp(prefix="switchboard-tests-"))
_SQLITE_URL = f"sqlite:///{_TMP / 'test.db'}"


def database_url() -> str:
    return TEST_DATABASE_URL or _SQLITE_URL


def base_config(**overrides) -> dict:
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url(),
        "REDIS_URL": TEST_REDIS_URL,
        "SECRET_KEY": "test-secret-for-the-suite-only-0123456789",
        "ENCRYPTION_KEYS": "x7n6Qnq0Z5N0p3uJ0VqQ4mFz3cQ1pN2mX7d9h0k6bL8=",
        "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
        "ALLOW_PRIVATE_WEBHOOK_URLS": True,
        "ATTACHMENTS_DIR": str(_TMP / "attachments"),
        "SANDBOX_DELIVERY_STEP_SECONDS": 0.2,
        # Replies go out at once unless a test is about "Undo send".
        "SEND_UNDO_SECONDS": 0,
        # Likewise a technician's taps and quick replies on the phone.
        "VISIT_UNDO_SECONDS": 0,
        # Tests change a desk's hours and write at once.
        "CONFIGURATION_CACHE_SECONDS": 0,
        # Tests call app.platform.live_sessions.check_live_sessions themselves.
        "LIVE_SESSION_CHECK_SECONDS": 0,
        # The test client calls from 127.0.0.1: /metrics tests say who scrapes.
        "METRICS_ALLOWED_NETWORKS": "192.0.2.0/24",
        # Nothing listens on port 9: an address check that forgets the fake fails
        # fast (and flags for review) instead of calling the real PDOK.
        "PDOK_API_BASE": "http://127.0.0.1:9/pdok",
        # The suite's assertions are written in English, so a reader whose language
        # is unknown gets English here (production's default is Dutch). One setting
        # covers both places the default applies: a request without Accept-Language
        # (the test client, `requests` against the live server) and texts made
        # outside a request (jobs, e-mails, Teams cards) for users who chose no
        # language. Sending "Accept-Language: en" from the test client instead would
        # leave the second place Dutch. Tests of the Dutch default and of a Dutch
        # user's pages say so themselves (tests/platform/test_i18n.py).
        "DEFAULT_LANGUAGE": "en",
    }
    config.update(overrides)
    return config


@pytest.fixture(scope="session")
def migrated_database():
    """Run the real migrations once, on the database the suite uses."""
    app = create_app(base_config(), start_embedded_worker=False)
    with app.app_context():
        try:
            db.session.execute(sa.text("SELECT 1"))
        except sa.exc.OperationalError as exc:
            pytest.exit(f"TEST_DATABASE_URL is set but unreachable: {exc}", returncode=3)
        if db.engine.dialect.name == "postgresql":
            # Whatever an earlier run or release left: tables the models no
            # longer know would block drop_all through their foreign keys.
            db.session.execute(sa.text("DROP SCHEMA public CASCADE"))
            db.session.execute(sa.text("CREATE SCHEMA public"))
        else:
            db.drop_all()
            db.session.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()
        upgrade()
    if TEST_REDIS_URL:
        broker = app.extensions["broker"]
        try:
            broker.ping()
        except Exception as exc:
            pytest.exit(f"TEST_REDIS_URL is set but unreachable: {exc}", returncode=3)
    return database_url()


def clean_database() -> None:
    """Empty every table the last test wrote to.

    On PostgreSQL one query finds the tables holding rows, and those are emptied
    with DELETE, foreign keys not checked (every row of each goes): a TRUNCATE of
    all 80 tables costs 200-600 ms on this machine, new files for each table,
    where a test writes to a handful; finding and deleting them costs about 7 ms.
    """
    if db.engine.dialect.name == "postgresql":
        if str(db.engine.url) == str(sa.make_url(database_url())):
            _CLEANER.clean()
        else:  # a database of a test's own (a cluster it stops and starts)
            _empty_tables_holding_rows(db.session.connection(), _probe())
            db.session.commit()
        return
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()


def _probe() -> str:
    """The names of the tables that hold a row."""
    return " UNION ALL ".join(
        f"SELECT '{t.name}' FROM (SELECT 1 FROM \"{t.name}\" LIMIT 1) AS held"
        for t in db.metadata.sorted_tables
    )


def _empty_tables_holding_rows(connection, probe: str) -> None:
    holding = connection.scalars(sa.text(probe)).all()
    if holding:
        # Deleting every row of every table that has any: no reference is left
        # dangling, so the foreign keys' triggers need not run (superuser only).
        connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
        for name in holding:
            connection.execute(sa.text(f'DELETE FROM "{name}"'))


class Cleaner:
    """The cleaning's own connection, kept for the test process, its probe prepared.

    Every test's app opens new connections, and a new PostgreSQL backend knows none
    of the tables yet: the probe (a UNION of one look into each table) cost 21-28 ms
    on one, 8-9 ms planned again on a warm one, 1 ms prepared on a warm one
    (measured; the suite cleans ~2,200 times). Prepared statements are planned again
    by PostgreSQL when a migration test drops and remakes tables.
    """

    def __init__(self) -> None:
        self._connection = None

    def clean(self) -> None:
        try:
            self._clean()
        except sa.exc.DBAPIError:
            # Its backend ended (a test stopped the server, say): once more on a new one.
            self.close()
            self._clean()

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(sa.exc.DBAPIError):
                self._connection.close()
            self._connection.engine.dispose()
            self._connection = None

    def _clean(self) -> None:
        connection = self._connection or self._connect()
        with connection.begin():
            _empty_tables_holding_rows(connection, "EXECUTE tables_holding_rows")

    def _connect(self):
        engine = sa.create_engine(database_url(), poolclass=sa.pool.NullPool)
        connection = engine.connect()
        connection.exec_driver_sql(f"PREPARE tables_holding_rows AS {_probe()}")
        connection.commit()
        self._connection = connection
        return connection


_CLEANER = Cleaner()


@pytest.fixture
def make_app(migrated_database):
    """Build apps on the clean test database; each is torn down after the test."""
    built = []

    def _make(start_embedded_worker: bool = True, **overrides):
        app = create_app(base_config(**overrides), start_embedded_worker=start_embedded_worker)
        app.jinja_env.bytecode_cache = COMPILED_TEMPLATES
        built.append(app)
        return app

    yield _make
    for app in built:
        app.extensions["broker"].stop_embedded_worker(wait_if_busy=True)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


class IsolatedClient(FlaskClient):
    """A test client whose requests get their own app context, as in production.

    The ``app`` fixture keeps an app context open for the test body; without this,
    requests would share its ``g`` (cached user, CSRF token) with each other.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


def empty_queues(broker) -> None:
    """Empty Redis for the next test, its periodic jobs' current slots taken.

    A scheduler enqueues every periodic job whose slot nobody claimed yet, and an
    emptied Redis holds no claim: each test's worker would start with all of them
    (the SLA ladder, the analytics roll-ups, the sweeps …) on a database the test is
    filling, which a deployment's Redis never sees twice. The slots start taken, in
    the same transaction as the emptying so the worker thread already running never
    finds Redis without them; a test of a periodic job runs it itself. The embedded
    mode's Redis (fakeredis) is new with each app, and gets the same.
    """
    now = time.time()
    with broker.connection.pipeline(transaction=True) as claims:
        if TEST_REDIS_URL:
            claims.flushdb()
        for job in broker.periodic_jobs:
            claims.set(slot_key(job, now), "1", ex=job.every_seconds * 3)
        claims.execute()


@contextlib.contextmanager
def opened(app):
    """Use ``app`` for a test: its context open, database and Redis emptied.

    Every fixture that builds an app with its own settings (a fake provider's
    base URL, say) goes through here, so all tests start from the same state.
    """
    app.test_client_class = IsolatedClient
    broker = app.extensions["broker"]
    # Settings a test kept (CONFIGURATION_CACHE_SECONDS) name rows of its database.
    forget_everything()
    conversation_threads.forget_kept_channels()
    with app.app_context():
        clean_database()
        empty_queues(broker)
        yield app
        db.session.remove()
    # What this app's requests buffered goes to Redis now, before the next test
    # empties it: sent a second later, two API usage records landed in the next
    # test's Redis and were counted there.
    broker.usage.flush()


@pytest.fixture
def app(make_app):
    with opened(make_app()) as app:
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def make_user(app):
    """Create a user with a role; commits so other connections see it."""

    def _make(
        role: str = "agent",
        email: str | None = None,
        password: str = PASSWORD,
        two_factor: bool | None = None,
        **fields,
    ):
        """Admins and managers get two-factor sign-in (their pages need it)
        unless ``two_factor=False``; others only with ``two_factor=True``."""
        email = email or f"{role}-{uuid.uuid4().hex[:8]}@switchboard.test"
        user = create_user(email, f"Test {role}", role, password, **fields)
        db.session.commit()
        if two_factor if two_factor is not None else role in ("admin", "manager"):
            enroll_two_factor(user)
        return user

    return _make


@pytest.fixture
def live_server(app):
    """The test app served over HTTP and Socket.IO on a free local port."""
    server = LiveServer(app).start()
    yield server
    server.stop()


@pytest.fixture
def running_worker(app):
    """Jobs run in the background during the test, in either queue mode.

    The embedded mode already has its worker thread; with real Redis the same
    thread class is started against it, standing in for ``worker.py``.
    """
    broker = app.extensions["broker"]
    if broker.embedded:
        yield broker
        return
    worker = EmbeddedWorker(app, broker)
    worker.start()
    consumer = None
    with app.app_context():
        if db.engine.dialect.name == "postgresql":  # as worker.py takes webhook events
            consumer = InboxConsumer(
                app,
                channel=NOTIFY_CHANNEL,
                take=take_waiting,
                batch_size=app.config["WEBHOOK_BATCH_SIZE"],
            )
            consumer.start()
    yield broker
    if consumer is not None:
        consumer.stop()
        consumer.join(timeout=10)
    worker.stop(wait=True)


@pytest.fixture
def fake_pdok(app):
    """A fake PDOK Locatieserver, with ``PDOK_API_BASE`` of ``app`` pointed at it."""
    from tests.fakes.pdok import FakePdok

    server = FakePdok().start()
    app.config["PDOK_API_BASE"] = server.url
    yield server
    server.stop()


# The Python that forks this test process's worker.py and wsgi.py (tests/support/prestarted.py).
PRESTARTED = Prestarted(
    base_environment(
        {
            "DATABASE_URL": TEST_DATABASE_URL or _SQLITE_URL,
            "REDIS_URL": TEST_REDIS_URL or "",
            "SECRET_KEY": base_config()["SECRET_KEY"],
            "ENCRYPTION_KEYS": base_config()["ENCRYPTION_KEYS"],
            "SWITCHBOARD_INSTANCE_PATH": str(_TMP / "prestarted" / "instance"),
        }
    ),
    _TMP / "prestarted",
)


@pytest.fixture(scope="session")
def prestarted():
    yield PRESTARTED
    PRESTARTED.stop()


@pytest.fixture
def deployment(tmp_path, prestarted):
    """Real ``worker.py`` (and web) processes on the test database and Redis.

    ``deployment(**settings)`` gives a :class:`tests.support.topology.Topology` with the
    test's secrets and any provider settings; the test starts the processes it
    needs. They are stopped afterwards, and their log tails printed (pytest shows
    them only for a failing test).
    """
    topologies: list[Topology] = []

    def _make(**settings) -> Topology:
        config = base_config()
        topology = Topology(
            tmp_path / f"topology-{len(topologies)}",
            {
                "DATABASE_URL": TEST_DATABASE_URL,
                "REDIS_URL": TEST_REDIS_URL,
                "SECRET_KEY": config["SECRET_KEY"],
                "ENCRYPTION_KEYS": config["ENCRYPTION_KEYS"],
                **settings,
            },
            prestarted,
        )
        topology.workdir.mkdir(parents=True)
        topologies.append(topology)
        return topology

    yield _make
    for topology in topologies:
        topology.stop()
        print(topology.report())


# The files that take 15 s or more, longest first (each file's summed test time in a
# full `-n 4` run on this 2-core machine, 2026-11-29: whole deployments started and
# stopped, browsers walking many pages, worlds of rows built per case). `make test`
# hands out whole files (`--dist loadfile`) in collection order; these go first, so
# the short files fill in at the end instead of one process running a long file
# alone while the others have finished.
LONGEST_FIRST = (
    "tests/e2e/test_accessibility.py",
    "tests/platform/test_route_matrix.py",
    "tests/conversations/test_gdpr_erasure.py",
    "tests/platform/test_typed_dates.py",
    "tests/platform/test_scale_out.py",
    # Not yet measured in a full run: two deployments behind nginx, ~50 s each alone.
    "tests/platform/test_web_processes_behind_nginx.py",
    "tests/conversations/test_suggestions.py",
    "tests/e2e/test_dutch_pages.py",
    "tests/integrations/test_integration_hub_outside.py",
    "tests/e2e/test_composer.py",
    "tests/e2e/test_dutch_pages_staff.py",
    "tests/platform/test_live_rooms.py",
    "tests/orders/test_portal.py",
    "tests/e2e/test_order_end_to_end.py",
    "tests/analytics/test_analytics.py",
    "tests/e2e/test_workspace.py",
    "tests/e2e/test_analytics_page.py",
    "tests/platform/test_inbox_consumer.py",
    "tests/conversations/test_snooze_workers.py",
    "tests/platform/test_deployment_defaults.py",
    "tests/platform/test_make_up.py",
    "tests/platform/test_cli.py",
    "tests/integrations/test_openapi_schemathesis.py",
    "tests/orders/test_order_desk.py",
    "tests/conversations/test_assignment.py",
    "tests/conversations/test_seed_demo.py",
    "tests/orders/test_plan_proposal_race.py",
    "tests/conversations/test_team_suggestions_workers.py",
    "tests/orders/test_deliveries_batch_workers.py",
    "tests/orders/test_visit_reminders_workers.py",
    "tests/e2e/test_technician_safety.py",
    "tests/conversations/test_composer.py",
    "tests/orders/test_planning.py",
    "tests/platform/test_database_restart.py",
    "tests/integrations/test_webhook_api.py",
    "tests/e2e/test_plan_proposal_acceptance.py",
    "tests/e2e/test_technician_tap_in_view.py",
    "tests/analytics/test_analytics_rollups.py",
    "tests/conversations/test_workspace.py",
    "tests/orders/test_partner_api.py",
    "tests/platform/test_microsoft_sign_in.py",
    "tests/platform/test_audit_log.py",
    "tests/orders/test_planning_board_moves.py",
    "tests/conversations/test_seed_demo_story.py",
    "tests/conversations/test_whatsapp_sending.py",
    "tests/e2e/test_technician_offline.py",
    "tests/orders/test_plan_proposals.py",
    "tests/e2e/test_snooze_and_bulk.py",
    "tests/conversations/test_merge.py",
    "tests/orders/test_order_search_names.py",
    "tests/orders/test_email_intake.py",
    "tests/e2e/test_admin_pages.py",
    "tests/e2e/test_planning_board.py",
    "tests/analytics/test_analytics_rollups_workers.py",
    "tests/conversations/test_csat.py",
    "tests/e2e/test_two_factor.py",
    "tests/conversations/test_outlook_workers.py",
    "tests/conversations/test_phone_calls.py",
    "tests/orders/test_mobile_signatures.py",
    "tests/integrations/test_work_orders_workers.py",
    "tests/integrations/test_integration_sync.py",
    "tests/conversations/test_message_templates.py",
    "tests/orders/test_mobile_undo_workers.py",
    "tests/orders/test_mobile_photos.py",
    "tests/e2e/test_screen_room.py",
    "tests/e2e/test_notifications.py",
    "tests/platform/test_send_batches_workers.py",
    "tests/orders/test_calendar_workers.py",
    "tests/integrations/test_sync_workers.py",
    "tests/orders/test_deliveries.py",
    "tests/orders/test_deliveries_engine.py",
    "tests/e2e/test_timeline_language.py",
    "tests/e2e/test_inbox_live.py",
    "tests/orders/test_planning_slots_routes.py",
    "tests/conversations/test_inbox_search.py",
    "tests/platform/test_undo_restore.py",
    "tests/e2e/test_reply_attachments.py",
    "tests/orders/test_sandbox_apart.py",
    "tests/e2e/test_technician_signature.py",
    "tests/e2e/test_phone_calls.py",
    "tests/conversations/test_sendgrid.py",
    "tests/conversations/test_outlook_mailboxes.py",
    "tests/conversations/test_reply_email.py",
    "tests/orders/test_push_workers.py",
    "tests/e2e/test_templates_composer.py",
    "tests/conversations/test_tasks.py",
)


def pytest_collection_modifyitems(config, items):
    root = str(config.rootpath)

    def rank(item) -> int:
        path = str(item.path).removeprefix(root).lstrip(os.sep).replace(os.sep, "/")
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: each file keeps its own order


class Clock:
    """The app's clock (``app.platform.database.utcnow``), moved on by a test instead of sleeping.

    Only this process's clock moves: a ``worker.py`` started by a test, RQ's
    scheduler and Redis keep real time.
    """

    def advance(self, seconds: float) -> None:
        database._moved_on += timedelta(seconds=seconds)

    def reset(self) -> None:
        database._moved_on = timedelta(0)


@pytest.fixture
def clock():
    moved = Clock()
    yield moved
    moved.reset()
