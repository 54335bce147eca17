"""Dutch addresses: validation against the BAG through PDOK Locatieserver, and a
periodic look-up of the live orders' addresses still without coordinates."""

from app.platform.features import Feature
from app.platform.jobs.periodic import PeriodicJob

FEATURE = Feature(
    periodic_jobs=(
        PeriodicJob(
            "locate-addresses",
            "app.orders.addresses.locating.locate_waiting_addresses",
            every_seconds=10 * 60,
        ),
    ),
)
