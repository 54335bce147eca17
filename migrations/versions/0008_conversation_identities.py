"""conversation identities and leases

One contact per channel address: ``contact_identities`` with a unique
(kind, address), filled from the contacts there are. Person contacts that
share a phone number or an e-mail address (made by two workers racing on a
burst of messages) are merged first: the oldest survives, every row that
pointed at the others points at it, and an audit entry records the merge.
Contacts that are commission beneficiaries are left alone (they are partner
staff, and a merge could collide with one commission per order and person).

Also the leases that let a dead worker's job be taken up in seconds: on
inbound webhook events and on outbound messages being sent.

A downgrade drops the new table and columns; merged contacts stay merged.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 10:05:00

"""
import uuid
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('contact_identities',
    sa.Column('contact_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_contact_identities_contact_id_contacts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_identities')),
    sa.UniqueConstraint('kind', 'address', name=op.f('uq_contact_identities_kind_address'))
    )
    with op.batch_alter_table('contact_identities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_identities_contact_id'), ['contact_id'], unique=False)

    with op.batch_alter_table('inbound_webhook_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('communication_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('send_lease_expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_communication_message_pending_send', ['created_at'], unique=False, postgresql_where=sa.text("delivery_status = 'pending'"), sqlite_where=sa.text("delivery_status = 'pending'"))

    bind = op.get_bind()
    _merge_duplicate_people(bind)
    _claim_identities(bind)


def downgrade():
    with op.batch_alter_table('communication_message', schema=None) as batch_op:
        batch_op.drop_index('ix_communication_message_pending_send', postgresql_where=sa.text("delivery_status = 'pending'"), sqlite_where=sa.text("delivery_status = 'pending'"))
        batch_op.drop_column('send_lease_expires_at')

    with op.batch_alter_table('inbound_webhook_events', schema=None) as batch_op:
        batch_op.drop_column('lease_expires_at')

    with op.batch_alter_table('contact_identities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_identities_contact_id'))

    op.drop_table('contact_identities')


def _ID(name):
    return sa.bindparam(name, type_=sa.Uuid())


def _IDS(name):
    return sa.bindparam(name, type_=sa.Uuid(), expanding=True)


def _addresses(phone, email):
    found = []
    if phone and phone.strip():
        found.append(("phone", phone.strip()))
    if email and email.strip():
        found.append(("email", email.strip().lower()))
    return found


def _merge_duplicate_people(bind) -> None:
    beneficiaries = {
        str(row[0]) for row in bind.execute(sa.text(
            "SELECT DISTINCT beneficiary_contact_id FROM commissions "
            "WHERE beneficiary_contact_id IS NOT NULL"
        ))
    }
    people = [
        row for row in bind.execute(sa.text(
            "SELECT id, phone, email FROM contacts WHERE contact_type = 'person' "
            "ORDER BY created_at, id"
        ))
        if str(row[0]) not in beneficiaries
    ]
    # Union-find over shared addresses; the root is always the oldest contact.
    parent = {str(row[0]): str(row[0]) for row in people}
    order = {str(row[0]): index for index, row in enumerate(people)}

    def root(key):
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    first_with = {}
    for contact_id, phone, email in people:
        for address in _addresses(phone, email):
            other = first_with.setdefault(address, str(contact_id))
            a, b = root(other), root(str(contact_id))
            if a != b:
                keep, drop = (a, b) if order[a] < order[b] else (b, a)
                parent[drop] = keep
    groups = {}
    for contact_id in parent:
        groups.setdefault(root(contact_id), []).append(contact_id)
    groups = {keep: [c for c in members if c != keep]
              for keep, members in groups.items() if len(members) > 1}
    if not groups:
        return
    references = _references_to_contacts(bind)
    details = {str(row[0]): row for row in people}
    now = datetime.now(timezone.utc)
    for keep, merged in groups.items():
        keep_id = uuid.UUID(keep)
        merged_ids = [uuid.UUID(m) for m in merged]
        for table, column in references:
            statement = sa.text(
                f"UPDATE {table} SET {column} = :keep WHERE {column} IN :merged"  # noqa: S608
            ).bindparams(_ID("keep"), _IDS("merged"))
            bind.execute(statement, {"keep": keep_id, "merged": merged_ids})
        survivor = details[keep]
        phone = survivor[1] or next((details[m][1] for m in merged if details[m][1]), None)
        email = survivor[2] or next((details[m][2] for m in merged if details[m][2]), None)
        bind.execute(
            sa.text(
                "UPDATE contacts SET phone = :phone, email = :email WHERE id = :id"
            ).bindparams(_ID("id")),
            {"phone": phone, "email": email, "id": keep_id},
        )
        bind.execute(
            sa.text("DELETE FROM contacts WHERE id IN :merged").bindparams(_IDS("merged")),
            {"merged": merged_ids},
        )
        bind.execute(
            sa.text(
                "INSERT INTO audit_logs (id, created_at, updated_at, table_name, record_id, "
                "action, changes) VALUES (:id, :now, :now, 'contacts', :record, 'merge', :changes)"
            ).bindparams(
                _ID("id"), _ID("record"), sa.bindparam("now", type_=sa.DateTime(timezone=True)),
                sa.bindparam("changes", type_=sa.JSON()),
            ),
            {
                "id": uuid.uuid4(),
                "now": now,
                "record": keep_id,
                "changes": {
                    "merged_contact_ids": [str(m) for m in merged_ids],
                    "reason": "same phone number or e-mail address (migration 0008)",
                },
            },
        )


def _references_to_contacts(bind) -> list[tuple[str, str]]:
    """Every (table, column) with a foreign key to contacts.id, read from the database."""
    inspector = sa.inspect(bind)
    found = []
    for table in inspector.get_table_names():
        if table in ("contacts", "contact_identities"):
            continue
        for foreign_key in inspector.get_foreign_keys(table):
            if foreign_key["referred_table"] == "contacts":
                found.extend((table, column) for column in foreign_key["constrained_columns"])
    return found


def _claim_identities(bind) -> None:
    """Each address to one contact: people before other contacts, oldest first."""
    rows = bind.execute(sa.text(
        "SELECT id, phone, email FROM contacts "
        "ORDER BY CASE WHEN contact_type = 'person' THEN 0 ELSE 1 END, created_at, id"
    ))
    claimed = set()
    now = datetime.now(timezone.utc)
    values = []
    for contact_id, phone, email in rows:
        for kind, address in _addresses(phone, email):
            if (kind, address) in claimed or len(address) > 254:
                continue
            claimed.add((kind, address))
            values.append({
                "id": uuid.uuid4(), "created_at": now, "updated_at": now,
                # SQLite hands back the id as hex text; the column wants a UUID.
                "contact_id": uuid.UUID(str(contact_id)), "kind": kind, "address": address,
            })
    if values:
        table = sa.table(
            "contact_identities",
            sa.column("id", sa.Uuid()), sa.column("created_at", sa.DateTime(timezone=True)),
            sa.column("updated_at", sa.DateTime(timezone=True)), sa.column("contact_id", sa.Uuid()),
            sa.column("kind", sa.String()), sa.column("address", sa.String()),
        )
        op.bulk_insert(table, values)

