"""How fast the API's lists answer, each against a plain Django view answering the same.

Run from anywhere: .venv/bin/python bench/api.py [--volunteers 10000] [--duration 15]
                   [--only volunteers,sessions,my-sessions,not-modified] [--redis none]

It (re)creates a PostgreSQL database, migrates it and seeds the demo set plus N synthetic
volunteers with `seed_demo` and 10,000 sessions, 200 of them the demo app volunteer's
(bench/sessions_data.py), starts gunicorn with DEBUG off (bench/api_settings.py: the project's
settings plus the plain views' routes), signs in as the coordinator through allauth's headless
API and as the app volunteer (the cache and sessions in Redis, as in production, unless
`--redis none`), and for each comparison checks that both sides answer the same
page, counts their queries, then runs wrk against each in turn, warm-up first and then rounds
that alternate them, and prints requests per second, latencies and the ratio of the two:

- volunteers: `GET /api/v1/volunteers/?page_size=100` against bench/plain_volunteers.py;
- sessions: `GET /api/v1/sessions/?page_size=100` over the 10,000 against
  bench/plain_sessions.py;
- my-sessions: the volunteer's `GET /api/v1/me/sessions/?page_size=100` (of 200) against
  bench/plain_my_sessions.py;
- not-modified: that list with `If-None-Match` of its own ETag (a 304) against the full answer.

gunicorn is stopped at the end, on Ctrl-C and on errors too.
"""

import argparse
import cProfile
import gc
import json
import os
import pstats
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import date
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bench.commands import manage, others_busy  # noqa: E402

SESSIONS = 10_000
MY_SESSIONS = 200
APP_VOLUNTEER_PHONE = "+447700900000"


@dataclass
class Comparison:
    """Two requests measured side by side: `ours` against `baseline`, both expected to give
    the same rows (unless `baseline_status` says the baseline answers otherwise)."""

    name: str
    ours: str
    baseline: str
    caller: str  # "coordinator" or "volunteer"
    rows: int
    labels: tuple = ("API", "plain")
    target: float = 0.5  # ours / baseline in requests per second (304 / full), at least
    not_modified: bool = False  # the baseline is `ours` again with If-None-Match: a 304


COMPARISONS = {
    "volunteers": Comparison(
        "volunteers",
        "/api/v1/volunteers/?page_size=100",
        "/bench/plain-volunteers/?page_size=100",
        "coordinator",
        rows=100,
    ),
    "sessions": Comparison(
        "sessions",
        "/api/v1/sessions/?page_size=100",
        "/bench/plain-sessions/?page_size=100",
        "coordinator",
        rows=100,
    ),
    "my-sessions": Comparison(
        "my-sessions",
        "/api/v1/me/sessions/?page_size=100",
        "/bench/plain-my-sessions/?page_size=100",
        "volunteer",
        rows=100,
    ),
    "not-modified": Comparison(
        "not-modified",
        "/api/v1/me/sessions/?page_size=100",
        "/api/v1/me/sessions/?page_size=100",
        "volunteer",
        rows=100,
        labels=("full", "304"),
        target=3,  # the 304 answers at least three times as many requests a second
        not_modified=True,
    ),
}
COORDINATOR_EMAIL = "coordinator@peerpath.local"
# A password for the bench database only: with DEBUG off seed_demo refuses the public demo one.
COORDINATOR_PASSWORD = "bench-walk-alongside-2468"
WRK_MISSING = (
    "wrk is not installed. On Debian or Ubuntu: sudo apt-get install -y wrk "
    "(on macOS: brew install wrk); then run this again."
)


def positive(text):
    try:
        value = int(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"“{text}” is not a whole number.") from None
    if value < 1:
        raise argparse.ArgumentTypeError("Give 1 or more.")
    return value


def comparisons(text):
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in COMPARISONS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"Choose from {', '.join(COMPARISONS)} (not {', '.join(unknown) or 'nothing'})."
        )
    return names


def options():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--volunteers", type=positive, default=10_000, help="Synthetic volunteers (10000).")
    add("--duration", type=positive, default=15, help="Seconds per wrk run (15).")
    add("--warmup", type=positive, default=5, help="Seconds of warm-up per endpoint (5).")
    add("--rounds", type=positive, default=3, help="Runs per endpoint, alternating (3).")
    add("--connections", type=positive, default=16, help="wrk connections (16).")
    add("--threads", type=positive, default=2, help="wrk threads (2).")
    add("--workers", type=positive, default=3, help="gunicorn sync workers (3).")
    add(
        "--database",
        default="peerpath_bench",
        help="PostgreSQL database to drop and recreate (peerpath_bench).",
    )
    add(
        "--postgres",
        default="postgres://postgres@127.0.0.1:5432",
        help="PostgreSQL server, as a URL without a database (postgres://postgres@127.0.0.1:5432).",
    )
    add(
        "--redis",
        default="redis://127.0.0.1:6379/5",
        help="Redis for the cache and the sessions, as in production, emptied first "
        "(redis://127.0.0.1:6379/5); 'none' keeps sessions in the database and a cache in "
        "each process.",
    )
    add(
        "--reuse",
        action="store_true",
        help="Keep the database when it was seeded today with the same number of volunteers.",
    )
    add(
        "--only",
        type=comparisons,
        default=list(COMPARISONS),
        help=f"Comparisons to run, comma-separated ({','.join(COMPARISONS)}).",
    )
    add("--show-queries", action="store_true", help="Print the SQL of one request of each.")
    add(
        "--profile",
        action="store_true",
        help="Profile 30 API requests (and 30 of the 304) in this process with cProfile and "
        "print the hotspots.",
    )
    return parser.parse_args()


def empty_redis(url):
    """Empty the bench's Redis database: no session or throttle count of an earlier run."""
    import redis

    try:
        redis.Redis.from_url(url).flushdb()
    except redis.RedisError as error:
        sys.exit(f"Redis at {url} cannot be used ({error}); start it, or pass --redis none.")


# The database ----------------------------------------------------------------------------


def seeded_mark(volunteers):
    return (
        f"peerpath bench: {volunteers} synthetic volunteers, {SESSIONS} sessions, "
        f"seeded {date.today()}"
    )


def prepare_database(arguments, environment):
    """Drop, create, migrate and seed the bench database, unless --reuse finds it ready."""
    import psycopg
    from psycopg import sql

    if "bench" not in arguments.database:
        sys.exit(f"Refusing to drop “{arguments.database}”: give a name with “bench” in it.")
    with psycopg.connect(f"{arguments.postgres}/postgres", autocommit=True) as connection:
        row = connection.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [arguments.database],
        ).fetchone()
        ready = row is not None and row[0] == seeded_mark(arguments.volunteers)
        if arguments.reuse and ready:
            print(f"Reusing {arguments.database}: {row[0]}.")
            manage("migrate", "--no-input", environment=environment)
            return
        name = sql.Identifier(arguments.database)
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(name))
    started = time.perf_counter()
    print(f"Created {arguments.database}; migrating and seeding ...", flush=True)
    manage("migrate", "--no-input", environment=environment)
    manage(
        "seed_demo",
        "--volunteers",
        str(arguments.volunteers),
        "--coordinator-email",
        COORDINATOR_EMAIL,
        "--coordinator-password",
        COORDINATOR_PASSWORD,
        environment=environment,
    )
    seed_sessions()
    with psycopg.connect(environment["DATABASE_URL"], autocommit=True) as connection:
        # Fresh tables have no statistics yet; plan every run's queries on the same ones.
        connection.execute("VACUUM ANALYZE")
        connection.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(arguments.database),
                sql.Literal(seeded_mark(arguments.volunteers)),
            )
        )
    print(f"Seeded in {time.perf_counter() - started:.1f} s.")


def seed_sessions():
    import django

    django.setup()
    from django.db import connection

    from bench import sessions_data

    print(
        sessions_data.seed(total=SESSIONS, mine=MY_SESSIONS, volunteer_phone=APP_VOLUNTEER_PHONE)
        + "."
    )
    connection.close()


def volunteer_token():
    """A session token of the demo app volunteer, as a code sign-in would give."""
    import django

    django.setup()
    from django.db import connection

    from bench import sessions_data

    token = sessions_data.session_token(APP_VOLUNTEER_PHONE)
    connection.close()
    return token


# The server ------------------------------------------------------------------------------


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """gunicorn in its own process group, stopped however the bench ends."""

    def __init__(self, *, workers, environment, log):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.command = [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--log-level",
            "warning",
            "--graceful-timeout",
            "10",
        ]
        self.process = subprocess.Popen(
            self.command,
            cwd=PROJECT,
            env=environment,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_until_up(self, seconds=60):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.fail("gunicorn exited while starting")
            try:
                with urllib.request.urlopen(f"{self.base}/health/", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (OSError, urllib.error.HTTPError):
                pass
            time.sleep(0.2)
        self.fail(f"gunicorn did not answer /health/ within {seconds} s")

    def fail(self, message):
        tail = self.log.read_text(errors="replace")[-3000:]
        raise SystemExit(f"{message}. Its log ({self.log}) ends:\n{tail}")

    def stop(self):
        if self.process.poll() is not None:
            return
        self.process.terminate()  # SIGTERM: gunicorn stops its workers gracefully.
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def request(url, *, token=None, body=None, headers=None, answer_headers=False):
    headers = {"Accept": "application/json", **(headers or {})}
    if token:
        headers["X-Session-Token"] = token
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, data=data, headers=headers), timeout=30
        ) as answer:
            parsed = json.loads(answer.read())
            return (parsed, answer.headers) if answer_headers else parsed
    except urllib.error.HTTPError as error:
        if error.code == 304 and answer_headers:
            return None, error.headers
        raise SystemExit(f"{url} answered {error.code}: {error.read()[:2000]!r}") from None


def sign_in(base):
    answer = request(
        f"{base}/_allauth/app/v1/auth/login",
        body={"email": COORDINATOR_EMAIL, "password": COORDINATOR_PASSWORD},
    )
    token = answer.get("meta", {}).get("session_token")
    if not token:
        raise SystemExit(f"Signing in gave no session token: {answer}")
    return token


def same_page(base, comparison, token):
    """Fetch both sides over HTTP; stop loudly unless they answer as they should: the same
    count and results, or for a 304 comparison the list's ETag and then a 304 for it. Returns
    the headers the baseline is requested with."""
    ours, headers = request(base + comparison.ours, token=token, answer_headers=True)
    if len(ours["results"]) != comparison.rows:
        raise SystemExit(
            f"{comparison.ours} holds {len(ours['results'])} rows, not {comparison.rows}."
        )
    if comparison.not_modified:
        tag = headers.get("ETag")
        if not tag:
            raise SystemExit(f"{comparison.ours} answered no ETag.")
        again, _ = request(
            base + comparison.baseline,
            token=token,
            headers={"If-None-Match": tag},
            answer_headers=True,
        )
        if again is not None:
            raise SystemExit(f"{comparison.ours} with If-None-Match: {tag} did not answer 304.")
        print(f"{comparison.name}: the list's ETag {tag} gives a 304 with no body.")
        return {"If-None-Match": tag}
    plain = request(base + comparison.baseline, token=token)
    if ours["count"] != plain["count"]:
        raise SystemExit(f"Counts differ: API {ours['count']}, plain {plain['count']}.")
    # Key order too: both must be the same JSON, not just equal dictionaries.
    if json.dumps(ours["results"]) != json.dumps(plain["results"]):
        for index, (mine, theirs) in enumerate(
            zip(ours["results"], plain["results"], strict=False)
        ):
            if json.dumps(mine) != json.dumps(theirs):
                fields = [name for name in mine if mine.get(name) != theirs.get(name)]
                fields = fields or ["the order of the fields"]
                raise SystemExit(
                    f"{comparison.name}: the pages differ at row {index} (id {mine.get('id')}) "
                    f"in {', '.join(fields)}:\nAPI:   {json.dumps(mine)}\n"
                    f"plain: {json.dumps(theirs)}"
                )
        raise SystemExit(f"{comparison.name}: the pages hold different numbers of results.")
    print(
        f"{comparison.name}: the same page from both: {len(ours['results'])} of "
        f"{ours['count']:,} ({len(json.dumps(ours['results'])):,} bytes of results); next "
        f"{ours['next']} / {plain['next']}."
    )
    return {}


# In this process: query counts, time per request without HTTP, and a profile ---------------


def in_process(comparison, token, *, extra, show_queries, profile):
    """Run both sides in this process through Django's test client: their queries, and the
    wall-clock time, CPU time and garbage collection time of a request, without HTTP."""
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(headers={"Host": "127.0.0.1", "Accept": "application/json"})
    headers = {"X-Session-Token": token}
    collecting = {"since": 0.0, "seconds": 0.0}

    def garbage_collection(phase, info):
        if phase == "start":
            collecting["since"] = time.perf_counter()
        else:
            collecting["seconds"] += time.perf_counter() - collecting["since"]

    gc.callbacks.append(garbage_collection)
    if comparison.not_modified:  # this host's own ETag: the tag covers the list's address
        extra = {"If-None-Match": client.get(comparison.ours, headers=headers)["ETag"]}
    sides = (
        (comparison.labels[0], comparison.ours, headers),
        (comparison.labels[1], comparison.baseline, {**headers, **extra}),
    )
    try:
        for name, path, headers in sides:
            for _ in range(10):
                client.get(path, headers=headers)
            with CaptureQueriesContext(connection) as queries:
                answer = client.get(path, headers=headers)
            if answer.status_code != (304 if "If-None-Match" in headers else 200):
                raise SystemExit(f"{name} answered {answer.status_code} in process.")
            # Read them now: every request starts by emptying the connection's query log.
            captured = [query["sql"] for query in queries.captured_queries]
            if show_queries:
                print(f"{name} queries:")
                for text in captured:
                    print(f"  {text[:300]}")
            times, requests = [], 50
            collecting["seconds"], cpu = 0.0, time.process_time()
            for _ in range(requests):
                started = time.perf_counter()
                client.get(path, headers=headers)
                times.append(time.perf_counter() - started)
            cpu = (time.process_time() - cpu) / requests * 1000
            print(
                f"{name:>5}: {len(captured)} queries per request. In this process, without HTTP: "
                f"{statistics.median(times) * 1000:.1f} ms per request (median of {requests}), "
                f"{cpu:.1f} ms of CPU, {collecting['seconds'] / requests * 1000:.1f} ms of it "
                "collecting garbage"
            )
    finally:
        gc.callbacks.remove(garbage_collection)
    # The 304 is the API's side as much as the full answer is: both are profiled then.
    for name, path, headers in sides[: 2 if comparison.not_modified else 1] if profile else ():
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(30):
            client.get(path, headers=headers)
        profiler.disable()
        print(f"\nProfile of 30 requests ({name}), by cumulative time:")
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(45)
        print("By own time:")
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(25)
    connection.close()


# wrk -------------------------------------------------------------------------------------


@dataclass
class Run:
    requests_per_second: float
    average_ms: float
    p50_ms: float
    p99_ms: float
    requests: int
    cpu_ms: float | None = None  # gunicorn's CPU time per request, when /proc tells it


UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def milliseconds(text):
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not found:
        raise ValueError(f"not a wrk duration: {text}")
    return float(found[1]) * UNITS_MS[found[2]]


def wrk(url, token, *, seconds, arguments, headers=None):
    command = [
        "wrk",
        f"--threads={arguments.threads}",
        f"--connections={arguments.connections}",
        f"--duration={seconds}s",
        "--timeout=10s",
        "--latency",
        "--header=Accept: application/json",
        f"--header=X-Session-Token: {token}",
        *(f"--header={name}: {value}" for name, value in (headers or {}).items()),
        url,
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    problems = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: .*", output)
    if problems or errors:
        raise SystemExit(f"wrk saw failures against {url}:\n{output}")
    try:
        latency = re.search(r"^\s+Latency\s+(\S+)", output, re.MULTILINE)
        return Run(
            requests_per_second=float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1]),
            average_ms=milliseconds(latency[1]),
            p50_ms=milliseconds(re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)[1]),
            p99_ms=milliseconds(re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)[1]),
            requests=int(re.search(r"(\d+) requests in", output)[1]),
        )
    except (TypeError, ValueError) as error:
        raise SystemExit(f"Could not read wrk's output ({error}):\n{output}") from None


def server_cpu_seconds(master):
    """CPU seconds (user and system) used so far by gunicorn and its workers, from Linux's
    /proc; None elsewhere. Unlike requests per second it barely moves when something else
    keeps the machine busy, so it tells the two views apart on a noisy machine too."""
    try:
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue  # the process ended meanwhile
            if int(entry.name) == master or int(fields[1]) == master:
                total += int(fields[11]) + int(fields[12])
        return total / ticks
    except (OSError, ValueError, IndexError):
        return None


def timed_wrk(url, token, *, server, arguments, headers):
    before = server_cpu_seconds(server.process.pid)
    run = wrk(url, token, seconds=arguments.duration, arguments=arguments, headers=headers)
    after = server_cpu_seconds(server.process.pid)
    if before is not None and after is not None and run.requests:
        run.cpu_ms = (after - before) * 1000 / run.requests
    return run


def measure(base, comparison, token, extra, arguments, server):
    ours, baseline = comparison.labels
    endpoints = {ours: (base + comparison.ours, {}), baseline: (base + comparison.baseline, extra)}
    print(
        f"\nwrk: {arguments.threads} threads, {arguments.connections} connections; warm-up "
        f"{arguments.warmup} s each, then {arguments.rounds} rounds of {arguments.duration} s "
        "each, alternating.",
        flush=True,
    )
    for url, headers in endpoints.values():
        wrk(url, token, seconds=arguments.warmup, arguments=arguments, headers=headers)
    busy = others_busy()
    if busy is not None:
        print(f"Before measuring, with gunicorn idle, {busy:.0%} of the CPUs' time is in use.")
        if busy > 0.15:
            print(
                "Warning: something else is keeping the machine busy, so requests per second "
                "will be low and noisy; CPU ms per request much less so."
            )
    runs = {name: [] for name in endpoints}
    print(
        f"\n{'round':>5} {'endpoint':>8} {'req/s':>8} {'avg ms':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'CPU ms/req':>10}"
    )
    for number in range(1, arguments.rounds + 1):
        for name, (url, headers) in endpoints.items():
            run = timed_wrk(url, token, server=server, arguments=arguments, headers=headers)
            if not run.requests:
                raise SystemExit(
                    f"{name} finished no request in {arguments.duration} s: the machine is "
                    "too busy to measure; run it again with --duration longer."
                )
            runs[name].append(run)
            cpu = f"{run.cpu_ms:>10.1f}" if run.cpu_ms is not None else f"{'?':>10}"
            print(
                f"{number:>5} {name:>8} {run.requests_per_second:>8.1f} {run.average_ms:>8.1f} "
                f"{run.p50_ms:>8.1f} {run.p99_ms:>8.1f} {cpu}",
                flush=True,
            )
    return runs


def summarise(comparison, runs, arguments):
    medians, best, cpu = {}, {}, {}
    print(f"\nOver {arguments.rounds} rounds ({arguments.workers} gunicorn sync workers), medians:")
    for name, mine in runs.items():
        medians[name] = statistics.median(run.requests_per_second for run in mine)
        best[name] = max(run.requests_per_second for run in mine)
        cpus = [run.cpu_ms for run in mine if run.cpu_ms is not None]
        cpu[name] = statistics.median(cpus) if cpus else None
        print(
            f"  {name:>5}: {medians[name]:7.1f} req/s (best {best[name]:.1f}); latency avg "
            f"{statistics.median(run.average_ms for run in mine):.1f} ms, p50 "
            f"{statistics.median(run.p50_ms for run in mine):.1f} ms, p99 "
            f"{statistics.median(run.p99_ms for run in mine):.1f} ms"
            + (f"; {cpu[name]:.1f} CPU ms per request" if cpu[name] is not None else "")
        )
    ours, baseline = comparison.labels
    first, second = (baseline, ours) if comparison.not_modified else (ours, baseline)
    ratio = medians[first] / medians[second]
    verdict = "meets" if ratio >= comparison.target else "misses"
    print(
        f"  {first} / {second}, requests per second: {ratio:.2f} ({verdict} the target of "
        f"{comparison.target}); best against best {best[first] / best[second]:.2f}"
    )
    if cpu[ours] and cpu[baseline]:
        print(
            f"  gunicorn CPU time per request, {ours} / {baseline}: {cpu[ours] / cpu[baseline]:.2f}"
        )
    return f"{comparison.name}, {first} / {second}: {ratio:.2f} ({verdict} {comparison.target})"


def main():
    arguments = options()
    if shutil.which("wrk") is None:
        sys.exit(WRK_MISSING)
    environment = {
        **{key: value for key, value in os.environ.items() if key != "REDIS_URL"},
        "DJANGO_SETTINGS_MODULE": "bench.api_settings",
        "PYTHONPATH": str(PROJECT),
        "DATABASE_URL": f"{arguments.postgres}/{arguments.database}",
        "DATABASE_CONN_MAX_AGE": "60",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        "REQUIRE_COORDINATOR_MFA": "0",
        # Never throttled, yet counted over a second, as DRF keeps each request's time for the
        # throttle's period: a minute of a benchmark's thousands of requests would make that
        # log far longer than any client's, and the throttle the main cost of a 304.
        "API_USER_RATE": "1000000/second",
        "LOG_LEVEL": "WARNING",
    }
    if arguments.redis != "none":
        environment["REDIS_URL"] = arguments.redis
        empty_redis(arguments.redis)
    # The in-process part (query counts) runs with the same settings as the server.
    os.environ.update(environment)
    sys.path.insert(0, str(PROJECT))
    # Ctrl-C (even when started in the background, where SIGINT starts out ignored) and a plain
    # `kill` both unwind through `finally`, which stops gunicorn.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("Stopped by SIGTERM."))

    prepare_database(arguments, environment)
    with tempfile.TemporaryDirectory(prefix="peerpath-bench-api-") as directory:
        server = Server(
            workers=arguments.workers,
            environment=environment,
            log=Path(directory) / "gunicorn.log",
        )
        try:
            server.wait_until_up()
            print(
                f"gunicorn on {server.base}: {arguments.workers} sync workers, DEBUG off; "
                + (
                    f"cache and sessions in Redis ({arguments.redis})."
                    if arguments.redis != "none"
                    else "sessions in the database, a cache in each process."
                )
            )
            tokens = {"coordinator": sign_in(server.base), "volunteer": volunteer_token()}
            verdicts = []
            for name in arguments.only:
                comparison = COMPARISONS[name]
                token = tokens[comparison.caller]
                print(f"\n== {name}: {comparison.ours} as the {comparison.caller}")
                extra = same_page(server.base, comparison, token)
                in_process(
                    comparison,
                    token,
                    extra=extra,
                    show_queries=arguments.show_queries,
                    profile=arguments.profile,
                )
                runs = measure(server.base, comparison, token, extra, arguments, server)
                verdicts.append(summarise(comparison, runs, arguments))
            print("\nRatios of requests per second, medians:")
            for verdict in verdicts:
                print(f"  {verdict}")
        finally:
            server.stop()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("Interrupted; gunicorn is stopped.")
