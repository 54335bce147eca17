"""How an order is locked for a change (app.platform.models.orders.LOCK_TO_CHANGE).

Two changes of one order wait for each other; a row that only refers to the
order is written meanwhile without waiting. With FOR UPDATE such an insert
waited on the order while holding its own new row, which deadlocked an API
send against a technician's tap (tests/orders/test_mobile_on_the_way_once.py).
"""

from __future__ import annotations

import threading

import pytest

from app.orders.invoices.ledger import open_invoice
from app.orders.mobile.services import local_today
from app.platform.extensions import db
from app.platform.models import Order, VisitCustomerNotice
from app.platform.models.orders import LOCK_TO_CHANGE
from tests.conftest import TEST_DATABASE_URL
from tests.support.mobile_support import visit

pytestmark = pytest.mark.skipif(not TEST_DATABASE_URL, reason="row locks need PostgreSQL")


def _holding_the_order(app, order_id, release: threading.Event, held: threading.Event):
    def run() -> None:
        with app.app_context():
            try:
                db.session.get(Order, order_id, with_for_update=LOCK_TO_CHANGE)
                held.set()
                release.wait(timeout=30)
                db.session.rollback()
            finally:
                db.session.remove()

    thread = threading.Thread(target=run)
    thread.start()
    assert held.wait(timeout=30)
    return thread


def _in_a_transaction(app, work, done: dict) -> threading.Thread:
    def run() -> None:
        with app.app_context():
            try:
                work()
                db.session.commit()
                done["ok"] = True
            except Exception as exc:  # noqa: BLE001 - the assertions report it
                done["error"] = exc
            finally:
                db.session.remove()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_rows_referring_to_a_locked_order_are_written_without_waiting(app, make_user):
    order_id = visit(make_user("technician")).id
    release, held = threading.Event(), threading.Event()
    holder = _holding_the_order(app, order_id, release, held)
    done: dict = {}

    def refer_to_it() -> None:
        open_invoice(db.session.get(Order, order_id))
        db.session.add(VisitCustomerNotice(order_id=order_id, visit_day=local_today(), kind="x"))

    writer = _in_a_transaction(app, refer_to_it, done)
    writer.join(timeout=5)
    finished_while_held = not writer.is_alive()
    release.set()
    holder.join(timeout=30)
    writer.join(timeout=30)

    assert finished_while_held, "the insert waited for the order's lock"
    assert done == {"ok": True}, done


def test_two_changes_of_one_order_still_wait_for_each_other(app, make_user):
    order_id = visit(make_user("technician")).id
    release, held = threading.Event(), threading.Event()
    holder = _holding_the_order(app, order_id, release, held)
    done: dict = {}

    writer = _in_a_transaction(
        app, lambda: db.session.get(Order, order_id, with_for_update=LOCK_TO_CHANGE), done
    )
    writer.join(timeout=1.0)
    waited = writer.is_alive()
    release.set()
    holder.join(timeout=30)
    writer.join(timeout=30)

    assert waited
    assert done == {"ok": True}, done
