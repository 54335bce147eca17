"""Inbound WhatsApp webhooks per second and p99 latency, against a bare endpoint.

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/switchboard_ingest_bench \
    BENCH_REDIS_URL=redis://127.0.0.1:6379/7 .venv/bin/python benchmarks/ingest.py

Serves the app with gunicorn (3 processes × 4 threads, as docs/deployment.md deploys it)
on PostgreSQL + Redis, and drives it with wrk (Debian's ``wrk`` package) using
distinct, correctly signed Meta payloads: first the bare endpoint, then an
endpoint that only stores the body with one durable INSERT, then
``POST /api/v1/webhooks/whatsapp``. Each request there verifies the signature,
stores the raw event, whose insert notifies the workers' consumers (none run
here); nothing is processed inline.
Prints requests/s and latency percentiles for all three and the ratios: the
insert-only floor shows what one durable commit per request costs on the machine,
which bounds any webhook that persists before it answers. The database and the
Redis database are wiped first.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import re
import shutil
import subprocess  # noqa: S404  (runs gunicorn and wrk, fixed arguments)
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from app import create_app  # noqa: E402
from app.platform.extensions import db  # noqa: E402
from benchmarks._support import gunicorn, use_throwaway_secrets  # noqa: E402

APP_SECRET = "bench-app-secret"  # noqa: S105  (a throwaway secret for this run)
PHONE_NUMBER_ID = "106742025925718"
FLOOR_TABLE = "bench_floor"  # the insert-only endpoint's table (see ingest_wsgi.py)


def whatsapp_payload(n: int) -> bytes:
    """A Meta text-message notification, distinct per ``n``."""
    phone = f"316{10_000_000 + n % 90_000_000:08d}"
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "WHATSAPP_BUSINESS_ACCOUNT_ID",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "31612345678",
                                "phone_number_id": PHONE_NUMBER_ID,
                            },
                            "contacts": [{"profile": {"name": f"Klant {n}"}, "wa_id": phone}],
                            "messages": [
                                {
                                    "from": phone,
                                    "id": f"wamid.bench{n:012d}",
                                    "timestamp": str(1_790_000_000 + n),
                                    "type": "text",
                                    "text": {
                                        "body": f"Hallo, ik heb een vraag over mijn laadpaal ({n})"
                                    },
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    return json.dumps(body, separators=(",", ":")).encode()


def signature(body: bytes) -> str:
    return "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()


def lua_script(path: Path, bodies: list[bytes]) -> None:
    """A wrk script cycling through pre-signed bodies read from a file next to it.

    The bodies live in a data file (signature, tab, body per line) because a Lua
    chunk with tens of thousands of string constants fails to load.
    """
    data = path.with_suffix(".tsv")
    data.write_text("".join(f"{signature(b)}\t{b.decode()}\n" for b in bodies))
    path.write_text(
        f"""
local bodies, sigs = {{}}, {{}}
local counter, offset = 0, 0
function setup(thread) thread:set("offset", math.random(0, 1000000)) end
function init(args)
  for line in io.lines("{data}") do
    local tab = string.find(line, "\t", 1, true)
    sigs[#sigs + 1] = string.sub(line, 1, tab - 1)
    bodies[#bodies + 1] = string.sub(line, tab + 1)
  end
  offset = tonumber(wrk.thread:get("offset")) or 0
end
function request()
  counter = counter + 1
  local i = ((counter * 7919 + offset) % #bodies) + 1
  return wrk.format("POST", nil, {{["Content-Type"] = "application/json",
    ["X-Hub-Signature-256"] = sigs[i]}}, bodies[i])
end
"""
    )


def run_wrk(url: str, script: Path, seconds: int, connections: int) -> dict:
    out = subprocess.run(  # noqa: S603  (fixed arguments)
        [
            shutil.which("wrk") or "/usr/bin/wrk",
            "-t",
            "2",
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    percentiles = {}
    for pct, value, unit in re.findall(r"\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)", out):
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
        percentiles[int(pct)] = float(value) * scale
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rate": rate, "p": percentiles, "non2xx": int(errors.group(1)) if errors else 0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    database_url = os.environ.get("BENCH_DATABASE_URL")
    redis_url = os.environ.get("BENCH_REDIS_URL")
    if not database_url or not redis_url:
        sys.exit("set BENCH_DATABASE_URL and BENCH_REDIS_URL (see the module docstring)")
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")

    use_throwaway_secrets()
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": redis_url},
        start_embedded_worker=False,
    )
    with app.app_context():
        db.session.execute(sa.text("DROP SCHEMA public CASCADE"))
        db.session.execute(sa.text("CREATE SCHEMA public"))
        db.session.commit()
        upgrade()
        db.session.execute(
            sa.text(f"CREATE TABLE {FLOOR_TABLE} (id uuid PRIMARY KEY, body bytea NOT NULL)")
        )
        db.session.commit()
        app.extensions["broker"].connection.flushdb()
        db.engine.dispose()

    total = args.seconds * 6000  # enough distinct bodies that none repeats
    workdir = Path(tempfile.mkdtemp(prefix="ingest-bench-"))
    script = workdir / "whatsapp.lua"
    lua_script(script, [whatsapp_payload(n) for n in range(total)])

    env = {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "WHATSAPP_APP_SECRET": APP_SECRET}
    with gunicorn("benchmarks.ingest_wsgi:app", args.workers, args.threads, env) as base:
        # Warm every path (connection pools, imports) before measuring.
        for path in ("/bench/bare", "/bench/insert", "/api/v1/webhooks/whatsapp"):
            run_wrk(f"{base}{path}", script, 3, args.connections)
        with app.app_context():
            db.session.execute(sa.text(f"TRUNCATE inbound_webhook_events, {FLOOR_TABLE} CASCADE"))
            db.session.commit()
            app.extensions["broker"].connection.flushdb()
        bare = run_wrk(f"{base}/bench/bare", script, args.seconds, args.connections)
        floor = run_wrk(f"{base}/bench/insert", script, args.seconds, args.connections)
        ingest = run_wrk(f"{base}/api/v1/webhooks/whatsapp", script, args.seconds, args.connections)
    with app.app_context():
        stored = db.session.scalar(sa.text("SELECT count(*) FROM inbound_webhook_events"))

    print(
        f"gunicorn gthread {args.workers}×{args.threads}, wrk 2 threads × "
        f"{args.connections} connections, {args.seconds} s each, PostgreSQL + Redis"
    )
    rows = (("bare endpoint", bare), ("insert-only floor", floor), ("WhatsApp webhook", ingest))
    for name, result in rows:
        p = result["p"]
        print(
            f"{name:18} {result['rate']:8.0f} req/s   p50 {p.get(50, 0):6.1f} ms   "
            f"p90 {p.get(90, 0):6.1f} ms   p99 {p.get(99, 0):6.1f} ms   "
            f"non-2xx {result['non2xx']}"
        )
    ratio = ingest["rate"] / bare["rate"]
    print(
        f"ratio webhook/bare: {ratio:.2f} (target ≥ 0.50)   "
        f"p99 {ingest['p'].get(99, 0):.1f} ms (target < 100 ms)   "
        f"{'PASS' if ratio >= 0.5 and ingest['p'].get(99, 1e9) < 100 else 'FAIL'}"
    )
    print(
        f"ratio insert-only floor/bare: {floor['rate'] / bare['rate']:.2f}   "
        f"webhook/insert-only floor: {ingest['rate'] / floor['rate']:.2f}"
    )
    print(f"events stored (each notified the workers): {stored}")


if __name__ == "__main__":
    main()
