"""Entry-link flood benchmark: does one client's flood of entry links slow down everyone else?

    .venv/bin/python bench/flood.py --json

It starts its own server (uvicorn with the ESC application on a free 127.0.0.1 port, on a
throwaway SQLite file, or with --database-url on a fresh PostgreSQL database it creates and
drops) and never touches the user's database. A normal worker enters once and then loads their
consent page (`GET /consent/` with their bound session) a few times a second, first in quiet,
then while one client address sends entry links for new workers at `--rate` per second for
`--seconds`. A static file fetched the same way (no Django view, no database) is the bare
baseline beside it.

It prints the worker page's p50/p99 in quiet and under the flood, their ratio (target: the
p99 at most 2x), how many flood requests were accepted and how many got 429, and how many
workers the flood managed to create. With --json the last line is one JSON object with the
figures. Exit status: 0 when the run completed and the rate limit held (no more workers than
accepted links, some 429s once the flood exceeded the limit), 1 when it did not, 2 when the
bench could not set itself up.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.common import percentile  # noqa: E402
from devtools.manage import run_manage  # noqa: E402
from devtools.server import HOST, ServerProcess, free_port, start, uvicorn_command  # noqa: E402

TARGET_RATIO = 2.0
BASELINE_PATH = "/static/css/site.css"
# Variables that would point the server at the user's own services: never inherited.
NOT_INHERITED = ("DATABASE_URL", "REDIS_URL", "CACHE_URL", "CELERY_BROKER_URL", "SQLITE_PATH")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=50.0, help="flood entry links per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long the flood lasts")
    parser.add_argument("--quiet-seconds", type=float, default=20.0, help="quiet measurement")
    parser.add_argument(
        "--probe-rate", type=float, default=10.0, help="worker page loads per second"
    )
    parser.add_argument(
        "--entry-rate", default="", help="the server's ENTRY_RATE_PER_IP (default: its own)"
    )
    parser.add_argument(
        "--database-url", default="", help="a PostgreSQL server: a fresh database on it"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON last")
    args = parser.parse_args(argv)
    if args.rate <= 0 or args.seconds <= 0 or args.quiet_seconds <= 0 or args.probe_rate <= 0:
        parser.error("rates and durations must be positive")
    return args


@dataclass
class Response:
    status: int
    seconds: float
    headers: dict[str, str]


def get(port: int, path: str, cookie: str = "") -> Response:
    """One GET on a new connection (as a browser tab would); status 0 when it failed."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = connection.getresponse()
        response.read()
        headers = {key.lower(): value for key, value in response.getheaders()}
        return Response(response.status, time.perf_counter() - started, headers)
    except (OSError, http.client.HTTPException):
        return Response(0, time.perf_counter() - started, {})
    finally:
        connection.close()


@dataclass
class Phase:
    worker: list[float] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)
    errors: int = 0


def probe(port: int, cookie: str, seconds: float, rate: float) -> Phase:
    """Load the worker's page and the static file alternately at `rate` each per second."""
    phase = Phase()
    interval = 1.0 / rate
    deadline = time.monotonic() + seconds
    next_at = time.monotonic()
    while time.monotonic() < deadline:
        page = get(port, "/consent/", cookie)
        static = get(port, BASELINE_PATH)
        if page.status == 200:
            phase.worker.append(page.seconds)
        else:
            phase.errors += 1
        if static.status == 200:
            phase.baseline.append(static.seconds)
        else:
            phase.errors += 1
        next_at += interval
        time.sleep(max(0.0, next_at - time.monotonic()))
    return phase


def flood(port: int, rate: float, seconds: float) -> Counter[int]:
    """Entry links for new workers at a fixed rate (open loop: slow answers do not slow it)."""
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    total = int(rate * seconds)

    def one(number: int) -> None:
        path = f"/start/?role=seeker&PROLIFIC_PID=flood-{number}&STUDY_ID=s&SESSION_ID=f{number}"
        status = get(port, path).status
        with lock:
            statuses[status] += 1

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=64) as pool:
        for number in range(total):
            time.sleep(max(0.0, started + number / rate - time.monotonic()))
            pool.submit(one, number)
    return statuses


def server_environment(workdir: Path, database_url: str, entry_rate: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in NOT_INHERITED}
    env.update(DJANGO_SETTINGS_MODULE="esc_platform.settings", LOG_LEVEL="WARNING")
    env.pop("EMBEDDED_SCHEDULER", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    else:
        env["SQLITE_PATH"] = str(workdir / "flood.sqlite3")
    if entry_rate:
        env["ENTRY_RATE_PER_IP"] = entry_rate
    return env


def enter_normal_worker(port: int) -> str:
    """The normal worker opens their entry link; their session cookie."""
    response = get(port, "/start/?role=seeker&PROLIFIC_PID=normal-1&STUDY_ID=s&SESSION_ID=n1")
    cookie = response.headers.get("set-cookie", "")
    if response.status != 302 or "sessionid=" not in cookie:
        raise RuntimeError(f"the normal worker's entry link answered {response.status}")
    return cookie.split(";", 1)[0]


def measure(args: argparse.Namespace, port: int, env: dict[str, str]) -> dict[str, Any]:
    cookie = enter_normal_worker(port)
    quiet = probe(port, cookie, args.quiet_seconds, args.probe_rate)
    started = time.monotonic()
    holder: dict[str, Counter[int]] = {}
    flooder = threading.Thread(
        target=lambda: holder.update(statuses=flood(port, args.rate, args.seconds))
    )
    flooder.start()
    loaded = probe(port, cookie, args.seconds, args.probe_rate)
    flooder.join()
    flood_seconds = time.monotonic() - started
    statuses = holder["statuses"]
    code = "from crowd.models import Worker; print(Worker.objects.count())"
    workers = int(run_manage("shell", "-v", "0", "-c", code, env=env).strip())
    quiet_p99, flood_p99 = percentile(quiet.worker, 0.99), percentile(loaded.worker, 0.99)
    sent = sum(statuses.values())
    return {
        "flood_rate": args.rate,
        "flood_seconds": round(flood_seconds, 1),
        "flood_sent": sent,
        "flood_accepted": statuses.get(302, 0),
        "flood_429": statuses.get(429, 0),
        "flood_other": sent - statuses.get(302, 0) - statuses.get(429, 0),
        "workers_created": workers,
        "quiet_samples": len(quiet.worker),
        "quiet_p50_ms": percentile(quiet.worker, 0.5),
        "quiet_p99_ms": quiet_p99,
        "flood_samples": len(loaded.worker),
        "flood_p50_ms": percentile(loaded.worker, 0.5),
        "flood_p99_ms": flood_p99,
        "p99_ratio": round(flood_p99 / quiet_p99, 2) if quiet_p99 else None,
        "target_ratio": TARGET_RATIO,
        "baseline_quiet_p99_ms": percentile(quiet.baseline, 0.99),
        "baseline_flood_p99_ms": percentile(loaded.baseline, 0.99),
        "probe_errors": quiet.errors + loaded.errors,
    }


def report(figures: dict[str, Any]) -> None:
    f = figures
    print(
        f"worker page (GET /consent/): quiet p50 {f['quiet_p50_ms']} ms, "
        f"p99 {f['quiet_p99_ms']} ms ({f['quiet_samples']} loads)"
    )
    print(
        f"under a flood of {f['flood_sent']} entry links in {f['flood_seconds']} s "
        f"({f['flood_rate']:g}/s from one address): p50 {f['flood_p50_ms']} ms, "
        f"p99 {f['flood_p99_ms']} ms; p99 ratio {f['p99_ratio']} (target <= {TARGET_RATIO:g})"
    )
    print(
        f"flood: {f['flood_accepted']} accepted, {f['flood_429']} refused with 429, "
        f"{f['flood_other']} other; workers in the database: {f['workers_created']}"
    )
    print(
        f"bare baseline (GET {BASELINE_PATH}): p99 {f['baseline_quiet_p99_ms']} ms quiet, "
        f"{f['baseline_flood_p99_ms']} ms under the flood"
    )


def held(figures: dict[str, Any]) -> bool:
    """The limit held: no worker beyond the accepted links (+1, the normal worker), and the
    flood was refused once it went past the limit; the worker's page always answered."""
    within = figures["workers_created"] <= figures["flood_accepted"] + 1
    refused = figures["flood_429"] > 0 or figures["flood_accepted"] == figures["flood_sent"]
    return within and refused and figures["probe_errors"] == 0 and figures["flood_other"] == 0


def run(args: argparse.Namespace, workdir: Path, database_url: str) -> int:
    env = server_environment(workdir, database_url, args.entry_rate)
    port = free_port()
    server: ServerProcess | None = None
    try:
        run_manage("migrate", "--noinput", env=env)
        command = uvicorn_command(port, "--no-access-log", "--log-level", "warning")
        server = start(
            command, port=port, env=env, log_path=workdir / "server.log", new_session=True
        )
        server.wait_until_ready("/healthz", timeout=60)
    except Exception as exc:
        print(f"flood bench: could not set up: {exc}", file=sys.stderr)
        if server is not None:
            server.stop()
        return 2
    try:
        figures = measure(args, port, env)
    finally:
        server.stop()
    report(figures)
    if args.json:
        print(json.dumps(figures))
    return 0 if held(figures) else 1


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="esc-flood-"))
    database = ""
    try:
        if args.database_url:
            from bench.scratch import create_database, fresh_database_url

            url, name = fresh_database_url(args.database_url)
            create_database(url, name)
            database = name
            print(f"database: fresh PostgreSQL database {name} (dropped afterwards)", flush=True)
        else:
            url = ""
            print(f"database: temporary SQLite file {workdir / 'flood.sqlite3'}", flush=True)
        return run(args, workdir, url)
    finally:
        if database:
            from bench.scratch import drop_database

            drop_database(args.database_url, database)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
