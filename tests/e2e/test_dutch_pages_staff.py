"""The manager's and the admin's pages in Dutch have no English on them.

The crawl and its seeded data are those of tests/e2e/test_dutch_pages.py; these two
roles open the most pages, so they run from a file of their own.
"""

from __future__ import annotations

from tests.e2e.test_dutch_pages import crawl_desk, seeded  # noqa: F401  (the fixture)


def test_the_manager_reads_only_dutch(seeded, live_server, browser):  # noqa: F811
    crawl_desk(seeded, live_server, browser, "manager")


def test_the_admin_reads_only_dutch(seeded, live_server, browser):  # noqa: F811
    crawl_desk(seeded, live_server, browser, "admin")
