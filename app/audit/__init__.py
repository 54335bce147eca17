"""The audit log: who changed what, when, from what to what (never secret values)."""

from app.features import Feature

FEATURE = Feature(init_app="app.audit.actor:init_app")
