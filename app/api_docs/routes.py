"""The OpenAPI document and its viewer (Swagger UI, vendored under static/vendor/)."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request

from app.api_docs.openapi import build_spec

bp = Blueprint("api_docs", __name__)


@bp.get("/api/v1/openapi.json")
def openapi_json():
    # "Servers" is the address this document was fetched from, so "Try it out"
    # on /api/docs calls the same host, port and scheme the reader is on (another
    # port, a staging host), not PUBLIC_BASE_URL's default 127.0.0.1:5000.
    return jsonify(build_spec(request.host_url.rstrip("/")))


@bp.get("/api/docs")
def docs():
    return render_template("api/docs.html")
