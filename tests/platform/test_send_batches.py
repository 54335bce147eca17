"""The answers a batch of inbound events makes go out in one send job.

``queue_send`` holds a send made inside a batch (:mod:`app.platform.jobs.coalescing`); in the
inbox consumer the hold is carried from one claim to the next until it is due,
so a burst that arrives an event or two a claim still has its answers sent by
one job. ``send_messages`` sends each as its own job would: its own claim and
commit, a failure sent on to a job of its own.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
import uuid
from types import SimpleNamespace

import pytest

from app.conversations.core import post_outbound, sending
from app.platform.extensions import db
from app.platform.jobs import coalescing, turns
from app.platform.jobs.queues import get_queue
from app.platform.models import CommunicationMessage
from app.platform.models.enums import ChannelType, DeliveryStatus, MessageType
from app.platform.transactions import commit
from tests.support import factories
from tests.support.whatsapp_support import fake_whatsapp_server, whatsapp_app_without_worker

fake_whatsapp = pytest.fixture(fake_whatsapp_server, name="fake_whatsapp")
# No worker in this process: the queued jobs stay to be looked at.
app = pytest.fixture(whatsapp_app_without_worker, name="app")


# --- carrying held work from one claim to the next -----------------------------


def test_a_lingering_key_is_carried_across_held_blocks_until_carrying_ends():
    done: list[list] = []
    with coalescing.carrying(contextlib.nullcontext):
        with coalescing.held():
            coalescing.hold("sends", done.append, 1, within=60, linger=True)
            coalescing.hold("live-updates", done.append, "a")
        # The other key went at the block's end; the lingering one waits.
        assert done == [["a"]]
        assert 59 < coalescing.seconds_until_carried_due() <= 60
        with coalescing.held():
            coalescing.hold("sends", done.append, 2, within=60, linger=True)
        assert done == [["a"]]
    assert done == [["a"], [1, 2]]
    assert coalescing.seconds_until_carried_due() is None


def test_carried_work_goes_with_the_first_block_after_it_is_due():
    done: list[list] = []
    with coalescing.carrying(contextlib.nullcontext):
        with coalescing.held():
            coalescing.hold("sends", done.append, 1, within=0.05, linger=True)
        assert done == []
        time.sleep(0.06)
        assert coalescing.seconds_until_carried_due() == 0.0
        with coalescing.held():
            pass
        assert done == [[1]]
        assert coalescing.seconds_until_carried_due() is None


def test_without_carrying_a_lingering_key_goes_with_its_block():
    done: list[list] = []
    with coalescing.held():
        coalescing.hold("sends", done.append, 1, within=60, linger=True)
    assert done == [[1]]
    assert coalescing.seconds_until_carried_due() is None


# --- sends ---------------------------------------------------------------------


def _answers(count: int) -> list[str]:
    """``count`` committed out-of-hours answers to as many customers, each queued
    for sending by ``queue_send`` as its commit's listener."""
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp")
    ids = []
    for n in range(count):
        customer = factories.contact(display_name=f"Klant {n}", phone=f"+3161300{n:04d}")
        thread = factories.thread(channel, customer)
        db.session.commit()
        answer = post_outbound(
            thread,
            channel_id=channel.id,
            body=f"We zijn gesloten, klant {n}.",
            recipient={"phone": customer.phone, "name": customer.display_name},
            message_type=MessageType.AUTO_RESPONSE,
            automation="out_of_hours",
        )
        ids.append(str(answer.id))
        commit()
    return ids


def _queued() -> list[tuple[str, tuple]]:
    return [(job.func_name, job.args) for job in get_queue("deliveries").jobs]


def _forget_queued() -> None:
    queue = get_queue("deliveries")
    queue.connection.delete(queue.key)


def _status(message_id: str) -> DeliveryStatus:
    db.session.expire_all()
    return db.session.get(CommunicationMessage, uuid.UUID(message_id)).delivery_status


def test_answers_made_in_one_batch_are_queued_as_one_job_and_each_sent(app, fake_whatsapp):
    with coalescing.held():
        ids = _answers(3)
        assert _queued() == []  # held until the batch ends
    assert _queued() == [(sending.SEND_BATCH_JOB, (ids,))]

    assert sending.send_messages(ids) == {"sent": 3}
    assert [body["to"] for body in fake_whatsapp.sent()] == [
        "31613000000",
        "31613000001",
        "31613000002",
    ]
    assert [_status(i) for i in ids] == [DeliveryStatus.SENT] * 3
    # Sent is sent: the same job run again (RQ retried it) sends nothing twice.
    assert sending.send_messages(ids) == {"not sent": 3}
    assert len(fake_whatsapp.sent()) == 3


def test_outside_a_batch_each_answer_has_its_own_job(app):
    ids = _answers(2)
    assert _queued() == [(sending.SEND_JOB, (ids[0],)), (sending.SEND_JOB, (ids[1],))]


def test_a_batch_of_one_is_an_ordinary_send_job(app):
    with coalescing.held():
        ids = _answers(1)
    assert _queued() == [(sending.SEND_JOB, (ids[0],))]


def test_a_long_batch_is_queued_in_jobs_of_at_most_the_limit(app, monkeypatch):
    monkeypatch.setattr(sending, "MAX_SENDS_PER_JOB", 2)
    with coalescing.held():
        ids = _answers(5)
    assert _queued() == [
        (sending.SEND_BATCH_JOB, (ids[0:2],)),
        (sending.SEND_BATCH_JOB, (ids[2:4],)),
        (sending.SEND_JOB, (ids[4],)),
    ]


def test_a_send_that_breaks_goes_to_a_job_of_its_own_and_the_others_are_sent(
    app, fake_whatsapp, monkeypatch
):
    ids = _answers(3)
    _forget_queued()
    send = sending.send_message

    def database_gone_for_the_second(message_id: str):
        if message_id == ids[1]:
            raise RuntimeError("server closed the connection unexpectedly")
        return send(message_id)

    monkeypatch.setattr(sending, "send_message", database_gone_for_the_second)
    assert sending.send_messages(ids) == {"sent": 2, "requeued": 1}
    assert [body["to"] for body in fake_whatsapp.sent()] == ["31613000000", "31613000002"]
    assert _queued() == [(sending.SEND_JOB, (ids[1],))]
    assert _status(ids[1]) == DeliveryStatus.PENDING


def test_past_half_the_lease_the_rest_go_to_jobs_of_their_own(app, fake_whatsapp, monkeypatch):
    ids = _answers(3)
    _forget_queued()
    # A send that takes a whole lease: every later one would start too late.
    lease = app.config["PROCESSING_LEASE_SECONDS"]
    ticks = itertools.count(step=lease)
    monkeypatch.setattr(
        sending, "time", SimpleNamespace(monotonic=lambda: next(ticks), sleep=time.sleep)
    )
    assert sending.send_messages(ids) == {"sent": 1, "handed on": 2}
    assert len(fake_whatsapp.sent()) == 1
    assert _queued() == [(sending.SEND_JOB, (ids[1],)), (sending.SEND_JOB, (ids[2],))]


# --- a batch of sends lets the customers' messages go first ----------------------


def test_between_two_sends_the_inbox_consumer_with_events_in_hand_goes_first(monkeypatch):
    monkeypatch.setattr(turns, "JOB_SLICE_SECONDS", 0.0)  # the job's slice is over
    order: list[str] = []
    job_holds_the_process = threading.Event()

    def consumer() -> None:
        job_holds_the_process.wait()
        with turns.events_in_hand(), turns.consumer_turn():  # as InboxConsumer.round does
            order.append("consumer")

    thread = threading.Thread(target=consumer)
    thread.start()
    with turns.job_turn("deliveries"):
        job_holds_the_process.set()
        deadline = time.monotonic() + 5
        while turns.inbox_idle.is_set() and time.monotonic() < deadline:
            time.sleep(0.001)
        turns.let_the_inbox_go_first()
        order.append("job")
    thread.join(timeout=5)
    assert order == ["consumer", "job"]


def test_within_its_slice_a_job_of_sends_keeps_its_turn():
    with turns.events_in_hand(), turns.job_turn("deliveries"):
        turns.let_the_inbox_go_first()  # just started: returns at once, lock still held
        assert turns.one_at_a_time._is_owned()


def test_between_two_batches_the_consumer_lets_a_waiting_send_job_in():
    """A burst kept the consumer claiming batch after batch; the answers' sends waited
    for its end. Now a send job waiting goes between two batches."""
    order: list[str] = []
    consumer_holds_the_turn = threading.Event()

    def send_job() -> None:
        consumer_holds_the_turn.wait()
        with turns.job_turn("deliveries"):
            order.append("sends")

    thread = threading.Thread(target=send_job)
    thread.start()
    with turns.consumer_turn():
        order.append("batch 1")
        consumer_holds_the_turn.set()
        deadline = time.monotonic() + 5
        while not turns.job_waiting.is_set() and time.monotonic() < deadline:
            time.sleep(0.001)
        turns.let_waiting_jobs_in()
        order.append("batch 2")
    thread.join(timeout=5)
    assert order == ["batch 1", "sends", "batch 2"]


def test_outside_the_consumer_turn_no_job_is_let_in():
    turns.job_waiting.set()
    try:
        turns.let_waiting_jobs_in()  # holds no lock: must not release one
    finally:
        turns.job_waiting.clear()


def test_outside_a_job_nothing_is_let_go():
    with turns.events_in_hand():
        turns.let_the_inbox_go_first()  # holds no lock: must not release one


# --- the sandbox's simulated ticks of a batch ------------------------------------


def test_a_batch_of_sandbox_sends_schedules_its_ticks_as_one_job_a_step(app, monkeypatch):
    """Two jobs per answer (delivered, read) once made a burst's every answer three jobs."""
    monkeypatch.setattr(sending, "is_sandboxed", lambda channel_type: True)
    scheduled: list[tuple] = []
    queue = get_queue("deliveries")
    monkeypatch.setattr(
        type(queue),
        "enqueue_in",
        lambda self, delay, func, *args, **kwargs: scheduled.append((func, args)),
    )
    ids = _answers(3)
    _forget_queued()
    sending.send_messages(ids)
    assert scheduled == [
        ("app.conversations.core.sending.record_delivery_statuses", (ids, "delivered")),
        ("app.conversations.core.sending.record_delivery_statuses", (ids, "read")),
    ]

    assert sending.record_delivery_statuses(ids, "delivered") == 3
    assert sending.record_delivery_statuses(ids, "delivered") == 0  # only ever forward
    assert sending.record_delivery_statuses(ids, "read") == 3
    assert [_status(i) for i in ids] == [DeliveryStatus.READ] * 3
