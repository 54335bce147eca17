"""The OpenAPI document and its viewer (Swagger UI, vendored under static/vendor/)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template

from app.api_docs.openapi import build_spec

bp = Blueprint("api_docs", __name__)


@bp.get("/api/v1/openapi.json")
def openapi_json():
    return jsonify(build_spec(current_app.config["PUBLIC_BASE_URL"].rstrip("/")))


@bp.get("/api/docs")
def docs():
    return render_template("api/docs.html")
