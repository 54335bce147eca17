"""Every route declares who may call it.

The gates declare themselves (``role_required``, ``login_required``,
``api_role_required``, ``guard_json_api``); routes gated otherwise declare with
``declare``/``declare_blueprint`` (app/platform/security/access.py). This test walks
``app.url_map`` and names every endpoint without a declaration; a request to
one is refused at run time too.
"""

from __future__ import annotations

from app.platform.security.access import UNDECLARED_ON_PURPOSE, access_of, undeclared_endpoints


def test_every_route_in_the_url_map_declares_its_access(app, capsys):
    missing = undeclared_endpoints(app)
    assert missing == [], f"routes without an access declaration: {missing}"
    rules = list(app.url_map.iter_rules())
    declared = [rule for rule in rules if rule.endpoint not in UNDECLARED_ON_PURPOSE]
    with capsys.disabled():
        reasons = ", ".join(UNDECLARED_ON_PURPOSE)
        print(
            f"\nroute declarations: {len(declared)} of {len(rules)} routes declare their access; "
            f"{len(rules) - len(declared)} listed with a reason ({reasons})"
        )
    # Each declaration says something: public ones give their reason.
    for rule in declared:
        access = access_of(app, rule.endpoint)
        assert access.roles, rule.endpoint
        assert not access.public or access.reason, f"{rule.endpoint}: public without a reason"


def test_a_route_added_without_a_declaration_is_refused(make_app, client):
    app = client.application

    @app.get("/forgotten-check")
    def forgotten():
        return "secret"

    assert client.get("/forgotten-check").status_code == 403
