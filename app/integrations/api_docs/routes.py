"""The OpenAPI document, its viewer (Swagger UI, vendored under static/vendor/) and
the partners' getting-started guide (docs/partners.md), public like the document."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request

from app.integrations.api_docs.guide import guide_markdown, render_guide
from app.integrations.api_docs.openapi import GUIDE_PATH, build_spec
from app.platform.security.access import SESSION_CSRF, declare_blueprint, public

bp = Blueprint("api_docs", __name__)
declare_blueprint(
    bp, public("the API's documentation, for partners before they have a key", csrf=SESSION_CSRF)
)


@bp.get("/api/v1/openapi.json")
def openapi_json():
    # "Servers": first the address this document was fetched from, so "Try it
    # out" on /api/docs calls the host, port and scheme the reader is on (a
    # staging host, a proxy), then PUBLIC_BASE_URL, where the app says it runs.
    here = request.host_url.rstrip("/")
    public = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return jsonify(build_spec(tuple(dict.fromkeys((here, public)))))


@bp.get("/api/docs")
def docs():
    return render_template("api/docs.html")


@bp.get(GUIDE_PATH)
def partners_guide():
    return render_template("api/partners_guide.html", guide=render_guide())


@bp.get(GUIDE_PATH + ".md")
def partners_guide_markdown():
    return current_app.response_class(guide_markdown(), mimetype="text/markdown")
