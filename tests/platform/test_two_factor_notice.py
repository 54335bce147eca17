"""The second-factor notice says why for the reader's own role.

A partner user and a manager were told they need two-factor sign-in "for admin
pages and integrations", pages neither of them ever sees.
"""

from __future__ import annotations

import pytest

from app.platform.auth.two_factor import disable_two_factor
from app.platform.extensions import db
from tests.support.partner_support import make_partner


@pytest.mark.parametrize(
    ("role", "says", "closed"),
    [
        ("admin", "admin pages and integrations", "admin pages and integrations stay closed"),
        ("manager", "analytics", "analytics and working hours stay closed"),
        ("partner", "partner portal", "the partner portal stays closed"),
    ],
)
def test_the_notice_names_what_the_readers_own_role_opens(
    client, auth, make_user, role, says, closed
):
    fields = {}
    if role == "partner":
        fields["partner_organization_id"] = make_partner("Groendus").organization.id
    user = make_user(role, two_factor=True, **fields)
    auth.login(user.email)
    # Turned on: the "turn off" part warns what closes without it.
    on = client.get("/settings/security").get_data(as_text=True)
    warning = on.split('data-testid="two-factor-closed">', 1)[1].split("</p>", 1)[0]
    assert closed in warning, warning
    # Turned off (as an admin's reset leaves it): the notice says why.
    disable_two_factor(user)
    db.session.commit()
    off = client.get("/settings/security").get_data(as_text=True)
    notice = off.split('data-testid="two-factor-required">', 1)[1].split("</p>", 1)[0]
    assert says in notice, notice
    if role != "admin":
        assert "admin pages" not in notice and "admin pages" not in warning


def test_an_agent_is_told_nothing_is_required(client, auth, make_user):
    auth.login(make_user("agent").email)
    page = client.get("/settings/security").get_data(as_text=True)
    assert 'data-testid="two-factor-required"' not in page
