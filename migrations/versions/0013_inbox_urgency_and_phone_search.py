"""Inbox: customers before internal items in the urgency order; phone endings searchable.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-22

- ``urgency_bucket`` gets a bucket of its own for internal tasks and notes with a
  deadline (1), after customers waiting on us (0); threads without a deadline move
  to 2 and closed ones to 3 (app.platform.models.urgency). Scores do not change.
- On PostgreSQL the search document is rebuilt with the endings (6+ digits) of the
  contact's national number, so a partial phone number is found by prefix, and
  with a space for a dash before a digit ("CC-2026-00060": PostgreSQL's parser
  would read "-2026" as a negative number, which a search for "2026" misses).

The rules are copied here, not imported, because a migration must not change when
the app does. A downgrade puts the old buckets back; the extra words stay in the
search documents, where the old code ignores them.
"""

from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

INTERNAL_CHANNELS = (
    "SELECT id FROM communication_channel "
    "WHERE channel_type IN ('internal_task', 'internal_ticket', 'internal_comment')"
)

DOCUMENT_SQL = r"""
UPDATE communication_thread AS t SET search_vector = to_tsvector('dutch', regexp_replace(
    coalesce(t.thread_subject, '') || ' ' ||
    coalesce(c.display_name, '') || ' ' || coalesce(c.email, '') || ' ' ||
    coalesce(translate(c.email, '@.', '  '), '') || ' ' || coalesce(c.phone, '') || ' ' ||
    coalesce(regexp_replace(c.phone, '\D', '', 'g'), '') || ' ' ||
    coalesce((SELECT string_agg(right(n.national, k), ' ')
              FROM (SELECT CASE WHEN p.d LIKE '0031%' THEN '0' || substr(p.d, 5)
                                WHEN p.d LIKE '31%' THEN '0' || substr(p.d, 3)
                                WHEN p.d LIKE '0%' THEN p.d END AS national
                    FROM (SELECT regexp_replace(c.phone, '\D', '', 'g') AS d) AS p) AS n,
                   generate_series(least(6, length(n.national)), length(n.national)) AS k),
             '') || ' ' ||
    coalesce(m.body, ''), '-(?=\d)', ' ', 'g'))
FROM communication_thread AS t2
LEFT JOIN contacts c ON c.id = t2.contact_id
LEFT JOIN (
  SELECT thread_id, string_agg(message_content, ' ') AS body
  FROM communication_message GROUP BY thread_id
) m ON m.thread_id = t2.id
WHERE t.id = t2.id
"""


def upgrade():
    op.execute(
        f"""
        UPDATE communication_thread SET urgency_bucket = CASE
          WHEN status IN ('resolved', 'closed') THEN 3
          WHEN response_due_at IS NULL THEN 2
          WHEN thread_type = 'internal_task' OR channel_id IN ({INTERNAL_CHANNELS}) THEN 1
          ELSE 0 END
        """  # noqa: S608  (a fixed fragment)
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(DOCUMENT_SQL)


def downgrade():
    op.execute(
        """
        UPDATE communication_thread SET urgency_bucket = CASE
          WHEN status IN ('resolved', 'closed') THEN 2
          WHEN response_due_at IS NOT NULL THEN 0
          ELSE 1 END
        """
    )
