"""Styles and scripts at addresses that change with their content, kept a year."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from flask import url_for

from app.platform.static_files import KEPT_SECONDS

STATIC = Path(__file__).resolve().parents[2] / "static"


def _version(relative: str) -> str:
    return hashlib.sha256((STATIC / relative).read_bytes()).hexdigest()[:12]


def test_a_page_links_its_styles_and_scripts_by_their_content(client, auth, make_user):
    auth.login(make_user("agent").email)
    page = client.get("/inbox").get_data(as_text=True)
    linked = re.findall(r'(?:src|href)="(/static/[^"]+)"', page)
    assert len(linked) > 20
    for address in linked:
        path, _, query = address.partition("?")
        assert query == f"v={_version(path.removeprefix('/static/'))}", address


def test_the_current_version_is_kept_a_year_unchanged(client):
    kept = client.get(f"/static/js/app.js?v={_version('js/app.js')}")
    assert kept.status_code == 200
    assert kept.cache_control.max_age == KEPT_SECONDS
    assert kept.cache_control.public and kept.cache_control.immutable
    assert kept.headers["X-Content-Type-Options"] == "nosniff"


def test_an_address_without_the_current_version_is_asked_for_again(client):
    for address in ("/static/js/app.js", "/static/js/app.js?v=0123456789ab"):
        answer = client.get(address)
        assert answer.status_code == 200
        assert answer.cache_control.no_cache, address
        assert not answer.cache_control.immutable and answer.cache_control.max_age is None
        again = client.get(address, headers={"If-None-Match": answer.headers["ETag"]})
        assert again.status_code == 304


def test_an_edited_file_gets_a_new_address(app, tmp_path):
    (tmp_path / "site.css").write_text("body { color: black; }")
    versions = app.extensions["static_versions"]
    versions.folder = str(tmp_path)
    with app.test_request_context():
        before = url_for("static", filename="site.css")
        (tmp_path / "site.css").write_text("body { color: navy; }  /* longer */")
        after = url_for("static", filename="site.css")
    assert before != after
    assert after.endswith(hashlib.sha256(b"body { color: navy; }  /* longer */").hexdigest()[:12])


def test_a_name_outside_the_folder_or_missing_gets_no_version(app, client):
    versions = app.extensions["static_versions"]
    assert versions.of("../app/__init__.py") is None
    assert versions.of("js/no-such-file.js") is None
    with app.test_request_context():
        assert url_for("static", filename="js/no-such-file.js") == "/static/js/no-such-file.js"
    assert client.get("/static/../app/__init__.py?v=1").status_code == 404
