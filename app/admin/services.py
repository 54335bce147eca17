"""Queries behind the admin pages."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.models import User


def list_users() -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User).options(so.joinedload(User.team)).order_by(User.role, User.name)
        )
    )
