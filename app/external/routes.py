from flask import Blueprint

from app.api.auth import guard_json_api

bp = guard_json_api(Blueprint("external_api", __name__, url_prefix="/api/v1/external"))
