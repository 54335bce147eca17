"""A portal invitation link, renewed: the new link ends every earlier one."""

from __future__ import annotations

import re

import sqlalchemy as sa

from app.platform.extensions import db
from app.platform.models import AuditLog, User
from tests.support.helpers import csrf_token_from
from tests.support.partner_support import make_partner

NEW_PASSWORD = "a-long-password"


def _link_path(response) -> str:
    assert response.status_code == 201
    link = re.search(r'data-testid="invitation-link">([^<]+)<', response.get_data(as_text=True))
    path = re.sub(r"^https?://[^/]+", "", link.group(1))
    assert path.startswith("/portal/welcome/")
    return path


def _token(client, path):
    return csrf_token_from(client.get(path).get_data(as_text=True))


def test_a_new_link_ends_the_earlier_one(app, client, auth, make_user):
    partner = make_partner("Delta")
    admin = make_user("admin")
    auth.login(admin.email)
    first = _link_path(
        client.post(
            f"/partners/{partner.id}/portal-users",
            data={
                "csrf_token": _token(client, f"/partners/{partner.id}"),
                "name": "Pia Partner",
                "email": "pia@delta.example",
                "language": "en",
            },
        )
    )
    user = db.session.scalar(sa.select(User).where(User.email == "pia@delta.example"))
    second = _link_path(
        client.post(
            f"/partners/{partner.id}/portal-users/{user.id}/link",
            data={"csrf_token": _token(client, f"/partners/{partner.id}")},
        )
    )
    assert second != first
    auth.logout()

    # The first link, though unused and within its seven days, is refused, saying why.
    form = {
        "csrf_token": _token(client, "/login"),
        "password": NEW_PASSWORD,
        "password_again": NEW_PASSWORD,
    }
    for refused in (client.get(first), client.post(first, data=form)):
        assert refused.status_code == 404
        page = refused.get_data(as_text=True)
        assert "replaced by a newer one" in page and "<form" not in page
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash == user.password_hash

    # The second one works, once.
    welcome = client.get(second)
    assert welcome.status_code == 200
    done = client.post(
        second,
        data={
            "csrf_token": csrf_token_from(welcome.get_data(as_text=True)),
            "password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD,
        },
    )
    assert done.status_code == 303
    assert auth.login("pia@delta.example", NEW_PASSWORD).headers["Location"].endswith("/portal/")
    assert client.get(second).status_code == 404
    assert db.session.scalar(
        sa.select(sa.func.count()).where(AuditLog.action == "PORTAL_INVITATION_RENEWED")
    )


def test_a_third_link_ends_both_earlier_ones(app, client, auth, make_user):
    partner = make_partner("Epsilon")
    admin = make_user("admin")
    auth.login(admin.email)
    links = [
        _link_path(
            client.post(
                f"/partners/{partner.id}/portal-users",
                data={
                    "csrf_token": _token(client, f"/partners/{partner.id}"),
                    "name": "Eva Partner",
                    "email": "eva@epsilon.example",
                    "language": "nl",
                },
            )
        )
    ]
    user = db.session.scalar(sa.select(User).where(User.email == "eva@epsilon.example"))
    for _ in range(2):
        links.append(
            _link_path(
                client.post(
                    f"/partners/{partner.id}/portal-users/{user.id}/link",
                    data={"csrf_token": _token(client, f"/partners/{partner.id}")},
                )
            )
        )
    auth.logout()
    assert [client.get(path).status_code for path in links] == [404, 404, 200]
