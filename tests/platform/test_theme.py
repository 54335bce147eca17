"""The chosen theme is rendered by the server, before the first paint."""

from __future__ import annotations


def _html_tag(client) -> str:
    page = client.get("/login").get_data(as_text=True)
    return page[page.index("<html") : page.index(">", page.index("<html")) + 1]


def test_the_theme_cookie_sets_the_page_theme_and_system_leaves_it_to_css(client):
    assert "data-theme" not in _html_tag(client)
    client.set_cookie("theme", "dark")
    assert 'data-theme="dark"' in _html_tag(client)
    client.set_cookie("theme", "light")
    assert 'data-theme="light"' in _html_tag(client)
    # "system", or anything else, is left to prefers-color-scheme in theme.css.
    for value in ("system", 'dark" onload="alert(1)'):
        client.set_cookie("theme", value)
        assert "data-theme" not in _html_tag(client)


def test_the_switch_shows_the_current_choice(client, auth, make_user):
    auth.login(make_user("agent").email)
    client.set_cookie("theme", "dark")
    html = client.get("/inbox").get_data(as_text=True)
    assert '<option value="dark" selected>' in html
