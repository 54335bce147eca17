"""Partner order intake per second (with p95), and callback deliveries per second.

    .venv/bin/python benchmarks/partners.py            # both parts
    .venv/bin/python benchmarks/partners.py --intake   # intake only

Intake: the app under gunicorn (6 processes × 2 threads) on PostgreSQL + Redis,
driven by wrk with distinct, valid partner orders (`POST
/api/v1/partners/<id>/orders`). Each request authenticates the key, counts the
rate limit in Redis, asks a local fake PDOK, and writes customer, address,
order, lines, first status and audit in one transaction with a gap-free number.
Afterwards the numbers are checked to be 1..N without gaps.

Callbacks: benchmarks/partners_callbacks.py, N deliveries to a local receiver
with 1 and then 2 `worker.py` processes.

Databases (wiped first): BENCH_DATABASE_URL (default
postgresql+psycopg://postgres@127.0.0.1/sb_bench_partners) and BENCH_REDIS_URL
(default redis://127.0.0.1:6379/8).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess  # noqa: S404  (runs gunicorn and wrk with fixed arguments)
import sys
import tempfile
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from app import create_app  # noqa: E402
from app.orders.partners.services import create_partner  # noqa: E402
from app.platform.extensions import db  # noqa: E402
from app.platform.models import Article, PartnerSkuMapping  # noqa: E402
from app.platform.models.enums import ArticleType  # noqa: E402
from benchmarks._support import (  # noqa: E402
    ensure_database,
    gunicorn,
    use_throwaway_secrets,
    wipe_and_migrate,
)

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1/sb_bench_partners"
DEFAULT_REDIS = "redis://127.0.0.1:6379/8"

PDOK_ANSWER = json.dumps(
    {
        "response": {
            "numFound": 1,
            "start": 0,
            "maxScore": 12.5,
            "numFoundExact": True,
            "docs": [
                {
                    "type": "adres",
                    "id": "adr-0363200000123456",
                    "weergavenaam": "Hoofdstraat 123, 1012AB Amsterdam",
                    "straatnaam": "Hoofdstraat",
                    "huisnummer": 123,
                    "postcode": "1012AB",
                    "woonplaatsnaam": "Amsterdam",
                    "provincienaam": "Noord-Holland",
                    "centroide_ll": "POINT(4.8936 52.3731)",
                    "nummeraanduiding_id": "0363200000123456",
                }
            ],
        }
    }
).encode()


class FakePdok(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802  (http.server's naming)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(PDOK_ANSWER)))
        self.end_headers()
        self.wfile.write(PDOK_ANSWER)

    def log_message(self, *args):
        pass


WRK_SCRIPT = """
local counter = 0
local prefix = ""
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("prefix", "%RUN%" .. threads)
end
function init(args) prefix = wrk.thread:get("prefix") end
function request()
  counter = counter + 1
  local id = "BENCH-" .. prefix .. "-" .. counter
  local body = string.format([[{"partner_order_id":"%s","partner_customer_id":"C-%s",
"customer":{"name":"Klant %s","email":"klant%s@example.com","phone":"+3161%07d",
"address":{"street":"Hoofdstraat 123","postal_code":"1012AB","city":"Amsterdam"}},
"line_items":[{"sku":"GRO-ALFEN-11","quantity":1},{"sku":"GRO-INSTALL-1","quantity":1}]}]],
    id, id, id, id, (counter * 7 + tonumber(prefix) * 1000003) % 10000000)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json",
    ["X-API-Key"] = "%API_KEY%"}, body)
end
function done(summary, latency, requests)
  io.write(string.format("P95_US %d\\n", latency:percentile(95)))
  io.write(string.format("P50_US %d\\n", latency:percentile(50)))
  io.write(string.format("P99_US %d\\n", latency:percentile(99)))
end
"""


def prepare(app) -> tuple[str, str]:
    with app.app_context():
        wipe_and_migrate(app)
        partner = create_partner("Groendus")
        partner.integration.rate_limit_per_minute = 10000
        articles = [
            Article(
                sku="ALF-EVE-S-11KW",
                name="Alfen Eve 11 kW",
                article_type=ArticleType.WALLBOX,
                unit_price=Decimal("1149"),
            ),
            Article(
                sku="INST-BASIC-1P",
                name="Installatie",
                article_type=ArticleType.INSTALLATION,
                unit_price=Decimal("495"),
            ),
        ]
        db.session.add_all(articles)
        db.session.flush()
        for sku, article in zip(("GRO-ALFEN-11", "GRO-INSTALL-1"), articles, strict=True):
            db.session.add(
                PartnerSkuMapping(
                    partner_organization_id=partner.organization.id,
                    partner_sku=sku,
                    article_id=article.id,
                )
            )
        db.session.commit()
        result = str(partner.organization.id), partner.api_key
        db.engine.dispose()
        return result


def run_wrk(url: str, script: Path, seconds: int, connections: int) -> dict:
    out = subprocess.run(  # noqa: S603
        [
            shutil.which("wrk") or "/usr/bin/wrk",
            "-t",
            "2",
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    values = dict(line.split() for line in out.splitlines() if line.startswith("P"))
    rate = next(
        float(line.split()[1]) for line in out.splitlines() if line.startswith("Requests/sec")
    )
    non2xx = next(
        (int(line.rsplit(" ", 1)[1]) for line in out.splitlines() if "Non-2xx" in line), 0
    )
    return {
        "rate": rate,
        "p50": int(values["P50_US"]) / 1000,
        "p95": int(values["P95_US"]) / 1000,
        "p99": int(values["P99_US"]) / 1000,
        "non2xx": non2xx,
    }


def intake(args, database_url: str, redis_url: str) -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": redis_url},
        start_embedded_worker=False,
    )
    partner_id, api_key = prepare(app)
    pdok = ThreadingHTTPServer(("127.0.0.1", 0), FakePdok)
    threading.Thread(target=pdok.serve_forever, daemon=True).start()

    workdir = Path(tempfile.mkdtemp(prefix="partners-bench-"))
    script = workdir / "orders.lua"
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "PDOK_API_BASE": f"http://127.0.0.1:{pdok.server_port}",
    }
    try:
        with gunicorn("wsgi:app", args.workers, args.threads, env) as base:
            url = f"{base}/api/v1/partners/{partner_id}/orders"
            script.write_text(WRK_SCRIPT.replace("%API_KEY%", api_key).replace("%RUN%", "1"))
            run_wrk(url, script, 3, args.connections)  # warm-up
            script.write_text(WRK_SCRIPT.replace("%API_KEY%", api_key).replace("%RUN%", "2"))
            with app.app_context():
                before = db.session.scalar(sa.text("SELECT count(*) FROM orders"))
            result = run_wrk(url, script, args.seconds, args.connections)
    finally:
        pdok.shutdown()
    with app.app_context():
        numbers = [
            int(n.rsplit("-", 1)[1])
            for n in db.session.scalars(sa.text("SELECT order_number FROM orders"))
        ]
        created = len(numbers) - before
        gap_free = sorted(numbers) == list(range(1, len(numbers) + 1))
    print(
        f"intake: gunicorn gthread {args.workers}×{args.threads}, wrk 2 threads × "
        f"{args.connections} connections, {args.seconds} s, PostgreSQL + Redis"
    )
    print(
        f"  {result['rate']:7.1f} orders/s   p50 {result['p50']:6.1f} ms   "
        f"p95 {result['p95']:6.1f} ms   p99 {result['p99']:6.1f} ms   "
        f"non-2xx {result['non2xx']}   orders created {created}   "
        f"numbers gap-free: {'yes' if gap_free else 'NO'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=8)
    # Processes rather than threads: an intake holds the year's counter row from
    # its number to its commit, and threads of one process queue on the GIL
    # while holding it (3×4 gives ~60 orders/s where 6×2 gives ~100).
    parser.add_argument("--workers", type=int, default=6)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--intake", action="store_true", help="only the intake part")
    parser.add_argument("--callbacks", action="store_true", help="only the callback part")
    args = parser.parse_args()
    use_throwaway_secrets()
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS)
    ensure_database(database_url)
    if not args.callbacks:
        intake(args, database_url, redis_url)
    if not args.intake:
        from benchmarks import partners_callbacks

        partners_callbacks.main([])


if __name__ == "__main__":
    main()
