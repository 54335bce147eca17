"""Language detection with two ``worker.py`` processes: a burst of customers' messages,
each detection job queued three times, ends with each message's language stored
once and each contact holding the language of their newest clear message.

Three customers write four messages each, the last in another language than the
first for two of them. Each message's language is told as it is stored; its
detection job is then queued three times (a re-run, a duplicate, a retry) before two
real workers take them from Redis together, in whatever order. Needs PostgreSQL and
Redis (``TEST_DATABASE_URL``, ``TEST_REDIS_URL``).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.conversations.core import DETECT_JOB
from app.platform.extensions import db
from app.platform.jobs.queues import enqueue
from app.platform.models import CommunicationMessage, Contact
from app.platform.models.enums import ChannelType
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL, opened
from tests.support import factories
from tests.support.helpers import customer_writes
from tests.support.topology import wait_until

pytestmark = pytest.mark.skipif(
    not (TEST_DATABASE_URL and TEST_REDIS_URL),
    reason="needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)",
)

ENGLISH = "When will the installer come to fit the charger?"
DUTCH = "Wanneer komt de monteur de laadpaal plaatsen?"
GERMAN = "Wann kommt der Techniker, um die Ladestation zu installieren?"
# Each customer's messages in the order they wrote them; the last decides.
WRITES = {
    "+31611110001": [ENGLISH, "Ok", ENGLISH, DUTCH],
    "+31611110002": [DUTCH, DUTCH, "Ja", ENGLISH],
    "+31611110003": [GERMAN, GERMAN, GERMAN, "Danke"],
}
EXPECTED_CONTACT = {"+31611110001": "nl", "+31611110002": "en", "+31611110003": "de"}
JOBS_PER_MESSAGE = 3


@pytest.fixture
def app(make_app):
    # No worker in this process: the jobs wait in Redis for the two workers.
    with opened(make_app(start_embedded_worker=False)) as app:
        yield app


def test_two_workers_store_each_language_once_and_the_newest_wins(app, deployment):
    whatsapp = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    expected = {}
    for phone, texts in WRITES.items():
        customer = factories.contact(display_name=f"Klant {phone[-4:]}", phone=phone)
        for n, text in enumerate(texts):
            message = customer_writes(whatsapp, customer, f"wamid.{phone}.{n}", text)
            expected[message.id] = {ENGLISH: "en", DUTCH: "nl", GERMAN: "de"}.get(text)
            # Told as it was stored; read again by the job: a re-run, a duplicate, a retry.
            for _ in range(JOBS_PER_MESSAGE):
                enqueue(DETECT_JOB, str(message.id))
    queue = app.extensions["broker"].queue("default")
    detections = [job for job in queue.jobs if job.func_name == DETECT_JOB]
    assert len(detections) == len(expected) * JOBS_PER_MESSAGE

    workers = deployment()
    workers.start_worker()
    workers.start_worker()
    wait_until(lambda: queue.count == 0, 120, "the detection jobs taken")
    wait_until(lambda: not queue.started_job_registry.get_job_ids(), 60, "the last jobs finished")

    db.session.expire_all()
    stored = dict(
        db.session.execute(
            sa.select(CommunicationMessage.id, CommunicationMessage.language).where(
                CommunicationMessage.id.in_(expected)
            )
        ).all()
    )
    assert stored == expected
    contacts = dict(db.session.execute(sa.select(Contact.phone, Contact.detected_language)).all())
    assert contacts == EXPECTED_CONTACT
    failed = queue.failed_job_registry.get_job_ids()
    assert failed == [], workers.report()
