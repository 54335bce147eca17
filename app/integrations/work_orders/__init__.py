"""Work orders: one at ROVIDA or Yardi becomes our order, and is closed."""

from app.integrations.work_orders.closing import CLOSE_WORK_ORDER, close_work_order
from app.integrations.work_orders.intake import take_work_order

__all__ = ["CLOSE_WORK_ORDER", "close_work_order", "take_work_order"]
