"""Page loads as a browser makes them: requests that reach the server, and time to load.

    .venv/bin/python benchmarks/page_loads.py [--rounds 5] [--latency-ms 150] [--kbps 1600]

Serves the demo workspace (app.seed.demo) with gunicorn on a scratch database
(BENCH_DATABASE_URL, default ``sb_bench_pages``) and Redis (BENCH_REDIS_URL, default
database 13), both wiped, and walks it in Chromium
(CHROMIUM_HEADLESS_SHELL_PATH, else CHROMIUM_PATH) as an agent at 1440x900 (the
inbox, a conversation, the task board) and as a technician at 375x812 with touch
(the day page, a visit's conversation). Each page is opened once to fill the
browser's cache, then ``--rounds`` times, as people move between pages all day.
Printed per page, medians: the requests gunicorn answered per load (from its access
log; Socket.IO left out), of them the styles, scripts and icons under /static/ (what
the browser did not take from its cache), and the time to the load event, on an
unthrottled local connection and, for the agent, on a weak mobile signal (Chrome's
network emulation: ``--latency-ms`` round trip, ``--kbps`` down).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from app import create_app  # noqa: E402
from app.platform.extensions import db  # noqa: E402
from app.seed.demo import DEMO_PASSWORD, load_demo_data  # noqa: E402
from benchmarks._support import (  # noqa: E402
    ensure_database,
    gunicorn,
    use_throwaway_secrets,
    wipe_and_migrate,
)

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/sb_bench_pages"
DEFAULT_REDIS = "redis://127.0.0.1:6379/13"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DESK = {"viewport": {"width": 1440, "height": 900}}
PHONE = {"viewport": {"width": 375, "height": 812}, "has_touch": True, "is_mobile": True}
# Who walks, on which screen, and the pages: a path, or the first link on the
# previous page that starts with a prefix.
# Chrome's network emulation does not slow a service worker's own requests, and
# the technician's pages go through one (static/js/mobile-sw.js): their weak-signal
# time would be the local one, so only the agent is timed on a weak signal.
WALKS = {
    "agent": (
        "agent@switchboard.test",
        DESK,
        ["/inbox", "link:/threads/", "/tasks"],
        ("local", "weak"),
    ),
    "technician": ("tech@switchboard.test", PHONE, ["/m/", "link:/m/visits/"], ("local",)),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--latency-ms", type=float, default=150)
    parser.add_argument("--kbps", type=float, default=1600)
    args = parser.parse_args()

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS)
    use_throwaway_secrets()
    ensure_database(url)
    # Jobs are queued in Redis and left there: no worker runs, so nothing but the
    # pages asked for uses the machine while they are timed.
    env = {"DATABASE_URL": url, "REDIS_URL": redis_url}
    os.environ.update(env)
    app = create_app(start_embedded_worker=False)
    with app.app_context():
        wipe_and_migrate(app)
        load_demo_data()
        db.session.commit()
        db.engine.dispose()

    chromium = os.environ.get("CHROMIUM_HEADLESS_SHELL_PATH", "/usr/bin/chromium-headless-shell")
    if not os.path.exists(chromium):
        chromium = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    with tempfile.TemporaryDirectory() as scratch:
        access_log = Path(scratch) / "access.log"
        served = gunicorn("wsgi:app", 1, 8, env, ("--access-logfile", str(access_log)))
        with served as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium, headless=True, args=CHROMIUM_ARGS
            )
            print(
                f"{'who':<11} {'page':<26} {'network':<8} {'requests':>8} "
                f"{'/static/':>8} {'load p50':>9}"
            )
            for who, (email, screen, pages, networks) in WALKS.items():
                for network in networks:
                    walk(
                        browser,
                        base,
                        AccessLog(access_log),
                        who,
                        email,
                        screen,
                        pages,
                        network,
                        args,
                    )
            browser.close()


class AccessLog:
    """The requests gunicorn answered since the last look (its access log's new lines)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.read_to = 0

    def since_last(self) -> list[str]:
        with open(self.path, "rb") as log:
            log.seek(self.read_to)
            lines = log.read().decode().splitlines()
            self.read_to = log.tell()
        return [line.split('"')[1].split(" ")[1] for line in lines if line.count('"') >= 2]


def walk(browser, base, access, who, email, screen, pages, network, args) -> None:
    context = browser.new_context(**screen, locale="nl-NL")
    page = context.new_page()
    page.goto(f"{base}/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(lambda u: "/login" not in u)
    if network == "weak":
        cdp = context.new_cdp_session(page)
        cdp.send(
            "Network.emulateNetworkConditions",
            {
                "offline": False,
                "latency": args.latency_ms,
                "downloadThroughput": args.kbps * 1000 / 8,
                "uploadThroughput": args.kbps * 1000 / 8 / 2,
            },
        )
    paths: list[str] = []
    for step in pages:
        if step.startswith("link:"):
            link = page.locator(f"a[href^='{step[5:]}']").first.get_attribute("href")
            step = urlsplit(link).path
        page.goto(f"{base}{step}", wait_until="load")  # fills the cache
        paths.append(step)
    for path in paths:
        times, to_server, static = [], [], []
        for _ in range(args.rounds):
            page.wait_for_timeout(300)  # what the last page still loads settles
            access.since_last()
            started = time.perf_counter()
            page.goto(f"{base}{path}", wait_until="load")
            times.append(time.perf_counter() - started)
            page.wait_for_timeout(300)  # gunicorn writes its log line after answering
            asked = [target for target in access.since_last() if "/socket.io/" not in target]
            to_server.append(len(asked))
            static.append(sum(1 for target in asked if target.startswith("/static/")))
        label = path if len(path) <= 26 else path[:23] + "..."
        print(
            f"{who:<11} {label:<26} {network:<8} {statistics.median(to_server):>8.0f} "
            f"{statistics.median(static):>8.0f} {statistics.median(times) * 1000:>6.0f} ms",
            flush=True,
        )
    context.close()


if __name__ == "__main__":
    main()
