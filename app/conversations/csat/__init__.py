"""Customer satisfaction: a 1–5 rating asked once a conversation is resolved.

When a person resolves (or closes) a customer's WhatsApp or e-mail
conversation, :mod:`.listeners` queues :func:`app.conversations.csat.asking.ask_rating`,
which writes one :class:`~app.platform.models.CsatResponse` per resolution (a unique key,
so duplicate events and two workers ask once) and posts the question through
the conversation's owner: a WhatsApp list of five ratings inside the 24-hour
window, else an e-mail with a link to :mod:`.routes`' public rating page. The
send job delivers it like any reply (leases, retries, the stalled-send sweep).
The answer, from the WhatsApp list (:mod:`.answers`, registered with the
WhatsApp channel) or the page, is stored on the row and written into the
timeline; ``/analytics`` reports it per agent, team, channel and week.
"""

from app.platform.features import Feature
from app.platform.jobs.periodic import PeriodicJob

FEATURE = Feature(
    blueprints=("app.conversations.csat.routes:bp",),
    listeners=("app.conversations.csat.listeners",),
    periodic_jobs=(
        # Every minute: a resolution whose ask job was lost (Redis restarted, the
        # web process died after the commit) is asked about all the same.
        PeriodicJob("csat-unasked", "app.conversations.csat.asking.ask_missed", every_seconds=60),
    ),
    init_app="app.conversations.csat.answers:init_app",
)
