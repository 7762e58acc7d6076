"""How fast the matching engine suggests volunteers, and bulk-assigns the waiting list.

Run from anywhere: .venv/bin/python bench/matching.py [--sizes 1000,10000,100000]

Against PostgreSQL (by default postgres://postgres@127.0.0.1:5432, trust auth; --postgres).
For each size N it (re)creates the database peerpath_bench_matching_N, migrates it, seeds the
demo set plus N synthetic volunteers and 200 synthetic peers with `seed_demo`, and runs
VACUUM ANALYZE; --reuse keeps a database seeded today with the same numbers. Then, in a
process of its own, it calls `suggest(peer)` (limit 10) for the first 40 waiting peers, three
rounds after a warm-up, and prints the median and 90th percentile time and the numbers of
queries seen: they depend on what a peer has recorded (languages, focuses, preferred times),
never on N.

Bulk assignment runs on peerpath_bench_matching_bulk: `seed_demo --volunteers 3200 --peers
7000`, then, so that the sizes are exact, every volunteer's capacity is set to 2, the first
2,000 volunteers who may be matched today and have no match stay active (the others who may
be matched are paused), and the first 5,000 waiting peers without a match stay waiting (the
others go back to referred). `propose_for_waiting_list(dry_run=True)` runs three times and
the medians of its loading, scoring and solving times are printed. --apply also times what a
coordinator does end to end, in a transaction that is rolled back: a dry run, then applying
its plan (`propose_for_waiting_list(plan=...)`, which loads the records again, reuses the dry
run's solution from the cache when the solver's input is the same, checks the plan and writes
the proposals in bulk).
"""

import argparse
import json
import os
import secrets
import statistics
import sys
import time
from datetime import date
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bench.commands import child_result, manage, say_how_busy, sizes  # noqa: E402

DEFAULT_SIZES = (1_000, 10_000, 100_000)
SUGGEST_PEERS = 40
SUGGEST_ROUNDS = 3
SYNTHETIC_PEERS = 200
BULK_SEED_VOLUNTEERS = 3_200
BULK_SEED_PEERS = 7_000
BULK_VOLUNTEERS = 2_000
BULK_PEERS = 5_000
BULK_CAPACITY = 2
BULK_RUNS = 3
AIMS_MS = {10_000: 100, 100_000: 500}
BULK_AIM_SECONDS = 5
APPLY_AIM_SECONDS = 10


def options():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--sizes", type=sizes, default=list(DEFAULT_SIZES), help="Volunteers per database.")
    add(
        "--postgres",
        default="postgres://postgres@127.0.0.1:5432",
        help="PostgreSQL server, as a URL without a database.",
    )
    add("--reuse", action="store_true", help="Keep databases seeded today with the same sizes.")
    add("--skip-bulk", action="store_true", help="Measure suggest() only.")
    add("--apply", action="store_true", help="Also time writing the bulk proposals.")
    add("--child", choices=["suggest", "bulk", "adjust"], help=argparse.SUPPRESS)
    return parser.parse_args()


# Databases ---------------------------------------------------------------------------------


def environment(arguments, database):
    return {
        **{key: value for key, value in os.environ.items() if key != "REDIS_URL"},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PYTHONPATH": str(PROJECT),
        "DATABASE_URL": f"{arguments.postgres}/{database}",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
    }


def prepare(arguments, *, database, volunteers, peers, adjust=None):
    """Drop, create, migrate and seed `database`, unless --reuse finds it seeded today."""
    import psycopg
    from psycopg import sql

    mark = f"peerpath bench: {volunteers} volunteers, {peers} peers, seeded {date.today()}"
    env = environment(arguments, database)
    with psycopg.connect(f"{arguments.postgres}/postgres", autocommit=True) as connection:
        row = connection.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [database],
        ).fetchone()
        if arguments.reuse and row is not None and row[0] == mark:
            print(f"Reusing {database}: {row[0]}.", flush=True)
            manage("migrate", "--no-input", environment=env)
            return env
        name = sql.Identifier(database)
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(name))
    started = time.perf_counter()
    print(f"Created {database}; migrating and seeding {volunteers:,} volunteers ...", flush=True)
    manage("migrate", "--no-input", environment=env)
    manage(
        "seed_demo",
        "--volunteers",
        str(volunteers),
        "--peers",
        str(peers),
        "--coordinator-password",
        secrets.token_urlsafe(16),
        environment=env,
    )
    if adjust:
        print(run_child(adjust, env=env)["said"], flush=True)
    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
        connection.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(database), sql.Literal(mark)
            )
        )
    print(f"Seeded in {time.perf_counter() - started:.1f} s.", flush=True)
    return env


def run_child(kind, *, env, extra=()):
    return child_result(__file__, kind, env=env, extra=extra)


# In the child process ----------------------------------------------------------------------


def child(arguments):
    # Run as a script, this file's folder comes first on the path, and this file is called
    # `matching` too: put the project first instead, so `matching` is the app.
    here = Path(__file__).resolve().parent
    sys.path[:] = [str(PROJECT), *(p for p in sys.path if Path(p or ".").resolve() != here)]
    import django

    django.setup()
    if arguments.child == "suggest":
        result = measure_suggest()
    elif arguments.child == "bulk":
        result = measure_bulk(apply=arguments.apply)
    else:
        result = {"said": adjust_bulk_data()}
    print(json.dumps(result))


def measure_suggest():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from matching.engine import suggest
    from peers.models import Peer
    from volunteers.models import Volunteer

    peers = list(Peer.objects.filter(status=Peer.Status.WAITING).order_by("id")[:SUGGEST_PEERS])
    for peer in peers[:5]:
        suggest(peer)
    times, queries, found = [], set(), []
    for _ in range(SUGGEST_ROUNDS):
        for peer in peers:
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                suggestions = suggest(peer)
                times.append(time.perf_counter() - started)
            queries.add(len(captured))
            found.append(len(suggestions))
    times.sort()
    return {
        "volunteers": Volunteer.objects.count(),
        "matchable": Volunteer.objects.matchable().count(),
        "calls": len(times),
        "median_ms": statistics.median(times) * 1000,
        "p90_ms": times[int(len(times) * 0.9)] * 1000,
        "max_ms": times[-1] * 1000,
        "queries": sorted(queries),
        "found": statistics.median(found),
    }


def adjust_bulk_data():
    """Exact sizes for bulk assignment: see the module's docstring."""
    from django.db import transaction
    from django.db.models import Exists, OuterRef
    from django.utils import timezone

    from matching.engine import trained_and_present
    from matching.models import Match
    from peers.models import Peer
    from volunteers.models import Volunteer

    today = timezone.localdate()
    with transaction.atomic():
        Volunteer.objects.update(max_active_matches=BULK_CAPACITY)
        matched = Match.objects.open().filter(volunteer=OuterRef("pk"))
        free = trained_and_present(Volunteer.objects.all(), on=today).exclude(Exists(matched))
        keep = list(free.order_by("id").values_list("id", flat=True)[:BULK_VOLUNTEERS])
        paused = (
            trained_and_present(Volunteer.objects.all(), on=today)
            .exclude(id__in=keep)
            .update(status=Volunteer.Status.PAUSED)
        )
        has_match = Match.objects.open().filter(peer=OuterRef("pk"))
        waiting = Peer.objects.filter(status=Peer.Status.WAITING).exclude(Exists(has_match))
        stay = list(waiting.order_by("id").values_list("id", flat=True)[:BULK_PEERS])
        referred = waiting.exclude(id__in=stay).update(status=Peer.Status.REFERRED)
    return (
        f"Bulk data: {len(keep):,} volunteers free to match with capacity {BULK_CAPACITY} "
        f"({paused:,} others paused), {len(stay):,} peers waiting ({referred:,} others referred)."
    )


def measure_bulk(*, apply):
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from matching.assignment import propose_for_waiting_list

    runs, queries = [], set()
    for _ in range(BULK_RUNS):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            result = propose_for_waiting_list(dry_run=True)
            wall = time.perf_counter() - started
        queries.add(len(captured))
        runs.append((result, wall))
    result = runs[0][0]
    measured = {
        "waiting": result.waiting,
        "volunteers": result.volunteers,
        "slots": result.slots,
        "proposals": len(result.proposals),
        "total_score": result.total_score,
        "same_every_run": len(
            {tuple((p.peer.pk, p.volunteer.pk) for p in r.proposals) for r, _ in runs}
        )
        == 1,
        "load_s": statistics.median(r.timings.load for r, _ in runs),
        "score_s": statistics.median(r.timings.score for r, _ in runs),
        "solve_s": statistics.median(r.timings.solve for r, _ in runs),
        "wall_s": statistics.median(wall for _, wall in runs),
        "queries": sorted(queries),
    }
    if apply:
        with transaction.atomic():
            started = time.perf_counter()
            dry = propose_for_waiting_list(dry_run=True)
            reviewed = time.perf_counter()
            applied = propose_for_waiting_list(plan=dry.plan)
            finished = time.perf_counter()
            measured["apply_dry_s"] = reviewed - started
            measured["apply_wall_s"] = finished - reviewed
            measured["apply_write_s"] = applied.timings.write
            measured["apply_matches"] = len(applied.matches)
            measured["apply_reused"] = applied.reused
            measured["apply_total_s"] = finished - started
            transaction.set_rollback(True)
    return measured


# Reporting ---------------------------------------------------------------------------------


def main():
    arguments = options()
    if arguments.child:
        child(arguments)
        return
    say_how_busy()
    results = {}
    for volunteers in arguments.sizes:
        env = prepare(
            arguments,
            database=f"peerpath_bench_matching_{volunteers}",
            volunteers=volunteers,
            peers=SYNTHETIC_PEERS,
        )
        results[volunteers] = run_child("suggest", env=env)
    bulk = None
    if not arguments.skip_bulk:
        env = prepare(
            arguments,
            database="peerpath_bench_matching_bulk",
            volunteers=BULK_SEED_VOLUNTEERS,
            peers=BULK_SEED_PEERS,
            adjust="adjust",
        )
        bulk = run_child("bulk", env=env, extra=["--apply"] if arguments.apply else [])

    print()
    print(f"suggest(peer), limit 10: {SUGGEST_ROUNDS} rounds over {SUGGEST_PEERS} waiting peers")
    print(
        f"{'volunteers':>11} {'matchable':>10} {'median ms':>10} {'p90 ms':>8} {'max ms':>8} "
        f"{'queries':>8}  aim"
    )
    for size, found in results.items():
        aim = AIMS_MS.get(size)
        verdict = f"< {aim} ms: {'met' if found['median_ms'] < aim else 'MISSED'}" if aim else ""
        queries = "/".join(str(count) for count in found["queries"])
        print(
            f"{found['volunteers']:>11,} {found['matchable']:>10,} {found['median_ms']:>10.1f} "
            f"{found['p90_ms']:>8.1f} {found['max_ms']:>8.1f} {queries:>8}  {verdict}"
        )
    if bulk:
        print()
        print(
            f"Bulk assignment (dry run, median of {BULK_RUNS}): {bulk['waiting']:,} waiting "
            f"peers, {bulk['volunteers']:,} volunteers with {bulk['slots']:,} places; "
            f"{bulk['proposals']:,} proposals, total score {bulk['total_score']:,.1f}, "
            f"{'the same' if bulk['same_every_run'] else 'DIFFERENT'} on every run."
        )
        print(
            f"  loading {bulk['load_s']:.2f} s, scoring {bulk['score_s']:.2f} s, solving "
            f"{bulk['solve_s']:.2f} s; end to end {bulk['wall_s']:.2f} s "
            f"(aim < {BULK_AIM_SECONDS} s: "
            f"{'met' if bulk['wall_s'] < BULK_AIM_SECONDS else 'MISSED'}); "
            f"{'/'.join(str(count) for count in bulk['queries'])} queries."
        )
        if "apply_wall_s" in bulk:
            print(
                f"  A dry run, then applying its plan (rolled back): "
                f"{bulk['apply_dry_s']:.2f} s + {bulk['apply_wall_s']:.2f} s = "
                f"{bulk['apply_total_s']:.2f} s end to end (aim < {APPLY_AIM_SECONDS} s: "
                f"{'met' if bulk['apply_total_s'] < APPLY_AIM_SECONDS else 'MISSED'}); "
                f"writing the {bulk['apply_matches']:,} proposals took "
                f"{bulk['apply_write_s']:.2f} s; the dry run's solution was "
                f"{'reused' if bulk.get('apply_reused') else 'not reused: solved again'}."
            )


if __name__ == "__main__":
    main()
