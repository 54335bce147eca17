"""Migration 0060: the planned and moved notices say the visit in words, edits left alone."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from app.platform.extensions import db
from app.platform.models import CommunicationTemplate
from app.platform.models.enums import TemplateCategory, TemplateChannelType

MIGRATION = Path(__file__).resolve().parents[2] / "migrations/versions/0060_visit_moment_texts.py"


def _texts() -> dict:
    spec = importlib.util.spec_from_file_location("migration_0060", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.TEXTS


def _template(name: str, body: str) -> CommunicationTemplate:
    return CommunicationTemplate(
        template_name=name,
        display_name=name,
        template_category=TemplateCategory.INSTALLATION_SCHEDULING,
        channel_type=TemplateChannelType.ANY,
        message_template=body,
        variables=["order_id", "customer_name", "visit_date", "visit_time"],
    )


def _bodies() -> dict[str, tuple[str, list]]:
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(
            CommunicationTemplate.template_name,
            CommunicationTemplate.message_template,
            CommunicationTemplate.variables,
        )
    ).all()
    db.session.rollback()  # no lock left for the next migration step to wait on
    return {name: (body, variables) for name, body, variables in rows}


def test_0060_words_the_visit_and_leaves_an_admins_text_alone(app):
    texts = _texts()
    edited = "Beste {{customer_name}}, we komen op {{visit_date}} ({{visit_time}})."
    db.session.rollback()
    downgrade(revision="0059_suggestions")
    try:
        db.session.add_all(
            [_template("visit_planned", texts["visit_planned"][0]),
             _template("visit_moved", edited)]  # fmt: skip
        )
        db.session.commit()
        # This migration's own work, before later ones add to the same texts.
        upgrade(revision="0060_visit_moment")
        bodies = _bodies()
    finally:
        upgrade()
    assert bodies["visit_planned"] == (
        texts["visit_planned"][1],
        ["order_id", "customer_name", "visit_moment"],
    )
    assert "ingepland {{visit_moment}}." in bodies["visit_planned"][0]
    assert bodies["visit_moved"][0] == edited

    downgrade(revision="0059_suggestions")
    try:
        assert _bodies()["visit_planned"][0] == texts["visit_planned"][0]
    finally:
        upgrade()
