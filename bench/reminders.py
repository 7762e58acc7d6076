"""How long one pass of each session schedule takes over many upcoming sessions.

Run from anywhere: .venv/bin/python bench/reminders.py [--sizes 10000,100000]

Against PostgreSQL (by default postgres://postgres@127.0.0.1:5432, trust auth; --postgres),
in the database peerpath_bench_reminders (--database; a name without "bench" is refused).
For each size N it drops and creates the database, migrates it and seeds, with bulk_create,
N upcoming sessions over the 14 days from tomorrow, starting on the half hour from 09:00 to
16:30 London time, four for each active match, two matches for each volunteer; 98% of the
volunteers agreed to texts and have a mobile number, 1% did not agree and 1% texted STOP;
6 in 10 opted in to the wellbeing check-in; 1 peer in 2 agreed to texts and has a mobile
number. In proportion to N, for the passes after the
session: a day's worth (N/14) of phone sessions that ended on the day before the first
(CHECK_IN_DAY), a third of them confirmed, the rest still scheduled, all of volunteers who
can be texted; a day's worth that ended two days before that (UNANSWERED_DAY), each asked
whether it happened, the question delivered and its day to answer gone by; and 1 in 10
volunteers who left the wellbeing questions of the two weeks before the weekly moment
unanswered. Then VACUUM ANALYZE.

Then, in a process of its own, with the clock set by time-machine to each pass's moment
(MOMENTS: 08:30 tomorrow for the reminders, when every session of tomorrow is due its
reminder at once, about 1/14 of them, and the next 4 hours are at the at-risk deadline;
19:30 on CHECK_IN_DAY for the check-ins, two hours after its last session ended, when the
whole day's are due at once and UNANSWERED_DAY's have gone unanswered; the weekly wellbeing
moment before that, when every volunteer who opted in is due the question; the weekly peer
check-in moment after it, when the peers who met their volunteer lately, and meet them
neither that day nor the next, are due theirs), it runs each
pass of matching.tasks.PASSES once, the passes in the order of their moments, and prints
its seconds, the queries it made (CaptureQueriesContext), the enqueues among them and the
texts it queued; then the same pass again at the same moment, which must queue nothing.
SMS_BACKEND is locmem and no worker runs: deliveries are enqueued to django-q2's ORM broker,
one row per SMS_DELIVERY_BATCH texts, and nothing takes them. Those enqueue INSERTs are
counted apart from the pass's own queries, which must be the same at every size (with Redis
as the broker they are not SQL at all).

A new pass in PASSES is measured too, at DEFAULT_MOMENT (08:30 tomorrow) unless MOMENTS
gives it a moment where it has work; seed what it needs in `seed`.
"""

import argparse
import json
import math
import os
import secrets
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bench.commands import child_result, manage, say_how_busy, sizes  # noqa: E402

DEFAULT_SIZES = (10_000, 100_000)
LONDON = ZoneInfo("Europe/London")
DAYS = 14
SLOTS = [(hour, minute) for hour in range(9, 17) for minute in (0, 30)]  # 09:00 to 16:30
SESSIONS_PER_MATCH = 4
MATCHES_PER_VOLUNTEER = 2
AIM_SECONDS = 30
PLACES = ["Coatbridge library", "Airdrie Community Centre", "Wishaw Sports Centre"]
BATCH = 5000
NAMES = ["Sam", "Alex", "Jordan", "Morgan", "Jamie", "Robbie", "Kirsty", "Ailsa"]


def moment(day, hour, minute=0):
    """`day` days after the first day of sessions (0 is the first), at the London time."""
    first = date.fromisoformat(os.environ["BENCH_FIRST_DAY"])
    local = datetime.combine(first + timedelta(days=day), datetime.min.time(), tzinfo=LONDON)
    return local.replace(hour=hour, minute=minute)


def wellbeing_moment():
    """The last weekly wellbeing moment before the evening of the check-ins' day (see
    CHECK_IN_DAY): every volunteer who opted in is due the question, and those seeded with
    two silent weeks before it are due their follow-up."""
    from matching import wellbeing

    return wellbeing.latest_moment(moment(CHECK_IN_DAY, 19, 30))


def peer_check_in_moment():
    """The first weekly peer check-in moment after the evening of the check-ins' day: the
    peers whose sessions of CHECK_IN_DAY or UNANSWERED_DAY ended and who meet their
    volunteer neither that day nor the next are due theirs."""
    from matching import peer_check_ins

    after = moment(CHECK_IN_DAY, 19, 30)
    clock = peer_check_ins.check_in_time()
    for day in range(CHECK_IN_DAY, CHECK_IN_DAY + 8):
        when = moment(day, clock.hour, clock.minute)
        if when > after and when.weekday() == peer_check_ins.check_in_day():
            return when
    raise AssertionError("A week has every weekday.")


# Days before the first day of sessions: the sessions of CHECK_IN_DAY ended hours before its
# evening, and are due their check-ins; those of UNANSWERED_DAY were asked and never answered.
CHECK_IN_DAY = -1
UNANSWERED_DAY = -3
# When each pass has real work: a (day, hour, minute) as `moment` takes, or a function that
# gives the moment; a pass not listed runs at DEFAULT_MOMENT. The passes run in the order of
# their moments, so the clock only goes forwards (PASSES' order among passes at one moment).
DEFAULT_MOMENT = (0, 8, 30)
MOMENTS = {
    "reminded": (0, 8, 30),
    "flagged_at_risk": (0, 8, 30),
    # Two hours after the last session of the day ended (16:30 to 17:30): all are due at once.
    "checked_in": (CHECK_IN_DAY, 19, 30),
    "check_ins_unanswered": (CHECK_IN_DAY, 19, 30),
    "wellbeing_asked": wellbeing_moment,
    "wellbeing_unanswered": wellbeing_moment,
    "peers_checked_in": peer_check_in_moment,
}
# Of every WELLBEING_IN volunteers, the first WELLBEING_OPTED_IN opted in to the wellbeing
# check-in and the first WELLBEING_SILENT of those left the last two weeks' unanswered.
WELLBEING_IN, WELLBEING_OPTED_IN, WELLBEING_SILENT = 10, 6, 1
# Every PEERS_TEXTED_IN-th peer agreed to texts and has a mobile number.
PEERS_TEXTED_IN = 2


def moment_of(name):
    when = MOMENTS.get(name, DEFAULT_MOMENT)
    return when() if callable(when) else moment(*when)


def options():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--sizes", type=sizes, default=list(DEFAULT_SIZES), help="Upcoming sessions seeded.")
    add(
        "--postgres",
        default="postgres://postgres@127.0.0.1:5432",
        help="PostgreSQL server, as a URL without a database.",
    )
    add("--database", default="peerpath_bench_reminders", help="Dropped and made again.")
    add("--show-queries", action="store_true", help="Print the start of each pass's queries.")
    add("--child", choices=["seed", "measure"], help=argparse.SUPPRESS)
    add("--size", type=int, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if "bench" not in arguments.database:
        parser.error(f"“{arguments.database}” is dropped and made again: use a name with bench.")
    return arguments


# Databases ---------------------------------------------------------------------------------


def environment(arguments, first_day):
    return {
        **{key: value for key, value in os.environ.items() if key != "REDIS_URL"},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PYTHONPATH": str(PROJECT),
        "DATABASE_URL": f"{arguments.postgres}/{arguments.database}",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
        "SMS_BACKEND": "locmem",
        "BENCH_FIRST_DAY": first_day.isoformat(),
    }


def prepare(arguments, *, size, env):
    import psycopg
    from psycopg import sql

    with psycopg.connect(f"{arguments.postgres}/postgres", autocommit=True) as connection:
        name = sql.Identifier(arguments.database)
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(name))
    started = time.perf_counter()
    print(f"Created {arguments.database}; migrating and seeding {size:,} sessions ...", flush=True)
    manage("migrate", "--no-input", environment=env)
    said = run_child("seed", env=env, size=size)["said"]
    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
    print(f"{said} Seeded in {time.perf_counter() - started:.1f} s.", flush=True)


def run_child(kind, *, env, size):
    return child_result(__file__, kind, env=env, extra=["--size", str(size)])


# In the child process ----------------------------------------------------------------------


def child(arguments):
    # Run as a script, this file's folder comes first on the path, and bench/matching.py would
    # hide the matching app: put the project first instead.
    here = Path(__file__).resolve().parent
    sys.path[:] = [str(PROJECT), *(p for p in sys.path if Path(p or ".").resolve() != here)]
    import django

    django.setup()
    result = (
        {"said": seed(arguments.size)} if arguments.child == "seed" else measure(arguments.size)
    )
    print(json.dumps(result))


def seed(size):
    """Volunteers, peers, active matches, `size` upcoming sessions and what the other passes
    need in proportion; see the docstring."""
    from django.db import transaction
    from django.utils import timezone

    from community.models import Area
    from matching.models import Match, Session
    from messaging.models import OptOut
    from peers.models import Peer
    from volunteers.models import Volunteer

    now = timezone.now()
    areas = list(Area.objects.order_by("pk"))
    matches = math.ceil(size / SESSIONS_PER_MATCH)
    volunteers = math.ceil(matches / MATCHES_PER_VOLUNTEER)
    with transaction.atomic():
        made = Volunteer.objects.bulk_create(
            (
                Volunteer(
                    preferred_name=NAMES[number % len(NAMES)],
                    full_name=f"{NAMES[number % len(NAMES)]} Bench {number}",
                    phone=f"+447911{number:06d}",
                    area=areas[number % len(areas)],
                    status=Volunteer.Status.ACTIVE,
                    max_active_matches=MATCHES_PER_VOLUNTEER,
                    sms_consent=number % 100 != 0,
                    sms_consent_at=now if number % 100 != 0 else None,
                    wellbeing_opt_in=number % WELLBEING_IN < WELLBEING_OPTED_IN,
                )
                for number in range(volunteers)
            ),
            batch_size=BATCH,
        )
        OptOut.objects.bulk_create(
            OptOut(phone=volunteer.phone, word="STOP")
            for number, volunteer in enumerate(made)
            if number % 100 == 1
        )
        peers = Peer.objects.bulk_create(
            (
                Peer(
                    preferred_name=NAMES[(number + 3) % len(NAMES)],
                    full_name=f"Peer Bench {number}",
                    area=areas[number % len(areas)],
                    status=Peer.Status.MATCHED,
                    **(
                        {
                            "phone": f"+447922{number:06d}",
                            "sms_consent": True,
                            "sms_consent_at": now,
                        }
                        if number % PEERS_TEXTED_IN == 0
                        else {}
                    ),
                )
                for number in range(matches)
            ),
            batch_size=BATCH,
        )
        started_on = timezone.localdate() - timedelta(days=30)
        active = Match.objects.bulk_create(
            (
                Match(
                    peer=peer,
                    volunteer=made[number // MATCHES_PER_VOLUNTEER],
                    status=Match.Status.ACTIVE,
                    proposed_at=now,
                    decided_at=now,
                    started_on=started_on,
                )
                for number, peer in enumerate(peers)
            ),
            batch_size=BATCH,
        )
        Session.objects.bulk_create(
            (session(number, active) for number in range(size)), batch_size=BATCH
        )
        day = math.ceil(size / DAYS)  # a day's worth of sessions
        # The matches of volunteers who can be texted (see the volunteers above).
        textable = [
            match
            for number, match in enumerate(active)
            if number // MATCHES_PER_VOLUNTEER % 100 > 1
        ]
        Session.objects.bulk_create(
            (past_session(number, textable, CHECK_IN_DAY) for number in range(day)),
            batch_size=BATCH,
        )
        unanswered = seed_unanswered_check_ins(textable, count=day)
        silent = seed_silent_wellbeing_weeks(made)
    return (
        f"{size:,} upcoming sessions of {matches:,} active matches, {volunteers:,} volunteers "
        f"({volunteers - len(range(0, volunteers, 100)) - len(range(1, volunteers, 100)):,} "
        f"can be texted); {day:,} sessions ended on the evening of the check-ins and "
        f"{unanswered:,} check-ins unanswered; {silent:,} volunteers silent for two weeks."
    )


def past_session(number, matches, day, **fields):
    """The `number`th of a day's sessions that have ended, spread over the slots."""
    from matching.models import Session

    hour, minute = SLOTS[number % len(SLOTS)]
    starts_at = moment(day, hour, minute)
    if number % 3 == 0:
        fields = {
            "status": Session.Status.CONFIRMED,
            "confirmed_at": starts_at - timedelta(days=1),
            **fields,
        }
    return Session(
        match=matches[number % len(matches)],
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
        mode="phone",
        **fields,
    )


def seed_unanswered_check_ins(matches, *, count):
    """`count` sessions of UNANSWERED_DAY, each asked two hours after it ended whether it
    happened, the question delivered, its day to answer gone by unanswered."""
    from matching import check_ins, texts
    from matching.models import Session
    from messaging.models import Message

    sessions = Session.objects.bulk_create(
        (past_session(number, matches, UNANSWERED_DAY) for number in range(count)),
        batch_size=BATCH,
    )
    asked = [
        (session, session.ends_at + timedelta(hours=2), session.match.volunteer.phone)
        for session in sessions
    ]
    questions = Message.objects.bulk_create(
        (
            Message(
                direction=Message.Direction.OUTBOUND,
                to_number=phone,
                body=texts.check_in_text(
                    peer_name=session.match.peer.preferred_name, starts_at=session.starts_at
                ),
                topic=check_ins.CHECK_IN_TOPIC,
                status=Message.Status.DELIVERED,
                idempotency_key=check_ins.check_in_key(session),
                reply_handler=check_ins.REPLY_HANDLER,
                context={"session_id": session.pk, "starts_at": session.starts_at.isoformat()},
                send_after=when,
                sent_at=when,
                created_at=when,
                expires_at=when + check_ins.REPLY_WINDOW,
                reply_expires_at=when + check_ins.REPLY_WINDOW,
            )
            for session, when, phone in asked
        ),
        batch_size=BATCH,
    )
    for session, question in zip(sessions, questions, strict=True):
        session.check_in = question
    Session.objects.bulk_update(sessions, ["check_in"], batch_size=1000)
    return len(sessions)


def seed_silent_wellbeing_weeks(volunteers):
    """For WELLBEING_SILENT of every WELLBEING_IN volunteers, the wellbeing questions of the
    two weeks before `wellbeing_moment`, delivered and never answered."""
    from django.conf import settings

    from matching import texts, wellbeing
    from matching.models import WellbeingCheckIn, monday_of
    from messaging.models import Message
    from messaging.quiet_hours import UK

    silent = [
        volunteer
        for number, volunteer in enumerate(volunteers)
        if number % WELLBEING_IN < WELLBEING_SILENT and number % 100 > 1
    ]
    window = timedelta(hours=settings.WELLBEING_REPLY_HOURS)
    asked = [
        (volunteer, when, monday_of(when.astimezone(UK).date()))
        for weeks in (2, 1)
        for when in [wellbeing_moment() - timedelta(weeks=weeks)]
        for volunteer in silent
    ]
    questions = Message.objects.bulk_create(
        (
            Message(
                direction=Message.Direction.OUTBOUND,
                to_number=volunteer.phone,
                body=texts.wellbeing_question_text(),
                topic=wellbeing.QUESTION_TOPIC,
                status=Message.Status.DELIVERED,
                idempotency_key=wellbeing.check_in_key(volunteer.pk, week),
                reply_handler=wellbeing.REPLY_HANDLER,
                context={"volunteer_id": volunteer.pk, "week": week.isoformat()},
                send_after=when,
                sent_at=when,
                created_at=when,
                expires_at=when + window,
                reply_expires_at=when + window,
            )
            for volunteer, when, week in asked
        ),
        batch_size=BATCH,
    )
    WellbeingCheckIn.objects.bulk_create(
        (
            WellbeingCheckIn(volunteer=volunteer, week=week, question=question, asked_at=when)
            for (volunteer, when, week), question in zip(asked, questions, strict=True)
        ),
        batch_size=BATCH,
    )
    return len(silent)


def session(number, matches):
    """The `number`th session: its match's next of four, spread over the days and slots."""
    from matching.models import Session

    count = len(matches)
    match, nth = number % count, number // count
    day = (match + nth * (DAYS // SESSIONS_PER_MATCH)) % DAYS
    hour, minute = SLOTS[(match // DAYS + nth) % len(SLOTS)]
    starts_at = moment(day, hour, minute)
    kind = number % 10
    mode = "in_person" if kind < 7 else ("phone" if kind < 9 else "video")
    return Session(
        match=matches[match],
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
        mode=mode,
        place=PLACES[number % len(PLACES)] if mode == "in_person" else "",
    )


def measure(size):
    import time_machine
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from matching.tasks import PASSES
    from messaging.models import Message

    def run(name, work):
        last = Message.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            result = work()
            seconds = time.perf_counter() - started
        enqueues = sum("django_q_ormq" in query["sql"] for query in captured)
        new = Message.objects.filter(pk__gt=last)
        return {
            "sql": [
                f"{float(q['time']):7.3f} s  {q['sql'][:100]}"
                for q in captured
                if "django_q_ormq" not in q["sql"]
            ],
            "seconds": seconds,
            "queries": len(captured) - enqueues,
            "enqueues": enqueues,
            "queued": new.filter(status=Message.Status.QUEUED).count(),
            "suppressed": new.filter(status=Message.Status.SUPPRESSED).count(),
            "result": result,
        }

    measured = {"sessions": size, "passes": []}
    # In the order of their moments, so the clock only goes forwards; the table keeps PASSES'.
    order = {name: number for number, (name, _) in enumerate(PASSES)}
    for name, work in sorted(PASSES, key=lambda each: (moment_of(each[0]), order[each[0]])):
        when = moment_of(name)
        with time_machine.travel(when, tick=True):
            first = run(name, work)
            again = run(name, work)
        measured["passes"].append(
            {"name": name, "at": when.isoformat(), "first": first, "again": again}
        )
    measured["passes"].sort(key=lambda each: order[each["name"]])
    return measured


# Reporting ---------------------------------------------------------------------------------


def described(result):
    """What a pass returned, shortly: a number, or each of a dict's ("raised 3, closed 0")."""
    if isinstance(result, dict):
        return ", ".join(f"{key} {value:,}" for key, value in result.items())
    return f"{result:,}" if isinstance(result, int) else str(result)


def main():
    arguments = options()
    if arguments.child:
        child(arguments)
        return
    say_how_busy()
    first_day = date.today() + timedelta(days=1)
    env = environment(arguments, first_day)
    results = []
    for size in arguments.sizes:
        prepare(arguments, size=size, env=env)
        results.append(run_child("measure", env=env, size=size))

    print()
    print(
        "One pass of each schedule (matching.tasks.PASSES), then the same pass again at the "
        "same moment; PostgreSQL, SMS_BACKEND=locmem, no worker."
    )
    width = max(len(each["name"]) for found in results for each in found["passes"])
    print(
        f"{'sessions':>9} {'pass':<{width}} {'at (UTC)':<17} {'seconds':>8} {'queries':>8} "
        f"{'enqueues':>9} {'queued':>7}  {'again: s':>8} {'queries':>8} {'queued':>7}  "
        f"{'aim':<14} result"
    )
    for found in results:
        for each in found["passes"]:
            first, again = each["first"], each["again"]
            met = "met" if first["seconds"] < AIM_SECONDS else "MISSED"
            at = datetime.fromisoformat(each["at"]).astimezone(ZoneInfo("UTC"))
            print(
                f"{found['sessions']:>9,} {each['name']:<{width}} {at:%Y-%m-%d %H:%M}  "
                f"{first['seconds']:>8.2f} {first['queries']:>8} {first['enqueues']:>9} "
                f"{first['queued']:>7,}  {again['seconds']:>8.2f} {again['queries']:>8} "
                f"{again['queued']:>7,}  {f'< {AIM_SECONDS} s: {met}':<14} "
                f"{described(first['result'])}"
            )
    if arguments.show_queries:
        for found in results:
            for each in found["passes"]:
                print(f"\n{found['sessions']:,} sessions, {each['name']}, first run:")
                for statement in each["first"]["sql"]:
                    print(f"  {statement}")
    by_pass = {}
    for found in results:
        for each in found["passes"]:
            by_pass.setdefault(each["name"], set()).add(each["first"]["queries"])
    growing = [name for name, counts in by_pass.items() if len(counts) > 1]
    print()
    if len(results) > 1:
        print(
            "Queries of each pass at every size: "
            + ("the same." if not growing else f"DIFFERENT for {', '.join(growing)}.")
        )
    print(
        "Enqueues are django-q2 ORM broker INSERTs, one per SMS_DELIVERY_BATCH texts due now, "
        "run as the pass commits."
    )


if __name__ == "__main__":
    main()
