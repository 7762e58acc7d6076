"""Whatever a volunteer texts back, the reply loop holds: each reply to a session reminder,
an after-session check-in or a wellbeing check-in ends in one of the outcomes the rules
define, never in a handler's crash that messaging's fallback would hide.

A reply the handler reads changes its row as the rules say (confirmed, declined, completed
with hours from over 0 to 24, no show, a score from 1 to 5) and is answered with one of
matching's texts; anything else changes nothing, leaves the question open and reaches the
coordinator, answered with messaging's "someone will be in touch". The bodies are made up by
hypothesis (any unicode but lone surrogates, which no SMS carries) and picked by hand.

Each kind of question is asked once per test; each body is received inside a savepoint that
is rolled back, so every example meets the same open question.
"""

import datetime
import logging
import os
import re
import unicodedata
import uuid
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, example, given, note
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from matching import replies, texts, wellbeing
from matching.follow_ups import Kind
from matching.models import FollowUp, Session, WellbeingCheckIn
from messaging import services as messaging
from messaging import texts as messaging_texts
from messaging.models import Message
from messaging.segments import count_segments
from tests.factories import VolunteerFactory
from tests.matching.conftest import HOUR, NOW, OFFICE_NUMBER, UTC, texted_session
from tests.messaging.twilio_requests import (
    AUTH_TOKEN,
    PUBLIC_BASE_URL,
    inbound_params,
    post_signed,
)

pytestmark = pytest.mark.django_db
MONDAY = datetime.datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # the wellbeing moment
Status = Session.Status

# Hand-picked: what phones, keyboards, copy and paste and mischief put in a text.
NASTY = [
    "",
    " ",
    "\n\t \u00a0\u2003",
    "\x00",
    "yes\x00",
    "\x00yes",
    "y\x00es",
    "\x1b[2Jyes",
    "\u202eyes",
    "\u202eon",
    "yes\u202e2",
    "\u200byes\u200b",
    "y\u200bes",
    "n\u200do",
    "\ufeffyes",
    "👍",
    "👍🏽",
    "👍🏿👍🏻",
    "👍\u200d👍",
    "👨\u200d👩\u200d👧",
    "🏳️\u200d🌈",
    "1️⃣",
    "yes 1️⃣",
    "yes 2️⃣",
    "🔟",
    "１",
    "yes １",
    "yes １.５",
    "٣",
    "yes ٣",
    "yes 1٣",
    "۴",
    "²",
    "yes ²",
    "yes 1²",
    "3²",
    "4½",
    "yes ½",
    "yes 1½",
    "Ⅳ",
    "yes Ⅱ",
    "9" * 1600,
    "9" * 5000,
    "YES " + "9" * 1596,
    "yes 0." + "0" * 1500 + "1",
    "yes 1." + "9" * 1500,
    "4" + "0" * 1599,
    "0" * 1599 + "4",
    "yes 1e309",
    "yes 1e3",
    "yes 1E-3",
    "yes 2e0",
    "yes nan",
    "yes NaN",
    "yes inf",
    "yes -inf",
    "yes Infinity",
    "yes -0",
    "yes -1",
    "yes +1",
    "yes 0x10",
    "yes 0b11",
    "yes 1_000",
    "YES 1.5.5",
    "yes 1..5",
    "yes .5",
    "yes 5.",
    "yes 0.001",
    "yes 0.004",
    "yes 0.005",
    "yes 24.004",
    "yes 24.005",
    "yes 1440 mins",
    "yes 1441 mins",
    "yes 0 mins",
    "yes 1 min",
    "yes 0.1 min",
    "yes at 3pm",
    "yes 2nd",
    "yes 10:30",
    "yes 2 hours",
    "Yes,2 hours",
    "Yes.1.5",
    "yes,.5",
    "Yes, half an hour",
    "yes an hour and a half",
    "yes 4 o'clock",
    "%s",
    "%(name)s",
    "yes %s",
    "{0}",
    "{}",
    "yes {0}",
    "{sender}",
    "\\N{THUMBS UP SIGN}",
    "\\x00",
    "\\u202e",
    "yes\\",
    "'; DROP TABLE matching_session; --",
    "<script>alert(1)</script>",
    "null",
    "None",
    "undefined",
    "true",
    "0",
    "-1",
    "1",
    "2",
    "3",
    "5",
    "6",
    "7",
    "3.5",
    "3,5",
    "2-3",
    "2 - 3",
    "2 to 3",
    "2 or 3",
    "4 or 5",
    "two or three",
    "(five)",
    "3/5",
    "3/10",
    "3/" + "9" * 1500,
    "1/" + "0" * 1500 + "5",
    "3 out of 5",
    "five",
    "FIVE",
    "five!",
    "-five",
    "—five",
    "one and a half",
    "ＹＥＳ",
    "ｙｅｓ",
    "ｎｏ",
    "YES",
    "NO",
    "Yes!",
    "No.",
    "no 2",
    "yes no",
    "no yes",
    "yes but no",
    "sorry",
    "sorry yes",
    "can",
    "can not",
    "cannot",
    "can't",
    "can\u2019t",
    "can`t",
    "STOP",
    "stop",
    "s\u200btop",
    "ＳＴＯＰ",
    "CANCEL",
    "START",
    "HELP",
    "INFO",
    "yes " * 400,
    "no " * 533,
    "👍" * 800,
    "\u0301" * 1600,
    "y" + "\u0301" * 1599,
    "İ",
    "\u212a",  # KELVIN SIGN, which lower() makes a plain k
    "o\u212a",
    "ß",
    "yes\r\n2",
    "\r\r\r",
]

PIECES = [
    "yes",
    "YES",
    "y",
    "Y",
    "no",
    "N",
    "ok",
    "nope",
    "can't",
    "sorry",
    "👍",
    "👍🏾",
    "\u200d",
    "\u200b",
    "\u202e",
    "\u2066",
    "\x00",
    "\x1b",
    "\r",
    "\n",
    "\t",
    " ",
    ".",
    ",",
    "-",
    "/",
    "%s",
    "{0}",
    "\\N{THUMBS UP SIGN}",
    "0",
    "1",
    "1.5",
    "2",
    "5",
    "7",
    "24",
    "25",
    "9" * 40,
    "e309",
    "nan",
    "inf",
    "0x10",
    "１",
    "٣",
    "²",
    "½",
    "mins",
    "hours",
    "hrs",
    "out of",
    "five",
    "two",
]

# Everything but lone surrogates, which no text message can carry.
ANY_CHARACTER = st.characters(exclude_categories=["Cs"])
ODD_CHARACTERS = st.characters(
    categories=["Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Me", "Nd", "No", "Nl", "So", "Sk"]
)
bodies = st.one_of(
    st.text(ANY_CHARACTER, max_size=40),
    st.text(ANY_CHARACTER, max_size=messaging.MAX_RECEIVED_CHARACTERS),
    st.text(st.one_of(ODD_CHARACTERS, st.sampled_from("yesnoYN0123456789.,")), max_size=30),
    st.lists(st.sampled_from(PIECES), max_size=8).map("".join),
    st.lists(st.sampled_from(PIECES), max_size=8).map(" ".join),
    st.tuples(
        st.sampled_from(["yes ", "YES ", "y ", "Yes, ", "no ", ""]),
        st.one_of(
            st.integers().map(str),
            st.floats().map(str),
            st.decimals().map(str),
            st.fractions().map(str),
            st.text(ODD_CHARACTERS, max_size=10),
            st.sampled_from(PIECES),
        ),
        st.sampled_from(["", " hours", " mins", "h", "!", " thanks 😀"]),
    ).map("".join),
    st.text(st.sampled_from(" \t\n\r\u00a0\u2002\u2003\u3000\u200b\ufeff"), max_size=50),
    st.sampled_from(NASTY),
)


def examples(default):
    """How many made-up bodies a test tries: the same ones every run (derandomized), enough
    to reach every outcome; FUZZ_EXAMPLES=500 make test goes deeper."""
    return int(os.environ.get("FUZZ_EXAMPLES", default))


def hostile(test):
    """Run `test` over the hand-picked bodies and made-up ones (about 20 seconds on SQLite
    for every kind of question)."""
    for body in NASTY:
        test = example(body=body)(test)
    return hypothesis_settings(
        max_examples=examples(100),
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )(given(body=bodies)(test))


# What a reply may change, and what may be texted back -------------------------------------


def keyword_outcome(body):
    """The topic messaging gives a keyword before any handler sees it, or None."""
    word = messaging.keyword(body)
    if word in messaging.OPT_OUT_WORDS:
        return "keyword.opt_out"
    if word in messaging.OPT_IN_WORDS:
        return "keyword.opt_in"
    if word in messaging.HELP_WORDS:
        return "keyword.help"
    return None


def ascii_words(body):
    """The words as the yes/no reader sees them: fullwidth letters read as plain ones."""
    body = unicodedata.normalize("NFKC", body)
    return re.findall(r"[a-z]+", body.lower().replace("'", "").replace("\u2019", ""))


def has_other_numerals(body):
    """Whether the body has a numeral that is not an ASCII digit ("１", "٣", "²", "½", "Ⅳ")."""
    return any(
        unicodedata.category(character).startswith("N") and character not in "0123456789"
        for character in body
    )


class Received:
    """One body received as messaging receives a text, with what it left behind."""

    def __init__(self, phone, body, *, caplog, outbox, queue, capture):
        before = len(outbox)
        caplog.clear()
        with caplog.at_level(logging.INFO), capture(execute=True):
            reply, _ = messaging.receive(
                sid="SM" + uuid.uuid4().hex,
                from_number=phone,
                to_number=OFFICE_NUMBER,
                body=body,
            )
        reply.refresh_from_db()
        self.words = messaging.received_words(body)  # as they are kept
        self.reply = reply
        self.answers = [text["body"] for text in outbox[before:]]
        self.errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
        self.cut_short = len(body) > messaging.MAX_RECEIVED_CHARACTERS

    def assert_no_handler_failed(self):
        assert self.errors == [], [record.getMessage() for record in self.errors]
        if not self.cut_short:
            assert self.reply.topic != "reply", "acting on the reply failed"

    def assert_answers_fit(self, allowed):
        for answer in self.answers:
            assert answer in allowed, answer
            assert count_segments(answer).count <= 2, answer

    def assert_left_for_the_coordinator(self, topic, question):
        """Nothing read: the reply is in the coordinator's inbox, the question still open."""
        assert self.reply.needs_attention
        question.refresh_from_db()
        if self.cut_short:  # no person's text: kept, not acted on, not answered
            assert self.reply.topic == "reply"
            assert "characters long" in self.reply.error
            assert self.answers == []
            return
        assert self.reply.topic == topic
        assert question.question_open
        assert question.answered_by is None
        assert self.answers == [messaging_texts.not_understood_text()]

    def assert_answered(self, topic, question, answer):
        assert not self.reply.needs_attention
        assert self.reply.topic == topic
        question.refresh_from_db()
        assert not question.question_open
        assert question.answered_by == self.reply
        assert self.answers == [answer]


def receive_rolled_back(check, **kwargs):
    """Receive a body and check what it did, then undo it all for the next example."""
    note(f"body={kwargs['body']!r}")
    with transaction.atomic():
        check(Received(**kwargs))
        transaction.set_rollback(True)


def assert_constraints_hold():
    for session in Session.objects.all():
        session.validate_constraints()
        assert session.hours is None or Decimal("0") < session.hours <= 24
    for check_in in WellbeingCheckIn.objects.all():
        check_in.validate_constraints()


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.SMS_SENDER_NAME = "PeerPath"
    settings.SMS_QUIET_HOURS = "21:00-08:00"
    settings.WELLBEING_CHECK_IN_DAY = "monday"
    settings.WELLBEING_CHECK_IN_TIME = "10:00"
    settings.WELLBEING_REPLY_HOURS = 8
    settings.PUBLIC_BASE_URL = PUBLIC_BASE_URL
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_FROM_NUMBER = OFFICE_NUMBER


@pytest.fixture
def receiving(caplog, outbox, queue, django_capture_on_commit_callbacks):
    def receive(check, phone, body):
        receive_rolled_back(
            check,
            phone=phone,
            body=body,
            caplog=caplog,
            outbox=outbox,
            queue=queue,
            capture=django_capture_on_commit_callbacks,
        )

    return receive


# The session reminder -----------------------------------------------------------------------


@pytest.fixture
def reminded(time_machine, run_passes):
    """A session five hours ahead whose volunteer has just been sent the reminder."""
    time_machine.move_to(NOW, tick=False)
    session = texted_session(NOW + 5 * HOUR)
    run_passes()
    session.refresh_from_db()
    assert session.reminder.question_open
    return session


@hostile
def test_any_reply_to_a_reminder_confirms_declines_or_reaches_the_coordinator(
    reminded, receiving, body
):
    allowed = {
        texts.confirmed_text(starts_at=reminded.starts_at),
        texts.declined_text(),
        messaging_texts.not_understood_text(),
        messaging_texts.help_text(),
    }

    def check(received):
        sent = received.words
        received.assert_no_handler_failed()
        received.assert_answers_fit(allowed)
        assert_constraints_hold()
        session = Session.objects.get(pk=reminded.pk)
        question = session.reminder
        words = ascii_words(sent)
        if not received.cut_short and keyword_outcome(sent):
            assert received.reply.topic == keyword_outcome(sent)
            assert session.status == Status.SCHEDULED
        elif session.status == Status.CONFIRMED:
            assert "👍" in sent or {"yes", "y", "yeah", "yep", "ok", "okay", "sure"} & set(words)
            assert session.confirmed_at == NOW
            received.assert_answered(
                "reply.session.reminder", question, texts.confirmed_text(starts_at=NOW + 5 * HOUR)
            )
        elif session.status == Status.DECLINED:
            assert {"no", "n", "nope", "nah", "cant", "cannot", "not"} & set(words)
            assert FollowUp.objects.filter(kind=Kind.SESSION_DECLINED, session=session).exists()
            received.assert_answered("reply.session.reminder", question, texts.declined_text())
        else:
            assert session.status == Status.SCHEDULED
            assert not FollowUp.objects.filter(session=session).exists()
            received.assert_left_for_the_coordinator("reply.session.reminder", question)
            if not received.cut_short:
                assert received.reply.context["session_id"] == session.pk

    receiving(check, reminded.match.volunteer.phone, body)


# The after-session check-in -----------------------------------------------------------------


@pytest.fixture
def checked_in(time_machine, run_passes):
    """A two-hour session that ended two hours ago, whose volunteer was just asked."""
    time_machine.move_to(NOW, tick=False)
    session = texted_session(NOW - 4 * HOUR, hours=2)
    run_passes()
    session.refresh_from_db()
    assert session.check_in.question_open
    return session


def hours_stated(body):
    """Every number of hours an ASCII number in the body could mean, as hours or minutes,
    rounded as the session's hours are."""
    cents = Decimal("0.01")
    meant = set()
    # A comma or full stop straight after a word ("Yes,2") is punctuation, not a decimal point.
    for number in re.findall(r"(?<!\S)[.,][0-9]+|[0-9]+(?:[.,][0-9]+)?", body):
        value = Decimal(number.replace(",", "."))
        meant |= {
            value.quantize(cents, rounding=ROUND_HALF_UP),
            (value / 60).quantize(cents, rounding=ROUND_HALF_UP),
        }
    return meant


@hostile
def test_any_reply_to_a_check_in_completes_it_records_a_no_show_or_reaches_the_coordinator(
    checked_in, receiving, body
):
    def check(received):
        sent = received.words
        received.assert_no_handler_failed()
        session = Session.objects.get(pk=checked_in.pk)
        allowed = {
            texts.no_show_text(),
            messaging_texts.not_understood_text(),
            messaging_texts.help_text(),
        }
        if session.hours is not None:
            allowed.add(texts.hours_recorded_text(hours=session.hours))
        received.assert_answers_fit(allowed)
        assert_constraints_hold()
        question = session.check_in
        words = ascii_words(sent)
        if not received.cut_short and keyword_outcome(sent):
            assert received.reply.topic == keyword_outcome(sent)
            assert session.status == Status.SCHEDULED
        elif session.status == Status.COMPLETED:
            assert "👍" in sent or {"yes", "y", "yeah", "yep", "ok", "okay", "sure"} & set(words)
            assert Decimal("0") < session.hours <= 24
            assert session.hours == session.hours.quantize(Decimal("0.01"))
            # The hours are the scheduled two, or what the volunteer wrote, in ASCII digits.
            assert not has_other_numerals(sent)
            if re.search(r"[0-9]", sent):
                assert session.hours in hours_stated(sent), session.hours
            else:
                assert not {"hour", "hours", "hrs", "mins", "minutes", "half"} & set(words)
                assert session.hours == Decimal("2.00")
            received.assert_answered(
                "reply.session.check_in",
                question,
                texts.hours_recorded_text(hours=session.hours),
            )
        elif session.status == Status.NO_SHOW:
            assert {"no", "n", "nope", "nah", "cant", "cannot", "not"} & set(words)
            assert session.hours is None
            assert FollowUp.objects.filter(kind=Kind.NO_SHOW, session=session).exists()
            received.assert_answered("reply.session.check_in", question, texts.no_show_text())
        else:
            assert session.status == Status.SCHEDULED
            assert session.hours is None
            assert not FollowUp.objects.filter(session=session).exists()
            received.assert_left_for_the_coordinator("reply.session.check_in", question)
            if not received.cut_short:
                assert received.reply.context["session_id"] == session.pk

    receiving(check, checked_in.match.volunteer.phone, body)


# The wellbeing check-in ---------------------------------------------------------------------

NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}


@pytest.fixture
def asked(time_machine, run_passes):
    """Senga, asked how she is this Monday at 10:00, answering an hour later."""
    time_machine.move_to(MONDAY, tick=False)
    volunteer = VolunteerFactory(sms_consent=True, wellbeing_opt_in=True, preferred_name="Senga")
    run_passes()
    check_in = WellbeingCheckIn.objects.get(volunteer=volunteer)
    assert check_in.question.question_open
    time_machine.move_to(MONDAY + HOUR, tick=False)
    return check_in


@hostile
def test_any_answer_to_a_wellbeing_check_in_records_a_score_or_reaches_the_coordinator(
    asked, receiving, body
):
    allowed = {
        texts.wellbeing_thanks_text(),
        texts.wellbeing_low_text(),
        messaging_texts.not_understood_text(),
        messaging_texts.help_text(),
    }

    def check(received):
        sent = received.words
        received.assert_no_handler_failed()
        received.assert_answers_fit(allowed)
        assert_constraints_hold()
        check_in = WellbeingCheckIn.objects.get(pk=asked.pk)
        low = FollowUp.objects.filter(kind=Kind.WELLBEING_LOW)
        if not received.cut_short and keyword_outcome(sent):
            assert received.reply.topic == keyword_outcome(sent)
            assert check_in.score is None
        elif check_in.score is not None:
            assert 1 <= check_in.score <= 5
            # The reply starts with its score, and has no other number but "out of 5".
            start = sent.strip().lower()
            assert start.startswith(str(check_in.score)) or any(
                start.startswith(word) and score == check_in.score
                for word, score in NUMBER_WORDS.items()
            )
            assert not has_other_numerals(sent)
            rest = re.sub(r"(/|out of)\s*5(?![0-9])", "", start, count=1)
            numbers = re.findall(r"[0-9]+", rest)
            assert len(numbers) + len(set(ascii_words(sent)) & set(NUMBER_WORDS)) == 1
            assert (check_in.answered_at, check_in.reply) == (MONDAY + HOUR, received.reply)
            if check_in.score <= 2:
                assert low.get().volunteer_id == check_in.volunteer_id
                answer = texts.wellbeing_low_text()
            else:
                assert not low.exists()
                answer = texts.wellbeing_thanks_text()
            received.assert_answered("reply.wellbeing.check_in", check_in.question, answer)
        else:
            assert check_in.answered_at is None
            assert not low.exists()
            received.assert_left_for_the_coordinator("reply.wellbeing.check_in", check_in.question)
            if not received.cut_short:
                assert received.reply.context["wellbeing_check_in_id"] == check_in.pk

    receiving(check, asked.volunteer.phone, body)


# Through the real webhook -------------------------------------------------------------------


@hypothesis_settings(
    max_examples=examples(40),
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
@given(body=st.one_of(st.sampled_from(NASTY), bodies))
def test_any_signed_reply_to_a_check_in_is_heard_never_a_server_error(
    checked_in, client, caplog, queue, django_capture_on_commit_callbacks, body
):
    params = inbound_params(body, From=str(checked_in.match.volunteer.phone))
    with transaction.atomic():
        caplog.clear()
        with caplog.at_level(logging.INFO), django_capture_on_commit_callbacks(execute=True):
            response = post_signed(client, "inbound", params)
        assert response.status_code in {200, 413}, response.content
        if response.status_code == 200:
            reply = Message.objects.inbound().get(twilio_sid=params["MessageSid"])
            errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
            assert errors == [], [record.getMessage() for record in errors]
            assert reply.topic != "reply" or reply.error
            assert_constraints_hold()
        transaction.set_rollback(True)


# What the bodies above found: each reading, once, as the volunteer meets it -----------------


def assert_check_in_left_open(session, reply, outbox):
    session.refresh_from_db()
    assert (session.status, session.hours) == (Status.SCHEDULED, None)
    assert reply.needs_attention
    assert reply.context["session_id"] == session.pk
    assert session.check_in.question_open  # a clear answer may still come
    assert outbox[-1]["body"] == messaging_texts.not_understood_text()


@pytest.mark.parametrize(
    "body",
    ["yes １", "YES １.５", "yes ٣", "yes 1٣", "yes ½", "yes 1½", "yes Ⅱ", "yes ²", "yes 1²"],
)
def test_hours_in_other_numerals_reach_the_coordinator_and_are_never_guessed(
    checked_in, text_in, outbox, body
):
    """They were read as ASCII digits ("٣" as 3, "1٣" as 13), or passed over, so that "yes ½"
    recorded the scheduled two hours and "yes 1½" one."""
    reply = text_in(checked_in.match.volunteer.phone, body)
    assert_check_in_left_open(checked_in, reply, outbox)


@pytest.mark.parametrize("body", ["yes -1", "yes +1", "Yes \N{MINUS SIGN}2"])
def test_hours_with_a_sign_reach_the_coordinator(checked_in, text_in, outbox, body):
    """ "yes -1" recorded one hour."""
    reply = text_in(checked_in.match.volunteer.phone, body)
    assert_check_in_left_open(checked_in, reply, outbox)


@pytest.mark.parametrize("body", ["yes at 3pm", "Yes, 3 pm", "yes 4 o'clock", "yes, my 2nd one"])
def test_a_number_that_is_no_length_reaches_the_coordinator(checked_in, text_in, outbox, body):
    """A time of day or an ordinal was recorded as the session's hours."""
    reply = text_in(checked_in.match.volunteer.phone, body)
    assert_check_in_left_open(checked_in, reply, outbox)


@pytest.mark.parametrize(
    "body", ["Yes, half an hour", "yes an hour and a half", "Yes about an hour"]
)
def test_a_length_in_words_reaches_the_coordinator(checked_in, text_in, outbox, body):
    """A length written in words was passed over, and the scheduled two hours recorded."""
    reply = text_in(checked_in.match.volunteer.phone, body)
    assert_check_in_left_open(checked_in, reply, outbox)


@pytest.mark.parametrize(
    ("body", "hours"), [("Yes,2 hours", "2.00"), ("Yes.1.5", "1.50"), ("yes,3hrs", "3.00")]
)
def test_a_comma_or_full_stop_after_yes_is_no_decimal_point(
    checked_in, text_in, outbox, body, hours
):
    """ "Yes,2 hours" recorded 0.2 hours."""
    text_in(checked_in.match.volunteer.phone, body)
    checked_in.refresh_from_db()
    assert (checked_in.status, checked_in.hours) == (Status.COMPLETED, Decimal(hours))
    assert outbox[-1]["body"] == texts.hours_recorded_text(hours=Decimal(hours))


def test_a_nul_in_a_text_is_dropped_before_it_is_stored_or_read(reminded, text_in):
    """Whoever hands messaging a text: PostgreSQL refuses a NUL, and it is no word."""
    reply = text_in(reminded.match.volunteer.phone, "y\x00es\x00")
    assert reply.body == "yes"
    reminded.refresh_from_db()
    assert reminded.status == Status.CONFIRMED


@pytest.mark.parametrize("body", ["yes " + "9" * 5000, "yes 0.00000001", "yes 1e3", "yes 2E0"])
def test_numbers_longer_than_any_length_or_with_an_exponent_are_unreadable(body):
    with pytest.raises(replies.UnreadableHours):
        replies.hours_in(body)


@pytest.mark.parametrize(
    "body",
    ["4½", "3²", "2 or 3", "4 or 5", "two or three", "one and a half", "5, or 4 really", "—five"],
)
def test_a_wellbeing_answer_with_more_than_its_score_reaches_the_coordinator(
    asked, text_in, outbox, body
):
    """ "4½" was read as 4, "2 or 3" as 2, "one and a half" as 1."""
    reply = text_in(asked.volunteer.phone, body)
    asked.refresh_from_db()
    assert asked.score is None
    assert reply.needs_attention
    assert reply.context["wellbeing_check_in_id"] == asked.pk
    assert asked.question.question_open
    assert outbox[-1]["body"] == messaging_texts.not_understood_text()
    assert not FollowUp.objects.filter(kind=Kind.WELLBEING_LOW).exists()


@pytest.mark.parametrize(
    ("body", "score"), [("4 out of 5", 4), ("3/5!", 3), ("Two, rough week", 2)]
)
def test_a_score_out_of_five_or_in_words_is_still_read(asked, text_in, body, score):
    text_in(asked.volunteer.phone, body)
    asked.refresh_from_db()
    assert asked.score == score


@pytest.mark.parametrize("body", ["1" * 5000, "3/" + "5" * 5000])
def test_a_wellbeing_reader_given_thousands_of_digits_reads_no_score(body):
    """int() refuses strings of over 4,300 digits: only messaging's cut of long texts kept
    this from failing the handler."""
    assert wellbeing.read_score(body) is None
