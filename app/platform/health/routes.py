"""``/healthz`` says the process is up; ``/readyz`` that its dependencies answer."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify

from app.platform.extensions import csrf
from app.platform.health.probes import database_answers
from app.platform.security.access import SESSION_CSRF, declare_blueprint, public

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)
declare_blueprint(bp, public("probes of the load balancer and the orchestrator", csrf=SESSION_CSRF))
csrf.exempt(bp)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    checks: dict[str, str] = {"database": "ok" if database_answers() else "unreachable"}
    broker = current_app.extensions["broker"]
    try:
        broker.ping()
        checks["queue"] = "ok"
    except Exception as exc:
        log.warning("readiness: queue unreachable: %s", exc)
        checks["queue"] = "unreachable"
    checks["queue_mode"] = "embedded" if broker.embedded else "redis"
    failing = sorted(name for name, state in checks.items() if state == "unreachable")
    if failing:
        return jsonify(status="unavailable", unreachable=failing, checks=checks), 503
    return jsonify(status="ok", checks=checks)
