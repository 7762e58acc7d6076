"""The follow-ups the schedule finds by itself: texts that need a person (a reply nobody
could read, a text that never arrived) and training or PVG running out or lapsed; and the
volunteer's own text, once per expiry, a month ahead."""

import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from matching import follow_ups, services, texts
from matching.follow_ups import Kind, Urgency
from matching.models import FollowUp
from messaging import backends
from messaging import services as messaging
from messaging.models import Message
from messaging.segments import count_segments
from tests.factories import (
    MatchFactory,
    PeerFactory,
    TrainingRecordFactory,
    UserFactory,
    VolunteerFactory,
    course,
    fully_trained,
)
from tests.matching.conftest import NOW, UTC, texted_session
from volunteers.models import Course

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 11, 23)


@pytest.fixture(autouse=True)
def _now(time_machine):
    time_machine.move_to(NOW, tick=False)


def open_follow_ups(**filters):
    return list(FollowUp.objects.open().filter(**filters).order_by("pk"))


def sent_text(phone, body="PeerPath: your session with Sam is Wed 25 Nov at 14:00.", **options):
    """A text sent to `phone` through the outbox, as the locmem backend delivers it."""
    message = messaging.send_sms(phone, body, topic=options.pop("topic", "test"), **options)
    messaging.deliver(message.pk)
    message.refresh_from_db()
    return message


def not_delivered(message, *, code=30003):
    messaging.apply_delivery_status(
        sid=message.twilio_sid, provider_status="undelivered", error_code=code
    )
    message.refresh_from_db()
    return message


# Withdrawn texts and failed texts ---------------------------------------------------------


def test_a_reminder_withdrawn_before_it_went_is_not_a_failure_and_needs_nobody(
    run_passes, time_machine, settings
):
    settings.SMS_QUIET_HOURS = "21:00-08:00"
    time_machine.move_to(datetime.datetime(2026, 11, 23, 22, 0, tzinfo=UTC), tick=False)
    session = texted_session(datetime.datetime(2026, 11, 24, 14, 0, tzinfo=UTC))
    run_passes()  # the reminder waits for the morning
    session.refresh_from_db()
    reminder = session.reminder
    assert reminder.status == Message.Status.QUEUED

    services.reschedule_session(
        session,
        starts_at=datetime.datetime(2026, 11, 27, 14, 0, tzinfo=UTC),
        ends_at=datetime.datetime(2026, 11, 27, 15, 0, tzinfo=UTC),
    )
    run_passes()

    reminder.refresh_from_db()
    assert reminder.status == Message.Status.WITHDRAWN
    assert reminder.get_status_display() == "Not sent (no longer needed)"
    assert not reminder.needs_attention
    assert not FollowUp.objects.filter(kind=Kind.FAILED_TEXT).exists()


def test_a_text_that_was_not_delivered_needs_attention_and_raises_one_follow_up(run_passes, queue):
    volunteer = VolunteerFactory(full_name="Senga MacLeod")
    lost = not_delivered(sent_text(volunteer.phone))

    assert lost.needs_attention
    for _ in range(3):
        run_passes()

    [follow_up] = open_follow_ups(kind=Kind.FAILED_TEXT)
    assert follow_up.message == lost
    assert follow_up.volunteer == volunteer
    assert follow_up.urgency == Urgency.SOON
    assert follow_up.summary.startswith(
        f"Text to Senga MacLeod ({volunteer.phone.as_national}) was not delivered ("
    )
    assert "“PeerPath: your session with Sam is Wed 25 Nov at 14:00.”" in follow_up.summary


def test_a_text_the_provider_refused_for_good_is_a_failed_text(queue, monkeypatch):
    volunteer = VolunteerFactory()

    def refuse(self, message):
        raise backends.SendFailed("Not a mobile number", code=21614, transient=False)

    monkeypatch.setattr(backends.LocmemBackend, "send", refuse)
    failed = sent_text(volunteer.phone)

    assert failed.status == Message.Status.FAILED
    assert failed.needs_attention
    follow_ups.raise_for_texts()
    [follow_up] = open_follow_ups()
    assert follow_up.kind == Kind.FAILED_TEXT
    assert "failed (Not a mobile number)" in follow_up.summary


@pytest.mark.parametrize("how", ["refused", "not delivered"])
def test_a_sign_in_code_that_never_arrived_needs_nobody(queue, sign_in_code_text, how):
    code = sign_in_code_text("failed" if how == "refused" else "sent")
    if how == "not delivered":
        not_delivered(code)

    assert not code.needs_attention
    follow_ups.raise_for_texts()
    assert not FollowUp.objects.exists()


def test_a_text_about_a_session_today_is_urgent_and_names_the_session(run_passes, outbox):
    session = texted_session(NOW + datetime.timedelta(hours=20))
    run_passes()
    session.refresh_from_db()
    not_delivered(session.reminder)

    run_passes()

    [follow_up] = open_follow_ups(kind=Kind.FAILED_TEXT)
    assert (follow_up.session, follow_up.volunteer) == (session, session.match.volunteer)
    assert follow_up.urgency == Urgency.URGENT


def test_a_reply_nobody_could_read_raises_a_follow_up_quoting_its_beginning(text_in):
    volunteer = VolunteerFactory(full_name="Senga MacLeod")
    words = "Can we make it Thursday instead, my daughter has a hospital appointment on Wed"
    reply = text_in(str(volunteer.phone), words)
    assert reply.needs_attention

    follow_ups.raise_for_texts()
    follow_ups.raise_for_texts()

    [follow_up] = open_follow_ups()
    assert follow_up.kind == Kind.UNREADABLE_REPLY
    assert (follow_up.message, follow_up.volunteer) == (reply, volunteer)
    quoted = words[:60].rstrip()
    assert follow_up.summary == (
        f"Reply from Senga MacLeod ({volunteer.phone.as_national}) not understood: "
        f"“{quoted}…”. Read and answer it."
    )


def test_a_reply_from_a_peer_or_an_unknown_number_says_so(text_in):
    peer = PeerFactory(preferred_name="Jamie")
    text_in(str(peer.phone), "who is this")
    text_in("+447700900999", "hello?")

    follow_ups.raise_for_texts()

    summaries = [f.summary for f in open_follow_ups()]
    assert summaries[0].startswith(f"Reply from Jamie, a peer ({peer.phone.as_national})")
    assert summaries[1].startswith("Reply from 07700 900999 not understood")
    assert all(f.volunteer is None for f in open_follow_ups())


def test_a_text_handled_in_the_inbox_closes_its_follow_up(text_in):
    reply = text_in("+447700900999", "hello?")
    follow_ups.raise_for_texts()
    coordinator = UserFactory()

    messaging.mark_handled(reply, note="Phoned them", by=coordinator)
    result = follow_ups.raise_for_texts()

    assert result["closed"] == 1
    follow_up = FollowUp.objects.get()
    reply.refresh_from_db()
    assert follow_up.handled_note == "Handled in the inbox"
    assert follow_up.handled_at == reply.handled_at
    assert follow_ups.raise_for_texts() == {"raised": 0, "closed": 0}


def test_sending_a_failed_text_again_handles_it_and_closes_its_follow_up(queue):
    lost = not_delivered(sent_text(VolunteerFactory().phone))
    follow_ups.raise_for_texts()

    again = messaging.resend(lost)
    follow_ups.raise_for_texts()

    lost.refresh_from_db()
    assert not lost.needs_attention
    assert lost.handled_note == f"Sent again as text {again.pk}"
    assert FollowUp.objects.get().handled_note == "Handled in the inbox"


def test_handling_the_follow_up_takes_its_text_out_of_the_inbox(text_in):
    reply = text_in("+447700900999", "hello?")
    follow_ups.raise_for_texts()
    coordinator = UserFactory(name="Morag Dunn")

    follow_up = follow_ups.handle_follow_up(
        FollowUp.objects.get(), by=coordinator, note="Wrong number; nothing to do."
    )

    reply.refresh_from_db()
    assert not reply.needs_attention
    assert reply.handled_note == (
        f"Handled as follow-up {follow_up.pk}: Wrong number; nothing to do. ({coordinator})"
    )
    assert reply.pk not in set(
        Message.objects.inbound().filter(needs_attention=True).values_list("pk", flat=True)
    )
    # And the pass leaves the follow-up's own note as it was.
    follow_ups.raise_for_texts()
    follow_up.refresh_from_db()
    assert follow_up.handled_note == "Wrong number; nothing to do."


def test_a_follow_up_refused_leaves_its_text_in_the_inbox(text_in):
    reply = text_in("+447700900999", "hello?")
    follow_ups.raise_for_texts()

    with pytest.raises(Exception, match="2,000"):
        follow_ups.handle_follow_up(FollowUp.objects.get(), note="x" * 2001)

    reply.refresh_from_db()
    assert reply.needs_attention


def test_the_text_pass_makes_the_same_queries_for_one_text_or_forty(text_in):
    def queries_of_a_pass():
        with CaptureQueriesContext(connection) as queries:
            follow_ups.raise_for_texts()
        return len(queries)

    text_in(str(VolunteerFactory().phone), "hmm")
    one = queries_of_a_pass()
    for number in range(40):
        text_in(str(VolunteerFactory().phone), f"what {number}")
    forty = queries_of_a_pass()

    assert FollowUp.objects.count() == 41
    assert forty == one
    assert queries_of_a_pass() <= one


# Training and PVG ---------------------------------------------------------------------------


def with_pvg(volunteer, *, expires_on, completed_on=None):
    """A volunteer with every required course current, and their PVG running out then."""
    fully_trained(volunteer)
    record = volunteer.training_records.get(course=course("PVG"))
    record.completed_on = completed_on or datetime.date(2022, 1, 10)
    record.expires_on = expires_on
    record.save()
    return record


def texted_volunteer(**fields):
    fields.setdefault("sms_consent", True)
    fields.setdefault("full_name", "Senga MacLeod")
    return VolunteerFactory(**fields)


def training_texts():
    return list(Message.objects.filter(topic=follow_ups.TRAINING_TOPIC).order_by("pk"))


def test_pvg_running_out_within_30_days_raises_a_follow_up_and_texts_the_volunteer_once(
    outbox, queue, django_capture_on_commit_callbacks
):
    volunteer = texted_volunteer()
    record = with_pvg(volunteer, expires_on=datetime.date(2026, 12, 20))

    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            follow_ups.raise_for_training()

    [follow_up] = open_follow_ups()
    assert follow_up.kind == Kind.TRAINING_EXPIRING
    assert follow_up.urgency == Urgency.SOON
    assert follow_up.volunteer == volunteer
    assert follow_up.summary == (
        "Senga MacLeod's PVG scheme membership (Disclosure Scotland) runs out on "
        "20 Dec 2026: arrange the renewal."
    )
    [text] = training_texts()
    assert text.idempotency_key == f"training.expiring:{record.pk}:2026-12-20"
    assert [sent["body"] for sent in outbox] == [
        "PeerPath: your PVG scheme membership (Disclosure Scotland) expires on 20 Dec 2026. "
        "The office will be in touch to renew it."
    ]
    assert outbox[0]["to"] == str(volunteer.phone)


def test_training_further_off_than_30_days_raises_nothing(outbox, queue):
    with_pvg(texted_volunteer(), expires_on=TODAY + datetime.timedelta(days=31))

    follow_ups.raise_for_training()

    assert not FollowUp.objects.exists()
    assert training_texts() == []


def test_a_renewal_already_recorded_means_nothing_is_running_out(queue):
    volunteer = texted_volunteer()
    with_pvg(volunteer, expires_on=datetime.date(2026, 12, 20))
    TrainingRecordFactory(
        volunteer=volunteer, course=course("PVG"), completed_on=datetime.date(2026, 11, 1)
    )

    follow_ups.raise_for_training()

    assert not FollowUp.objects.exists()
    assert training_texts() == []


def test_the_text_goes_once_per_expiry_and_again_for_the_next_one(queue, time_machine):
    volunteer = texted_volunteer()
    record = with_pvg(volunteer, expires_on=datetime.date(2026, 12, 20))
    follow_ups.raise_for_training()
    time_machine.move_to(datetime.datetime(2026, 12, 10, 12, tzinfo=UTC), tick=False)
    follow_ups.raise_for_training()
    assert len(training_texts()) == 1

    # Renewed, and five years on it runs out again: a new expiry, a new text.
    renewal = TrainingRecordFactory(
        volunteer=volunteer, course=course("PVG"), completed_on=datetime.date(2026, 12, 10)
    )
    time_machine.move_to(datetime.datetime(2031, 11, 20, 12, tzinfo=UTC), tick=False)
    for other in Course.objects.filter(required_for_matching=True).exclude(code="PVG"):
        TrainingRecordFactory(
            volunteer=volunteer, course=other, completed_on=datetime.date(2031, 11, 1)
        )
    follow_ups.raise_for_training()

    keys = [text.idempotency_key for text in training_texts()]
    assert keys == [
        f"training.expiring:{record.pk}:2026-12-20",
        f"training.expiring:{renewal.pk}:2031-12-10",
    ]


def test_in_quiet_hours_the_volunteers_text_waits_for_morning(queue, time_machine, settings):
    settings.SMS_QUIET_HOURS = "21:00-08:00"
    time_machine.move_to(datetime.datetime(2026, 11, 23, 22, 30, tzinfo=UTC), tick=False)
    with_pvg(texted_volunteer(), expires_on=datetime.date(2026, 12, 20))

    follow_ups.raise_for_training()

    [text] = training_texts()
    assert text.status == Message.Status.QUEUED
    assert text.send_after == datetime.datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "fields",
    [{"sms_consent": False}, {"phone": None}, {"opted_out": True}],
    ids=["no consent", "no phone", "opted out"],
)
def test_a_volunteer_who_cannot_be_texted_gets_no_text_but_the_office_is_told(queue, fields):
    opted_out = fields.pop("opted_out", False)
    volunteer = texted_volunteer(**fields)
    if opted_out:
        messaging.record_opt_out(volunteer.phone, word="STOP")
    with_pvg(volunteer, expires_on=datetime.date(2026, 12, 20))

    follow_ups.raise_for_training()

    assert training_texts() == []
    assert [f.kind for f in open_follow_ups()] == [Kind.TRAINING_EXPIRING]


def test_lapsed_pvg_of_an_active_volunteer_supporting_someone_is_urgent(queue):
    volunteer = texted_volunteer()
    with_pvg(volunteer, expires_on=datetime.date(2026, 9, 14))
    MatchFactory(volunteer=volunteer, active=True)

    follow_ups.raise_for_training()
    follow_ups.raise_for_training()

    [follow_up] = open_follow_ups()
    assert follow_up.kind == Kind.TRAINING_LAPSED
    assert follow_up.urgency == Urgency.URGENT
    assert follow_up.summary == (
        "Senga MacLeod's PVG scheme membership (Disclosure Scotland) lapsed on 14 Sep 2026; "
        "they support 1 person: arrange it, or pause them."
    )
    assert training_texts() == []  # the text is a month's warning, not a reproach


def test_a_missing_course_is_lapsed_and_not_urgent_while_they_support_nobody(queue):
    volunteer = texted_volunteer()
    fully_trained(volunteer)
    volunteer.training_records.filter(course=course("NALOXONE")).delete()

    follow_ups.raise_for_training()

    [follow_up] = open_follow_ups()
    assert follow_up.kind == Kind.TRAINING_LAPSED
    assert follow_up.urgency == Urgency.SOON
    assert follow_up.cause.endswith(":missing")
    assert follow_up.summary == (
        "Senga MacLeod has no record of Naloxone administration: arrange it, or pause them."
    )


def test_only_active_volunteers_are_followed_up(queue):
    paused = texted_volunteer(status="paused")
    with_pvg(paused, expires_on=datetime.date(2026, 9, 14))

    follow_ups.raise_for_training()

    assert not FollowUp.objects.exists()


def test_a_follow_up_that_became_a_lapse_closes_and_the_lapse_is_raised(queue, time_machine):
    with_pvg(texted_volunteer(), expires_on=datetime.date(2026, 12, 20))
    follow_ups.raise_for_training()
    time_machine.move_to(datetime.datetime(2026, 12, 21, 12, tzinfo=UTC), tick=False)

    follow_ups.raise_for_training()

    expiring = FollowUp.objects.get(kind=Kind.TRAINING_EXPIRING)
    assert expiring.handled_note == follow_ups.LAPSED_SINCE
    [lapsed] = open_follow_ups()
    assert lapsed.kind == Kind.TRAINING_LAPSED


def test_recording_the_renewal_closes_the_follow_up(queue):
    volunteer = texted_volunteer()
    with_pvg(volunteer, expires_on=datetime.date(2026, 12, 20))
    follow_ups.raise_for_training()

    TrainingRecordFactory(
        volunteer=volunteer, course=course("PVG"), completed_on=datetime.date(2026, 11, 23)
    )
    result = follow_ups.raise_for_training()

    assert result["closed"] == 1
    assert FollowUp.objects.get().handled_note == follow_ups.RENEWED
    assert open_follow_ups() == []


def test_a_handled_lapse_is_not_raised_again(queue):
    with_pvg(texted_volunteer(), expires_on=datetime.date(2026, 9, 14))
    follow_ups.raise_for_training()
    follow_ups.handle_follow_up(FollowUp.objects.get(), note="Renewal applied for.")

    follow_ups.raise_for_training()

    assert FollowUp.objects.count() == 1
    assert open_follow_ups() == []


def test_the_training_pass_makes_the_same_queries_for_one_volunteer_or_thirty(queue):
    def queries_of_a_pass():
        with CaptureQueriesContext(connection) as queries:
            follow_ups.raise_for_training()
        return len(queries)

    with_pvg(texted_volunteer(), expires_on=datetime.date(2026, 12, 20))
    with_pvg(texted_volunteer(), expires_on=datetime.date(2026, 9, 1))
    follow_ups.raise_for_training()
    few = queries_of_a_pass()
    for day in range(30):
        with_pvg(texted_volunteer(), expires_on=datetime.date(2026, 12, 1 + day % 20))
        with_pvg(texted_volunteer(), expires_on=datetime.date(2026, 9, 1 + day))
    follow_ups.raise_for_training()  # their texts and follow-ups, once

    assert queries_of_a_pass() == few
    assert FollowUp.objects.open().count() == 62


def test_every_active_demo_volunteer_with_lapsed_or_expiring_training_gets_a_follow_up(
    queue, settings
):
    from django.core.management import call_command

    from volunteers.models import TrainingState, Volunteer

    settings.DEBUG = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("seed_demo", stdout=io.StringIO())
    follow_ups.raise_for_training()

    active = Volunteer.objects.filter(status=Volunteer.Status.ACTIVE)
    lapsed = set(active.in_training_state(TrainingState.LAPSED).values_list("pk", flat=True))
    expiring = set(active.in_training_state(TrainingState.EXPIRING).values_list("pk", flat=True))
    assert lapsed and expiring
    raised = FollowUp.objects.open()
    assert set(raised.filter(kind=Kind.TRAINING_LAPSED).values_list("volunteer", flat=True)) == (
        lapsed
    )
    assert expiring <= set(
        raised.filter(kind=Kind.TRAINING_EXPIRING).values_list("volunteer", flat=True)
    )


# The text ---------------------------------------------------------------------------------


def test_the_volunteers_text_is_one_segment_even_for_a_long_course_name():
    text = texts.training_expiring_text(
        course_name="Advanced " + "safeguarding and " * 20 + "protection",
        course_kind="course",
        expires_on=datetime.date(2027, 3, 3),
    )

    assert count_segments(text).count == 1
    assert "..." in text
    assert text.endswith("expires on 3 Mar 2027. The office will be in touch to renew it.")


@pytest.mark.parametrize(
    ("name", "kind", "said"),
    [
        ("PVG scheme membership (Disclosure Scotland)", "check", "your PVG scheme membership"),
        ("Child protection awareness", "course", "your Child protection awareness training"),
        ("Naloxone administration", "course", "your training course expires"),
        ("Recovery Orientated Systems of Care", "course", "your training course expires"),
    ],
)
def test_the_text_names_the_course_unless_the_name_tells_what_the_service_is_for(name, kind, said):
    text = texts.training_expiring_text(
        course_name=name, course_kind=kind, expires_on=datetime.date(2027, 3, 3)
    )

    assert said in text
    assert "ecovery" not in text and "aloxone" not in text
