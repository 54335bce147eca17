"""Liveness and readiness probes."""

from __future__ import annotations


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_ok(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["checks"]["database"] == "ok"
    assert response.json["checks"]["queue"] == "ok"


def test_readyz_names_unreachable_database(make_app, tmp_path):
    app = make_app(
        start_embedded_worker=False,
        SQLALCHEMY_DATABASE_URI="postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=1",
    )
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["unreachable"] == ["database"]


def test_readyz_names_unreachable_queue(make_app):
    app = make_app(start_embedded_worker=False, REDIS_URL="redis://127.0.0.1:1/0")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert "queue" in response.json["unreachable"]
