"""The audit log: who changed what, when, from what to what (never secret values)."""

from app.platform.features import Feature

FEATURE = Feature(init_app="app.platform.audit.actor:init_app")
