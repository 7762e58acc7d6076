"""`python manage.py seed_demo`: demo data to try PeerPath, synthetic data to measure it."""

import argparse
import time

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from matching import demo_data

SITE_URL = "http://127.0.0.1:8000"


def count(text):
    try:
        value = int(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"“{text}” is not a whole number.") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative; give 0 or more.")
    return value


def batch_size(text):
    value = count(text)
    if value == 0:
        raise argparse.ArgumentTypeError("A batch holds at least one record.")
    return value


class ProgressBar:
    """One line on stderr, rewritten in place: a bar, count/total and percent."""

    width = 30

    def __init__(self, *, stream, label):
        self.stream = stream
        self.label = label

    def __call__(self, *, done, total):
        share = done / total if total else 1
        filled = round(self.width * share)
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(
            f"\r{self.label} [{bar}] {done:,}/{total:,} ({share:.0%})",
            style_func=lambda text: text,
            ending="\n" if done >= total else "",
        )
        self.stream.flush()


class Command(BaseCommand):
    help = (
        "Fill the database with demo data and print a coordinator's login. The demo set is "
        "40 volunteers and 60 peers across North and South Lanarkshire (fictional Scottish "
        "names, phones in Ofcom's drama range 07700 900000-900099), their training, "
        "availability and absences, and a few active matches with their history: sessions over "
        "the past three months and the next two weeks, the reminders and replies about them, "
        "wellbeing answers and open follow-ups, dated from now; the same people on every run. "
        "Safe to run again: what exists is kept and nothing is duplicated. "
        "--volunteers N and --peers M add synthetic records for benchmarks ON TOP of the demo "
        "set, written with bulk inserts; they are marked in their notes, and N and M are the "
        "totals to reach, so a second run with the same N adds nothing and a larger N tops up. "
        "The drama range has only 1,000 numbers and phones are unique: the first 900 "
        "synthetic volunteers get 07700 900100-900999 and the rest have no phone; synthetic "
        "peers have no phone (and so no SMS consent). Synthetic records are never removed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--volunteers",
            type=count,
            default=0,
            metavar="N",
            help="Synthetic volunteers to have in total, besides the demo set (default 0).",
        )
        parser.add_argument(
            "--peers",
            type=count,
            default=0,
            metavar="M",
            help="Synthetic peers to have in total, besides the demo set (default 0).",
        )
        parser.add_argument(
            "--batch-size",
            type=batch_size,
            default=1000,
            help="Synthetic records written per transaction (default 1000).",
        )
        parser.add_argument(
            "--site-url",
            default=SITE_URL,
            help=f"The site's address, for the sign-in link printed (default {SITE_URL}).",
        )
        parser.add_argument(
            "--coordinator-email",
            default=demo_data.DEMO_COORDINATOR_EMAIL,
            help=f"The coordinator's sign-in (default {demo_data.DEMO_COORDINATOR_EMAIL}).",
        )
        parser.add_argument(
            "--coordinator-password",
            help="Set this password. Without it a new coordinator gets the demo password "
            "(refused with DEBUG off) and an existing one keeps theirs.",
        )

    def handle(self, *args, **options):
        try:
            login = demo_data.ensure_coordinator(
                email=options["coordinator_email"], password=options["coordinator_password"]
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        coordinator = get_user_model().objects.get(email=login.email)
        demo = demo_data.seed_demo_set(coordinator=coordinator)
        self.report_demo(demo)
        for kind, add in (
            ("volunteers", demo_data.add_synthetic_volunteers),
            ("peers", demo_data.add_synthetic_peers),
        ):
            if options[kind]:
                self.add_synthetic(
                    kind=kind, add=add, total=options[kind], batch_size=options["batch_size"]
                )
        self.report_login(login, site_url=options["site_url"])
        self.report_app_sign_in(demo_data.ensure_app_volunteer())

    def report_demo(self, demo):
        added = []
        if demo.volunteers_added or demo.peers_added:
            added.append(
                f"{demo.volunteers_added} volunteers, {demo.peers_added} peers and "
                f"{demo.matches_added} active matches"
            )
        if demo.history:
            history = demo.history
            added.append(
                f"a history of {history.sessions} sessions, {history.texts} texts, "
                f"{history.wellbeing_answers} wellbeing answers and {history.follow_ups} "
                "follow-ups"
            )
        self.stdout.write(
            f"Demo set: {demo.volunteers} volunteers, {demo.peers} peers, "
            f"{demo.active_matches} active matches; "
            + (f"added {'; '.join(added)}." if added else "nothing to add.")
        )

    def add_synthetic(self, *, kind, add, total, batch_size):
        started = time.monotonic()
        summary = add(
            total=total,
            batch_size=batch_size,
            progress=ProgressBar(stream=self.stderr, label=f"Synthetic {kind}"),
        )
        seconds = time.monotonic() - started
        if summary.added:
            self.stdout.write(
                f"Synthetic {kind}: {summary.total:,}; added {summary.added:,} "
                f"({summary.rows:,} rows) in {seconds:.1f} s."
            )
        else:
            self.stdout.write(f"Synthetic {kind}: {summary.total:,} already; nothing to add.")

    def report_app_sign_in(self, phone):
        if phone is None:
            return
        national = phone.as_national if hasattr(phone, "as_national") else phone
        self.stdout.write(
            f"A volunteer signs in to the partner app by text with {national}: "
            "POST /_allauth/app/v1/auth/code/request; the worker prints the code."
        )

    def report_login(self, login, *, site_url):
        password = login.password or (
            "unchanged (it was changed after seeding; set one with --coordinator-password)"
        )
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Sign in at {site_url.rstrip('/')}/"))
        self.stdout.write(f"  email:    {login.email}")
        self.stdout.write(f"  password: {password}")
