"""The job path ``app.integrations.work_order_close.close_work_order`` from before the
integration hub's groups: a job queued, or waiting for a retry, under that
name still runs. New jobs are named :data:`app.integrations.work_orders.CLOSE_WORK_ORDER`.
Delete this module once no queue holds a job of that name (a release later).
"""

from app.integrations.work_orders import close_work_order

__all__ = ["close_work_order"]
