"""How fast `seed_demo` builds synthetic sets, on a fresh SQLite database for each size.

Run from anywhere: .venv/bin/python bench/seed_demo.py [--sizes 1000,10000,100000]

For each size N the database is migrated once (not timed) and copied fresh, then
`seed_demo --volunteers N --peers M` runs in its own process and is timed from start to end,
process start-up and the demo set included. A second run with the same N is timed too: it must
find everything in place and add nothing.
"""

import argparse
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bench.commands import manage, sizes  # noqa: E402

DEFAULT_SIZES = (1_000, 10_000, 100_000)


def manage_on(database, *arguments):
    """Run manage.py against `database`, without system checks (they are not measured)."""
    environment = {**os.environ, "DATABASE_URL": f"sqlite:///{database}"}
    return manage(*arguments, "--skip-checks", environment=environment)


def row_count(database):
    with sqlite3.connect(database) as connection:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return sum(
            connection.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0] for table in tables
        )


def timed(*arguments, database):
    started = time.perf_counter()
    manage_on(database, *arguments)
    return time.perf_counter() - started


def measure(*, volunteers, peers, template, workdir):
    database = workdir / f"seed_{volunteers}.sqlite3"
    shutil.copy(template, database)
    rows_before = row_count(database)
    arguments = ("seed_demo", "--volunteers", str(volunteers), "--peers", str(peers))
    seconds = timed(*arguments, database=database)
    rows = row_count(database) - rows_before
    again = timed(*arguments, database=database)
    if row_count(database) - rows_before != rows:
        sys.exit(f"Running seed_demo twice with {volunteers:,} volunteers added rows.")
    database.unlink()
    return seconds, rows, again


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=sizes,
        default=list(DEFAULT_SIZES),
        help="Volunteers per run, comma-separated (default 1000,10000,100000).",
    )
    parser.add_argument(
        "--peers-per-volunteer",
        type=float,
        default=0.5,
        help="Synthetic peers per synthetic volunteer (default 0.5).",
    )
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="peerpath-bench-") as directory:
        workdir = Path(directory)
        template = workdir / "migrated.sqlite3"
        print(f"Migrating a fresh SQLite database in {workdir} ...", flush=True)
        manage_on(template, "migrate", "--no-input")
        print()
        print(f"{'volunteers':>10} {'peers':>8} {'rows':>10} {'seconds':>8} {'rows/s':>8} "
              f"{'volunteers/s':>12} {'re-run s':>8}")  # fmt: skip
        for volunteers in options.sizes:
            peers = round(volunteers * options.peers_per_volunteer)
            seconds, rows, again = measure(
                volunteers=volunteers, peers=peers, template=template, workdir=workdir
            )
            print(
                f"{volunteers:>10,} {peers:>8,} {rows:>10,} {seconds:>8.1f} "
                f"{rows / seconds:>8,.0f} {volunteers / seconds:>12,.0f} {again:>8.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
