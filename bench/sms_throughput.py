"""How many texts a second PeerPath's queue delivers through the real Twilio SDK.

Run from anywhere: .venv/bin/python bench/sms_throughput.py [--messages 10000] [--workers 2]
                   [--only sqlite|postgres] [--batch 20]

For each setup, SQLite with django-q2's ORM broker and PostgreSQL with the Redis broker, it
makes a fresh database, puts N texts in the outbox with `send_sms` (one transaction, so each
delivery is enqueued on commit as in production), starts `manage.py qcluster` with the given
number of worker processes, and lets them deliver to a Twilio-compatible stub
(bench/twilio_stub.py) served by this process. It prints texts per second (first to last
text the stub accepted), duplicates (texts the stub accepted more than once) and losses
(texts never accepted). The rate limit is raised out of the way but still consulted for
every text; quiet hours are off; the every-minute sweep is postponed so only the deliveries
enqueued on commit are measured.
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bench.commands import manage  # noqa: E402
from bench.twilio_stub import TwilioStub  # noqa: E402

POSTGRES = "postgres://postgres@127.0.0.1:5432"
DATABASE = "peerpath_bench_sms"
REDIS = "redis://127.0.0.1:6379/1"

# Runs inside Django, in a subprocess: fill the outbox, or count what happened.
ENQUEUE = """
import sys
from django.db import transaction
from django_q.models import Schedule
from django.utils import timezone
from messaging.services import send_sms

count = int(sys.argv[1])
Schedule.objects.update(next_run=timezone.now() + timezone.timedelta(hours=1))
with transaction.atomic():
    for index in range(count):
        send_sms(f"+4479110{index:05d}", f"Bench text {index}", topic="bench")
"""
COUNT = """
from django.db.models import Count
from messaging.models import Message

for row in Message.objects.values("status").annotate(n=Count("pk")).order_by("status"):
    print(row["status"], row["n"])
"""


def options():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    parser.add_argument(
        "--batch", type=int, default=20, help="SMS_DELIVERY_BATCH: texts per delivery task"
    )
    parser.add_argument("--timeout", type=float, default=600, help="seconds per setup")
    return parser.parse_args()


def django(code, *arguments, environment):
    finished = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + code, *arguments],
        cwd=PROJECT,
        env=environment | {"DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
    )
    if finished.returncode != 0:
        sys.exit(f"Django subprocess failed:\n{finished.stderr}")
    return finished.stdout


def fresh_postgres():
    import psycopg
    from psycopg import sql

    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as connection:
        name = sql.Identifier(DATABASE)
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(name))
    import redis

    redis.Redis.from_url(REDIS).flushdb()
    return {"DATABASE_URL": f"{POSTGRES}/{DATABASE}", "REDIS_URL": REDIS}


def setups(arguments, folder):
    if arguments.only in (None, "sqlite"):
        yield "SQLite, ORM broker", {"DATABASE_URL": f"sqlite:///{folder}/bench-sms.sqlite3"}
    if arguments.only in (None, "postgres"):
        yield "PostgreSQL, Redis broker", None  # made fresh when its turn comes


def run(label, database, arguments, stub):
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    environment |= database | stub.environ()
    environment |= {
        "DEBUG": "1",
        "SMS_RATE_PER_SECOND": "1000000",
        "SMS_QUIET_HOURS": "",
        "Q_WORKERS": str(arguments.workers),
        "SMS_DELIVERY_BATCH": str(arguments.batch),
        "LOG_LEVEL": "WARNING",
    }
    stub.reset()
    print(
        f"\n== {label}: {arguments.messages:,} texts, {arguments.workers} workers, "
        f"up to {arguments.batch} texts a task",
        flush=True,
    )
    manage("migrate", "--no-input", environment=environment)
    started = time.perf_counter()
    django(ENQUEUE, str(arguments.messages), environment=environment)
    print(f"outbox filled in {time.perf_counter() - started:.1f} s", flush=True)

    cluster = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=PROJECT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + arguments.timeout
        last_count, last_change = 0, time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.5)
            count = len(stub.requests_of("create"))
            if count >= arguments.messages:
                break
            if count != last_count:
                last_count, last_change = count, time.monotonic()
            elif time.monotonic() - last_change > 30:
                print("no progress for 30 s; stopping", flush=True)
                break
            if cluster.poll() is not None:
                sys.exit(f"qcluster stopped:\n{cluster.stderr.read()}")
        time.sleep(2)  # anything still in flight, and any second send, lands now
    finally:
        os.killpg(cluster.pid, signal.SIGTERM)
        try:
            cluster.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(cluster.pid, signal.SIGKILL)

    accepted = stub.messages
    arrivals = [request.arrived_at for request in stub.requests_of("create")]
    per_body = Counter(message["body"] for message in accepted)
    duplicates = sum(count - 1 for count in per_body.values())
    losses = arguments.messages - len(per_body)
    seconds = max(arrivals) - min(arrivals) if len(arrivals) > 1 else float("nan")
    statuses = django(COUNT, environment=environment).strip().replace("\n", ", ")
    rate = (len(arrivals) - 1) / seconds if seconds else float("nan")
    print(f"delivered {len(per_body):,} in {seconds:.1f} s: {rate:,.0f} texts/s")
    print(f"duplicates {duplicates}, losses {losses}; rows by status: {statuses}", flush=True)
    return rate, duplicates, losses


def main():
    arguments = options()
    results = {}
    with tempfile.TemporaryDirectory() as folder, TwilioStub() as stub:
        for label, database in setups(arguments, folder):
            results[label] = run(label, database or fresh_postgres(), arguments, stub)
    print("\n== summary")
    for label, (rate, duplicates, losses) in results.items():
        print(f"{label:28} {rate:8,.0f} texts/s   duplicates {duplicates}   losses {losses}")
    if any(duplicates or losses for _, duplicates, losses in results.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
