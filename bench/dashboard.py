"""How long the coordinator's pages take to make, and the queries each makes, on a large office.

Run from anywhere: .venv/bin/python bench/dashboard.py [--runs 15] [--reuse]

Against PostgreSQL (by default postgres://postgres@127.0.0.1:5432, trust auth; --postgres), in
the database peerpath_bench_dashboard (--database; a name without "bench" is refused, since it
is dropped and made again). It migrates it, seeds the demo set plus 10,000 synthetic
volunteers (their training, some of it running out within 30 days, availability, languages
and focuses) and synthetic peers with `seed_demo`, then, in a process of its own, with COPY
and bulk_create (see `seed`):

- a mobile number and consent for every volunteer without one;
- exactly 5,000 peers on the waiting list (the other waiting peers go back to referred), and
  PROPOSALS more waiting with a proposal awaiting approval;
- ACTIVE_MATCHES active matches of matched peers, one for each of as many volunteers who may
  be matched, and BUSY_MATCHES of them for the busy volunteer (capacity raised to fit), and
  ENDED_MATCHES ended matches over every volunteer, BUSY_ENDED of them the busy one's;
- 100,000 sessions: those of the next three weeks, each active match meeting every fortnight
  (about 95 a day: the Today page lists about 800), confirmed, declined, at risk or awaiting
  their reminder's answer, then the rest spread over the last three years (completed, no
  shows, cancelled), one in BUSY_SHARE of them the busy volunteer's;
- each past session's reminder, delivered, and three in four answered YES; every reminder of
  the next day; INBOX replies needing a person (some from unknown numbers) for the inbox;
- follow-ups: FOLLOW_UPS handled and OPEN_FOLLOW_UPS open; twelve weeks of wellbeing answers
  of the busy volunteer.

Then VACUUM ANALYZE; --reuse keeps a database seeded today and only migrates it. Last, in
another process, Django's test client, signed in as the coordinator, asks each page WARMUP
times and then --runs times, and it prints the median and 90th percentile of the server's
time (the whole request through the middleware, without HTTP), the time PostgreSQL spent
in the page's queries, and their count. --show-queries prints each page's queries with their
times, --explain the EXPLAIN ANALYZE of each page's slowest query, --profile PAGE a cProfile
of that page.
"""

import argparse
import json
import os
import secrets
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bench.commands import child_result, manage, say_how_busy  # noqa: E402

LONDON = ZoneInfo("Europe/London")
VOLUNTEERS = 10_000
SYNTHETIC_PEERS = 6_800  # three in four are drawn waiting: enough for WAITING_PEERS
WAITING_PEERS = 5_000
PROPOSALS = 40
SESSIONS = 100_000
ACTIVE_MATCHES = 1_400
BUSY_MATCHES = 8
ENDED_MATCHES = 4_000
BUSY_ENDED = 12
BUSY_SHARE = 50
PAST_DAYS = 3 * 365
AHEAD_DAYS = 21
SESSION_EVERY_DAYS = 14
SLOTS = [(hour, minute) for hour in range(9, 20) for minute in (0, 30)]  # 09:00 to 19:30
PLACES = ["Coatbridge library", "Airdrie Community Centre", "Wishaw Sports Centre"]
INBOX = 150
FOLLOW_UPS = 3_000
OPEN_FOLLOW_UPS = 120
WARMUP = 3
AIM_MS = {"today": 300, "waiting": 300, "waiting, later page": 300}
LATER_PAGE = 100
BATCH = 5_000


def options():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add(
        "--postgres",
        default="postgres://postgres@127.0.0.1:5432",
        help="PostgreSQL server, as a URL without a database.",
    )
    add("--database", default="peerpath_bench_dashboard", help="Dropped and made again.")
    add("--reuse", action="store_true", help="Keep a database seeded today.")
    add("--runs", type=int, default=15, help="Measured requests of each page.")
    add("--show-queries", action="store_true", help="Print each page's queries.")
    add("--explain", action="store_true", help="EXPLAIN ANALYZE each page's slowest query.")
    add("--profile", metavar="PAGE", help="Print a cProfile of one page (e.g. today).")
    add("--child", choices=["seed", "measure"], help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if "bench" not in arguments.database:
        parser.error(f"“{arguments.database}” is dropped and made again: use a name with bench.")
    if arguments.runs < 1:
        parser.error("Give --runs of at least 1.")
    return arguments


# Databases ---------------------------------------------------------------------------------


def environment(arguments):
    return {
        **{key: value for key, value in os.environ.items() if key != "REDIS_URL"},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PYTHONPATH": str(PROJECT),
        "DATABASE_URL": f"{arguments.postgres}/{arguments.database}",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "REQUIRE_COORDINATOR_MFA": "0",
        "LOG_LEVEL": "WARNING",
        "SMS_BACKEND": "locmem",
    }


def prepare(arguments, env):
    """Drop, create, migrate and seed the database, unless --reuse finds it seeded today."""
    import psycopg
    from psycopg import sql

    mark = f"peerpath bench: dashboard, {SESSIONS} sessions, seeded {date.today()}"
    with psycopg.connect(f"{arguments.postgres}/postgres", autocommit=True) as connection:
        row = connection.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [arguments.database],
        ).fetchone()
        if arguments.reuse and row is not None and row[0] == mark:
            print(f"Reusing {arguments.database}: {row[0]}.", flush=True)
            manage("migrate", "--no-input", environment=env)
            return
        name = sql.Identifier(arguments.database)
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(name))
    started = time.perf_counter()
    print(f"Created {arguments.database}; migrating and seeding ...", flush=True)
    manage("migrate", "--no-input", environment=env)
    migrated = time.perf_counter()
    manage(
        "seed_demo",
        "--volunteers",
        str(VOLUNTEERS),
        "--peers",
        str(SYNTHETIC_PEERS),
        "--coordinator-password",
        secrets.token_urlsafe(16),
        environment=env,
    )
    demo = time.perf_counter()
    said = run_child("seed", env=env)["said"]
    seeded = time.perf_counter()
    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
        connection.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(arguments.database), sql.Literal(mark)
            )
        )
    finished = time.perf_counter()
    print(said, flush=True)
    print(
        f"Migrated in {migrated - started:.1f} s, seed_demo {demo - migrated:.1f} s, the rest "
        f"{seeded - demo:.1f} s, VACUUM ANALYZE {finished - seeded:.1f} s: "
        f"{finished - started:.1f} s in all.",
        flush=True,
    )


def run_child(kind, *, env, extra=()):
    return child_result(__file__, kind, env=env, extra=extra, show_output=kind == "measure")


# In the child process ----------------------------------------------------------------------


def child(arguments):
    # Run as a script, this file's folder comes first on the path, and this file is called
    # `dashboard` too: put the project first instead, so `dashboard` is the app.
    here = Path(__file__).resolve().parent
    sys.path[:] = [str(PROJECT), *(p for p in sys.path if Path(p or ".").resolve() != here)]
    import django

    django.setup()
    result = {"said": seed()} if arguments.child == "seed" else measure(arguments)
    print(json.dumps(result))


class Ids:
    """Primary keys taken from a table's sequence in one statement, so rows written with COPY
    can refer to each other."""

    def __init__(self, model, count):
        from django.db import connection

        table = model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                "nextval(pg_get_serial_sequence(%s, 'id')) + %s - 1)",
                [table, table, count],
            )
            last = cursor.fetchone()[0]
        self.next = last - count + 1
        self.last = last

    def take(self):
        if self.next > self.last:
            raise RuntimeError("More rows than ids reserved.")
        taken, self.next = self.next, self.next + 1
        return taken


def copy_rows(model, rows):
    """Write `rows` (dicts by attribute name, each with its id) with COPY: every other field
    gets its default, as bulk_create would give it. Returns how many were written."""
    from django.db import connection
    from django.db.models import JSONField
    from psycopg.types.json import Jsonb

    fields = [field for field in model._meta.concrete_fields]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    now = datetime.now(tz=LONDON)
    defaults = {}
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            defaults[field.attname] = now
        else:
            defaults[field.attname] = field.get_default()
    json_fields = {field.attname for field in fields if isinstance(field, JSONField)}
    connection.ensure_connection()
    written = 0
    with connection.connection.cursor() as cursor:
        statement = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
        with cursor.copy(statement) as copy:
            for row in rows:
                values = []
                for field in fields:
                    value = row.get(field.attname, defaults[field.attname])
                    if field.attname in json_fields:
                        value = Jsonb(value)
                    values.append(value)
                copy.write_row(values)
                written += 1
    return written


def local(day, hour, minute=0):
    return datetime.combine(day, datetime.min.time(), tzinfo=LONDON).replace(
        hour=hour, minute=minute
    )


def seed():
    """What the pages need beyond `seed_demo`, in proportion to a large office; see the
    docstring."""
    from django.db import connection, transaction
    from django.utils import timezone

    from community.models import Area
    from matching import engine
    from matching.assignment import waiting_peers
    from matching.models import FollowUp, Match, Session, WellbeingCheckIn, monday_of
    from messaging.models import Message
    from peers.models import Peer
    from volunteers.models import Volunteer

    now = timezone.now()
    today = timezone.localdate()
    areas = list(Area.objects.order_by("pk").values_list("pk", flat=True))
    Status = Session.Status
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE volunteers_volunteer SET phone = '+447911' || lpad(id::text, 6, '0') "
                "WHERE phone IS NULL OR phone = ''"
            )
            cursor.execute(
                "UPDATE volunteers_volunteer SET sms_consent = true, "
                "sms_consent_at = status_changed_at WHERE NOT sms_consent"
            )
        waiting = list(waiting_peers().order_by("id").values_list("id", flat=True))
        if len(waiting) < WAITING_PEERS:
            raise RuntimeError(f"Only {len(waiting):,} peers are waiting; raise SYNTHETIC_PEERS.")
        Peer.objects.filter(id__in=waiting[WAITING_PEERS:]).update(
            status=Peer.Status.REFERRED, waiting_since=None
        )

        matchable = list(
            engine.trained_and_present(Volunteer.objects.all(), on=today)
            .exclude(matches__status__in=Match.OPEN_STATUSES)
            .order_by("id")
            .values_list("id", flat=True)
        )
        busy, helpers = matchable[0], matchable[1:]
        Volunteer.objects.filter(pk=busy).update(max_active_matches=BUSY_MATCHES + 2)
        everyone = list(Volunteer.objects.order_by("id").values_list("id", flat=True))
        phones = {pk: phone.as_e164 for pk, phone in Volunteer.objects.values_list("id", "phone")}

        def peer(number, status, **fields):
            return Peer(
                preferred_name=f"Sam{number}",
                full_name=f"Sam Dashboard {number}",
                area_id=areas[number % len(areas)],
                status=status,
                **fields,
            )

        active_peers = Peer.objects.bulk_create(
            (peer(n, Peer.Status.MATCHED) for n in range(ACTIVE_MATCHES)), batch_size=BATCH
        )
        ended_peers = Peer.objects.bulk_create(
            (peer(ACTIVE_MATCHES + n, Peer.Status.CLOSED) for n in range(ENDED_MATCHES)),
            batch_size=BATCH,
        )
        proposed_peers = Peer.objects.bulk_create(
            (
                peer(
                    ACTIVE_MATCHES + ENDED_MATCHES + n,
                    Peer.Status.WAITING,
                    waiting_since=now - timedelta(days=20 + n),
                )
                for n in range(PROPOSALS)
            ),
            batch_size=BATCH,
        )
        active_volunteers = [busy] * BUSY_MATCHES + helpers[: ACTIVE_MATCHES - BUSY_MATCHES]
        active = Match.objects.bulk_create(
            (
                Match(
                    peer=peer,
                    volunteer_id=volunteer,
                    status=Match.Status.ACTIVE,
                    proposed_at=now - timedelta(days=400),
                    decided_at=now - timedelta(days=399),
                    started_on=today - timedelta(days=398),
                )
                for peer, volunteer in zip(active_peers, active_volunteers, strict=True)
            ),
            batch_size=BATCH,
        )
        ended_volunteers = [busy] * BUSY_ENDED + [
            everyone[n * 7 % len(everyone)] for n in range(ENDED_MATCHES - BUSY_ENDED)
        ]
        ended = Match.objects.bulk_create(
            (
                Match(
                    peer=peer,
                    volunteer_id=volunteer,
                    status=Match.Status.ENDED,
                    proposed_at=now - timedelta(days=PAST_DAYS + 10),
                    decided_at=now - timedelta(days=PAST_DAYS + 9),
                    started_on=today - timedelta(days=PAST_DAYS + 8),
                    ended_on=today - timedelta(days=1 + n % 300),
                    end_reason="Goals met.",
                )
                for n, (peer, volunteer) in enumerate(
                    zip(ended_peers, ended_volunteers, strict=True)
                )
            ),
            batch_size=BATCH,
        )
        Match.objects.bulk_create(
            (
                Match(peer=peer, volunteer_id=volunteer, status=Match.Status.PROPOSED, score=4.2)
                for peer, volunteer in zip(
                    proposed_peers,
                    helpers[ACTIVE_MATCHES : ACTIVE_MATCHES + PROPOSALS],
                    strict=True,
                )
            ),
            batch_size=BATCH,
        )

        # Sessions to come: each active match every fortnight, from its own day and slot.
        ahead = []
        for number, match in enumerate(active):
            first = number * 37 % SESSION_EVERY_DAYS
            for offset in range(first, AHEAD_DAYS, SESSION_EVERY_DAYS):
                hour, minute = SLOTS[number * 5 % len(SLOTS)]
                ahead.append((match, local(today + timedelta(days=offset), hour, minute), number))
        past_count = SESSIONS - len(ahead) - Session.objects.count()  # the demo set has some
        busy_matches = active[:BUSY_MATCHES] + ended[:BUSY_ENDED]
        others = active[BUSY_MATCHES:] + ended[BUSY_ENDED:]
        past = []
        for number in range(past_count):
            day = today - timedelta(days=1 + number * PAST_DAYS // past_count)
            hour, minute = SLOTS[number % len(SLOTS)]
            if number % BUSY_SHARE == 0:
                match = busy_matches[number // BUSY_SHARE % len(busy_matches)]
            else:
                match = others[number % len(others)]
            past.append((match, local(day, hour, minute), number))

        messages_ids = Ids(Message, 2 * past_count + len(ahead) + INBOX)
        session_ids = Ids(Session, SESSIONS)
        messages, sessions, follow_ups = [], [], []

        def text(to, body, when, **fields):
            pk = messages_ids.take()
            messages.append(
                {
                    "id": pk,
                    "direction": Message.Direction.OUTBOUND,
                    "to_number": to,
                    "from_number": "",
                    "body": body,
                    "status": Message.Status.DELIVERED,
                    "topic": "session_reminder",
                    "send_after": when,
                    "created_at": when,
                    "sent_at": when,
                    "status_changed_at": when,
                    **fields,
                }
            )
            return pk

        def reply(sender, body, when, **fields):
            pk = messages_ids.take()
            messages.append(
                {
                    "id": pk,
                    "direction": Message.Direction.INBOUND,
                    "to_number": "+447700900000",
                    "from_number": sender,
                    "body": body,
                    "status": Message.Status.RECEIVED,
                    "send_after": when,
                    "created_at": when,
                    "status_changed_at": when,
                    **fields,
                }
            )
            return pk

        def session(match, starts_at, **fields):
            mode = fields.pop("mode", "in_person")
            row = {
                "id": session_ids.take(),
                "match_id": match.pk,
                "starts_at": starts_at,
                "ends_at": starts_at + timedelta(hours=1),
                "mode": mode,
                "place": PLACES[starts_at.day % len(PLACES)] if mode == "in_person" else "",
                "status": Status.SCHEDULED,
                "created_at": starts_at - timedelta(days=14),
                "updated_at": starts_at - timedelta(days=1),
                **fields,
            }
            sessions.append(row)
            return row

        for match, starts_at, number in past:
            kind = number % 20
            phone = phones[match.volunteer_id]
            reminded = starts_at - timedelta(days=1)
            reminder = text(phone, "Reminder: your session tomorrow. Reply YES or NO.", reminded)
            if number % 4:
                answer = reply(phone, "YES", reminded + timedelta(minutes=20))
                messages[-2]["answered_by_id"] = answer
            mode = "in_person" if kind < 14 else ("phone" if kind < 18 else "video")
            if kind == 1:
                fields = {"status": Status.NO_SHOW}
            elif kind in (2, 3):
                fields = {"status": Status.CANCELLED, "outcome_notes": "Peer unwell."}
            else:
                fields = {"status": Status.COMPLETED, "hours": Decimal("1.5" if kind < 6 else "1")}
            row = session(match, starts_at, mode=mode, reminder_id=reminder, **fields)
            if kind == 1 and len(follow_ups) < FOLLOW_UPS:
                follow_ups.append(
                    FollowUp(
                        kind=FollowUp.Kind.NO_SHOW,
                        urgency=FollowUp.Urgency.SOON,
                        summary="The session did not happen: call the volunteer.",
                        session_id=row["id"],
                        cause=f"no_show:{row['id']}",
                        raised_at=starts_at + timedelta(hours=3),
                        handled_at=starts_at + timedelta(days=1),
                        handled_note="Called; rebooked.",
                    )
                )

        for match, starts_at, number in ahead:
            kind = number % 10
            mode = "in_person" if kind < 7 else ("phone" if kind < 9 else "video")
            fields = {}
            if starts_at - now < timedelta(days=1):
                fields["reminder_id"] = text(
                    phones[match.volunteer_id],
                    "Reminder: your session tomorrow. Reply YES or NO.",
                    min(now, starts_at - timedelta(days=1)),
                )
            if kind < 5:
                fields.update(status=Status.CONFIRMED, confirmed_at=starts_at - timedelta(days=1))
            elif kind == 5:
                fields.update(status=Status.DECLINED)
            elif kind == 6 and "reminder_id" in fields:
                fields.update(at_risk_since=now)
            row = session(match, starts_at, mode=mode, **fields)
            if kind == 5 and len(follow_ups) < FOLLOW_UPS + OPEN_FOLLOW_UPS // 2:
                follow_ups.append(
                    FollowUp(
                        kind=FollowUp.Kind.SESSION_DECLINED,
                        urgency=FollowUp.Urgency.URGENT,
                        summary="The volunteer cannot make the session: find a new time.",
                        session_id=row["id"],
                        cause=f"declined:{row['id']}",
                        raised_at=now - timedelta(hours=number % 48),
                    )
                )

        inbox = []
        for number in range(INBOX):
            sender = (
                phones[everyone[number * 13 % len(everyone)]]
                if number % 3
                else f"+447400{number:06d}"
            )
            inbox.append(
                reply(
                    sender,
                    "Running late <b>&</b> can we move it to Thursday? “Sorry” — 🙏",
                    now - timedelta(hours=number),
                    needs_attention=True,
                )
            )
        copy_rows(Message, messages)
        copy_rows(Session, sessions)
        for number, pk in enumerate(inbox[: OPEN_FOLLOW_UPS - len(follow_ups) + FOLLOW_UPS]):
            follow_ups.append(
                FollowUp(
                    kind=FollowUp.Kind.UNREADABLE_REPLY,
                    urgency=FollowUp.Urgency.SOON,
                    summary="A reply was not understood: read it in the inbox.",
                    message_id=pk,
                    cause=f"reply:{pk}",
                    raised_at=now - timedelta(hours=number),
                )
            )
        FollowUp.objects.bulk_create(follow_ups, batch_size=BATCH)
        monday = monday_of(today)
        WellbeingCheckIn.objects.bulk_create(
            (
                WellbeingCheckIn(
                    volunteer_id=busy,
                    week=monday - timedelta(weeks=weeks),
                    asked_at=local(monday - timedelta(weeks=weeks), 10),
                    score=None if weeks == 5 else 1 + weeks % 5,
                    answered_at=None if weeks == 5 else local(monday - timedelta(weeks=weeks), 11),
                )
                for weeks in range(1, 13)
            ),
            ignore_conflicts=True,
        )
        for model in (Message, Session):
            with connection.cursor() as cursor:
                table = model._meta.db_table
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                    f"(SELECT max(id) FROM {connection.ops.quote_name(table)}))",
                    [table],
                )
    in_window = sum(1 for _, starts_at, _ in ahead if starts_at.date() <= today + timedelta(7))
    return (
        f"Seeded {Session.objects.count():,} sessions ({len(ahead):,} in the next "
        f"{AHEAD_DAYS} days, {in_window:,} of them today and the next 7), "
        f"{Message.objects.count():,} texts, {Match.objects.count():,} matches, "
        f"{FollowUp.objects.open().count():,} open follow-ups; "
        f"{waiting_peers().count():,} peers waiting; the busy volunteer is {busy} with "
        f"{Session.objects.filter(match__volunteer_id=busy).count():,} sessions."
    )


# Measuring ---------------------------------------------------------------------------------


def pages():
    """(name, path) of each page measured."""
    from django.db.models import Count
    from django.urls import reverse

    from matching.models import Match

    busy = (
        Match.objects.filter(status=Match.Status.ACTIVE)
        .values("volunteer_id")
        .annotate(matches=Count("id"))
        .order_by("-matches", "volunteer_id")
        .values_list("volunteer_id", flat=True)
        .first()
    )
    waiting = reverse("dashboard:waiting-list")
    return [
        ("today", reverse("dashboard:today")),
        ("waiting", waiting),
        ("waiting, later page", f"{waiting}?page={LATER_PAGE}"),
        ("volunteer", reverse("dashboard:volunteer", args=[busy])),
        ("inbox", reverse("dashboard:inbox")),
    ]


def measure(arguments):
    import cProfile
    import pstats

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from matching.demo_data import DEMO_COORDINATOR_EMAIL

    client = Client(raise_request_exception=True)
    client.force_login(get_user_model().objects.get(email=DEMO_COORDINATOR_EMAIL))
    results = []
    for name, path in pages():
        for _ in range(WARMUP):
            response = client.get(path)
            if response.status_code != 200:
                raise RuntimeError(f"{path} answered {response.status_code}.")
        times, sql_times, counts = [], [], set()
        for _ in range(arguments.runs):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                client.get(path)
                times.append(time.perf_counter() - started)
            counts.add(len(captured))
            sql_times.append(sum(float(query["time"]) for query in captured))
        times.sort()
        found = {
            "page": name,
            "path": path,
            "median_ms": statistics.median(times) * 1000,
            "p90_ms": times[min(len(times) - 1, round(0.9 * (len(times) - 1)))] * 1000,
            "sql_ms": statistics.median(sql_times) * 1000,
            "queries": sorted(counts),
            "bytes": len(response.content),
        }
        if arguments.show_queries or arguments.explain:
            slowest = max(captured, key=lambda query: float(query["time"]))
            found["sql"] = [
                f"{float(query['time']) * 1000:8.1f} ms  {query['sql'][:160]}" for query in captured
            ]
            if arguments.explain:
                with connection.cursor() as cursor:
                    cursor.execute(f"EXPLAIN ANALYZE {slowest['sql']}")
                    found["explain"] = [row[0] for row in cursor.fetchall()]
        if arguments.profile == name:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(5):
                client.get(path)
            profiler.disable()
            stats = pstats.Stats(profiler, stream=sys.stdout)
            print(f"cProfile of 5 requests of {name} ({path}):")
            stats.sort_stats("cumulative").print_stats(40)
            stats.sort_stats("tottime").print_stats(25)
        results.append(found)
    return {"pages": results, "runs": arguments.runs}


# Reporting ---------------------------------------------------------------------------------


def main():
    arguments = options()
    if arguments.child:
        child(arguments)
        return
    say_how_busy()
    env = environment(arguments)
    prepare(arguments, env)
    extra = ["--runs", str(arguments.runs)]
    extra += ["--show-queries"] if arguments.show_queries else []
    extra += ["--explain"] if arguments.explain else []
    extra += ["--profile", arguments.profile] if arguments.profile else []
    measured = run_child("measure", env=env, extra=extra)
    print()
    print(
        f"Server time through Django's test client, signed in as the coordinator: median and "
        f"90th percentile of {measured['runs']} requests after {WARMUP} to warm up."
    )
    print(
        f"{'page':<20} {'median ms':>10} {'p90 ms':>8} {'SQL ms':>8} {'queries':>8} {'KB':>6}  aim"
    )
    for found in measured["pages"]:
        aim = AIM_MS.get(found["page"])
        verdict = f"< {aim} ms: {'met' if found['median_ms'] < aim else 'MISSED'}" if aim else ""
        queries = "/".join(str(count) for count in found["queries"])
        print(
            f"{found['page']:<20} {found['median_ms']:>10.1f} {found['p90_ms']:>8.1f} "
            f"{found['sql_ms']:>8.1f} {queries:>8} {found['bytes'] / 1024:>6.0f}  {verdict}"
        )
    for found in measured["pages"]:
        if "sql" in found:
            print(f"\n{found['page']} ({found['path']}), the last request's queries:")
            for line in found["sql"]:
                print(f"  {line}")
        if "explain" in found:
            print("EXPLAIN ANALYZE of its slowest query:")
            for line in found["explain"]:
                print(f"  {line}")


if __name__ == "__main__":
    main()
