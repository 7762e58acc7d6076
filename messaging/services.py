"""Sending and receiving texts: the outbox, delivery, opt-outs and replies.

`send_sms` (one text) and `send_many` (a schedule's pass: many at once, in a few queries)
only write rows; delivery happens in a task after the caller's transaction commits, and the
sweep picks up anything whose enqueue was lost or whose worker died.
"""

import logging
import random
import re
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from django_q.tasks import async_task

from community.phones import normalise_phone, to_phone
from community.plain_text import hidden_character_problem, without_hidden_characters
from messaging import replies, texts, throttle
from messaging.backends import SendFailed, get_backend
from messaging.models import HELP_TOPIC, NOT_UNDERSTOOD_TOPIC, SECRET, Message, OptOut, mask_of
from messaging.provider_errors import UNSUBSCRIBED
from messaging.quiet_hours import first_moment_allowed
from messaging.segments import count_segments

logger = logging.getLogger(__name__)

Status = Message.Status
# How a sent text ends when it never reached the phone: the coordinator is told.
NOT_DELIVERED = {Status.FAILED, Status.UNDELIVERED}
MAX_SEGMENTS = 10
# A reply repeating, within this long, the answer a number just gave is not asked about again.
REPEAT_WINDOW = timedelta(hours=12)
OPT_OUT_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
OPT_IN_WORDS = {"START", "UNSTOP"}
HELP_WORDS = {"HELP", "INFO"}
# The longest text Twilio delivers: 10 segments of 160 characters.
MAX_RECEIVED_CHARACTERS = 1600
MOBILE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


# Sending ---------------------------------------------------------------------------------


def textable_number(value):
    """The E.164 form of a number that can receive texts, or ValidationError saying why not."""
    e164 = normalise_phone(value)
    phone = to_phone(e164)
    if not phone.is_fictional and phonenumbers.number_type(phone) not in MOBILE_TYPES:
        raise ValidationError(
            f"{e164} is not a mobile number, so it cannot receive texts.", code="not_mobile"
        )
    return e164


def not_mobile(field):
    """A filter for rows whose number in `field` (E.164) `textable_number` refuses as not a
    mobile, so a query can tell who cannot be texted before anything is sent.

    UK numbers are told apart by their prefix, as the phonenumbers library's plan does: 07
    is mobile (Ofcom's drama range 07700 900xxx too) except 070, personal numbers, and 076,
    pagers, where 07624 is the Isle of Man's mobiles. A number from abroad is left to
    `textable_number` when the text is sent.
    """

    def starts(prefix):
        return Q(**{f"{field}__startswith": prefix})

    return (
        (starts("+44") & ~starts("+447")) | starts("+4470") | (starts("+4476") & ~starts("+447624"))
    )


def check_body(body):
    if not isinstance(body, str) or not body.strip():
        raise ValidationError("A text needs something to say: the body is empty.", code="empty")
    segments = count_segments(body)
    if segments.count > MAX_SEGMENTS:
        raise ValidationError(
            f"The text is {segments.count} SMS segments long ({segments.units} {segments.encoding} "
            f"characters); at most {MAX_SEGMENTS} are allowed.",
            code="too_long",
        )


@dataclass(frozen=True)
class OutgoingText:
    """One text for `send_many`: what `send_sms` takes for each text."""

    to: str
    body: str
    idempotency_key: str | None = None
    reply_handler: str | None = None
    context: dict | None = None
    send_after: datetime | None = None
    expires_at: datetime | None = None


@dataclass
class SentTexts:
    """What `send_many` did: for each text given, in order, its message (new, or the one its
    idempotency key already had), or None if it was refused; `refused` maps the position of
    each refused text to the ValidationError saying why; `new` lists the rows written."""

    messages: list
    refused: dict = field(default_factory=dict)
    new: list = field(default_factory=list)


def send_sms(
    to,
    body,
    *,
    topic,
    idempotency_key=None,
    reply_handler=None,
    context=None,
    send_after=None,
    expires_at=None,
    quiet_hours=True,
    despite_opt_out=False,
    attention_if_not_delivered=True,
):
    """Put a text in the outbox; it is sent once the caller's transaction commits.

    The same idempotency key twice returns the first message and sends nothing new. A number
    that opted out gets a `suppressed` row and no text, unless `despite_opt_out` (the answer
    to the number's own HELP, which it asked for). Inside quiet hours the text waits
    until they end, unless `quiet_hours=False`; `expires_at` is when the text is no longer
    worth sending (it is then never sent or retried). A text that fails or is not delivered
    needs the coordinator's attention, unless `attention_if_not_delivered=False` (a sign-in code:
    the person just asks for another). Bad input raises ValidationError.
    """
    text = OutgoingText(
        to=to,
        body=body,
        idempotency_key=idempotency_key,
        reply_handler=reply_handler,
        context=context,
        send_after=send_after,
        expires_at=expires_at,
    )
    sent = send_many(
        [text],
        topic=topic,
        quiet_hours=quiet_hours,
        despite_opt_out=despite_opt_out,
        attention_if_not_delivered=attention_if_not_delivered,
    )
    if sent.refused:
        raise sent.refused[0]
    return sent.messages[0]


def send_many(
    texts, *, topic, quiet_hours=True, despite_opt_out=False, attention_if_not_delivered=True
):
    """Put many texts in the outbox at once, by exactly `send_sms`'s rules, in a number of
    queries that does not grow with the texts: one for the idempotency keys already used,
    one for the opt-outs, one insert (SQLite, which limits a query's parameters, takes them in
    chunks). Returns SentTexts.

    A text that breaks a rule (a number that cannot take texts, an empty or too long body, an
    unknown reply handler, a secret not in its body) is skipped and reported in
    `SentTexts.refused`, so one bad number never holds back everyone else's text; a batch
    without a topic is refused whole. Delivery is enqueued once the caller's transaction
    commits: one task for every SMS_DELIVERY_BATCH texts due now, as each task claims a batch
    of due texts; the sweep sends whatever those tasks leave.
    """
    texts = list(texts)
    keys = {text.idempotency_key for text in texts if text.idempotency_key}
    existing = {message.idempotency_key: message for message in _with_keys(keys)}
    messages = [existing.get(text.idempotency_key) for text in texts]
    if not topic and None in messages:
        raise ValidationError("Every text needs a topic, e.g. session.reminder.", code="topic")
    now = timezone.now()
    refused = {}
    rows = []  # the new rows, one per text or per key given more than once
    row_of = {}  # a text's position -> its place in `rows`
    row_with_key = {}
    for index, text in enumerate(texts):
        if messages[index] is not None:
            continue
        if text.idempotency_key in row_with_key:  # as with send_sms twice: one message
            row_of[index] = row_with_key[text.idempotency_key]
            continue
        try:
            row = _outbox_row(
                text,
                topic=topic,
                now=now,
                quiet_hours=quiet_hours,
                despite_opt_out=despite_opt_out,
                attention_if_not_delivered=attention_if_not_delivered,
            )
        except ValidationError as refusal:
            refused[index] = refusal
            continue
        row_of[index] = len(rows)
        if text.idempotency_key:
            row_with_key[text.idempotency_key] = len(rows)
        rows.append(row)
    if not despite_opt_out:
        opted_out = _opted_out({row.to_number for row in rows})
        for row in rows:
            if row.to_number in opted_out:
                _suppress(row)
    new = _insert(rows)
    for index, position in row_of.items():
        messages[index] = rows[position]
    due = [m.pk for m in new if m.status == Status.QUEUED and m.send_after <= now]
    if due:
        transaction.on_commit(lambda: _enqueue_batches(due))
    return SentTexts(messages=messages, refused=refused, new=new)


def _enqueue_batches(message_ids):
    """One delivery task for every SMS_DELIVERY_BATCH texts: each claims its first text and
    the oldest other due texts up to a batch (see `deliver`)."""
    for message_id in message_ids[:: max(1, settings.SMS_DELIVERY_BATCH)]:
        enqueue_delivery(message_id)


def _outbox_row(text, *, topic, now, quiet_hours, despite_opt_out, attention_if_not_delivered):
    """The unsaved Message for one text, or ValidationError saying why it cannot go."""
    to_number = textable_number(text.to)
    check_body(text.body)
    if text.reply_handler and not replies.is_registered(text.reply_handler):
        raise ValidationError(f"No reply handler is registered as {text.reply_handler!r}.")
    send_after = max(text.send_after or now, now)
    if quiet_hours:
        send_after = first_moment_allowed(send_after)
    context = dict(text.context or {})
    body = text.body
    secret = context.get(SECRET)
    if secret:
        if not isinstance(secret, str) or secret not in body:
            raise ValidationError("A text's secret must be a part of its body.", code="secret")
        body = body.replace(secret, mask_of(secret))  # the stored body never holds it
    return Message(
        direction=Message.Direction.OUTBOUND,
        to_number=to_number,
        from_number=settings.TWILIO_FROM_NUMBER or "",
        body=body,
        topic=topic,
        status=Status.QUEUED,
        idempotency_key=text.idempotency_key or None,
        reply_handler=text.reply_handler or "",
        context=context,
        send_after=send_after,
        expires_at=text.expires_at,
        holds_in_quiet_hours=quiet_hours,
        despite_opt_out=despite_opt_out,
        attention_if_not_delivered=attention_if_not_delivered,
    )


def _suppress(message):
    message.status = Status.SUPPRESSED
    message.error = "The number has opted out of texts."
    _forget_secret(message)


def _in_chunks(values):
    """`values` in lists short enough for one query's parameters (SQLite limits them)."""
    values = list(values)
    size = connection.features.max_query_params or len(values) or 1
    return [values[start : start + size] for start in range(0, len(values), size)]


def _with_keys(keys):
    return [
        message
        for chunk in _in_chunks(keys)
        for message in Message.objects.filter(idempotency_key__in=chunk)
    ]


def _opted_out(phones):
    current = OptOut.objects.current()
    return {
        phone
        for chunk in _in_chunks(phones)
        for phone in current.filter(phone__in=chunk).values_list("phone", flat=True)
    }


def _insert(rows):
    """Write `rows`; returns those this call wrote. A row whose idempotency key another caller
    wrote at the same moment is replaced in `rows` by that caller's message."""
    if not rows:
        return []
    try:
        with transaction.atomic():
            return Message.objects.bulk_create(rows)
    except IntegrityError:
        pass
    new = []
    for position, row in enumerate(rows):
        row.pk = None
        try:
            with transaction.atomic():
                row.save(force_insert=True)
        except IntegrityError:
            if not row.idempotency_key:
                raise
            rows[position] = Message.objects.get(idempotency_key=row.idempotency_key)
            continue
        new.append(row)
    return new


def enqueue_delivery(message_id):
    """Hand a message to the task queue; if the queue is down the sweep sends it later."""
    try:
        async_task("messaging.tasks.deliver_message", message_id, group="sms")
    except Exception:
        logger.exception("Could not enqueue message %s; the sweep will send it.", message_id)


@transaction.atomic
def resend(message):
    """Send a failed text again as a new message with a new key; the failed one is then
    handled."""
    if message.direction != Message.Direction.OUTBOUND or message.status not in {
        Status.FAILED,
        Status.UNDELIVERED,
    }:
        from community.errors import StateConflict

        raise StateConflict(
            f"Only failed or undelivered texts can be sent again; this one is {message.status}.",
            code="not_failed",
        )
    again = send_sms(
        message.to_number,
        message.body,
        topic=message.topic,
        idempotency_key=f"resend:{message.pk}",
        reply_handler=message.reply_handler or None,
        context=message.context,
        attention_if_not_delivered=message.attention_if_not_delivered,
    )
    if message.needs_attention:
        # Sending it again is what the failure needed; the new text is chased if it fails too.
        mark_handled(message, note=f"Sent again as text {again.pk}")
    return again


# Delivery --------------------------------------------------------------------------------


def _lock(queryset):
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True)
    return queryset.select_for_update()


def _claim(first_id, *, batch=1):
    """Move due messages from queued to sending: `first_id` if it is still due, then others
    that are due, oldest first, up to `batch` in all. Rows another worker holds are skipped,
    so each message is claimed by one worker once. Returns the claimed messages."""
    now = timezone.now()
    first_wanted = Case(When(pk=first_id, then=Value(0)), default=Value(1))
    with transaction.atomic():
        due = Message.objects.due(now=now)
        if batch == 1:
            due = due.filter(pk=first_id)
        candidates = list(_lock(due.order_by(first_wanted, "send_after", "pk"))[:batch])
        if not candidates:
            return []
        opted_out = set(
            OptOut.objects.current()
            .filter(phone__in={message.to_number for message in candidates})
            .values_list("phone", flat=True)
        )
        allowed = first_moment_allowed(now)
        claimed = []
        for message in candidates:
            if message.expires_at and message.expires_at <= now:
                _finish(message, Status.FAILED, error="It expired before it could be sent.")
            elif message.to_number in opted_out and not message.despite_opt_out:
                _finish(message, Status.SUPPRESSED, error="The number has opted out of texts.")
            elif message.holds_in_quiet_hours and allowed > now:
                message.send_after = allowed
                message.save(update_fields=["send_after"])
            elif not message.reply_handler or _open_question_slot(message, now):
                claimed.append(message)
        for message in claimed:
            message.status = Status.SENDING
            message.attempts += 1
            message.claimed_at = message.status_changed_at = now
        Message.objects.filter(pk__in=[message.pk for message in claimed]).update(
            status=Status.SENDING,
            attempts=F("attempts") + 1,
            claimed_at=now,
            status_changed_at=now,
        )
        return claimed


def _open_question_slot(message, now):
    """Make `message` its number's open question, or hold it until the open one is done."""
    Message.objects.filter(
        to_number=message.to_number, question_open=True, reply_expires_at__lte=now
    ).update(question_open=False)
    blocking = Message.objects.filter(to_number=message.to_number, question_open=True).first()
    if blocking is None:
        message.question_open = True
        message.reply_expires_at = now + timedelta(hours=settings.SMS_REPLY_WINDOW_HOURS)
        if message.expires_at:  # a question stops counting when its text stops mattering
            message.reply_expires_at = min(message.reply_expires_at, message.expires_at)
        try:
            with transaction.atomic():
                message.save(update_fields=["question_open", "reply_expires_at"])
            return True
        except IntegrityError:  # another worker opened a question to this number just now
            message.question_open = False
            message.reply_expires_at = None
            blocking = Message.objects.filter(
                to_number=message.to_number, question_open=True
            ).first()
    message.send_after = blocking.reply_expires_at if blocking else now + timedelta(minutes=1)
    message.save(update_fields=["send_after"])
    return False


def _forget_secret(message):
    """Drop a secret (a sign-in code) from the context once the text is sent or given up on:
    it is never needed again. (The stored body only ever held its mask.) Returns the fields it
    changed."""
    if SECRET not in message.context:
        return []
    message.context = message.shown_context
    return ["context"]


def _finish(message, status, *, error="", code=None, sid=None):
    now = timezone.now()
    message.status = status
    message.status_changed_at = now
    fields = ["status", "status_changed_at"]
    if (
        status in NOT_DELIVERED
        and message.direction == Message.Direction.OUTBOUND
        and message.attention_if_not_delivered
        and message.handled_at is None
    ):
        # A text that never reached the phone: someone may be waiting for it.
        message.needs_attention = True
        fields.append("needs_attention")
    if status != Status.QUEUED:
        fields += _forget_secret(message)
    if error or code:
        message.error, message.error_code = error[:300], code
        fields += ["error", "error_code"]
    if sid:
        message.twilio_sid = sid
        fields.append("twilio_sid")
    if status == Status.SENT:
        message.sent_at = now
        fields.append("sent_at")
        if not (error or code) and (message.error or message.error_code):
            # It went after all: an earlier attempt's error no longer describes it.
            message.error, message.error_code = "", None
            fields += ["error", "error_code"]
    if (
        status in {Status.FAILED, Status.SUPPRESSED, Status.WITHDRAWN, Status.QUEUED}
        and message.question_open
    ):
        message.question_open = False
        message.reply_expires_at = None
        fields += ["question_open", "reply_expires_at"]
    message.save(update_fields=fields)


def retry_delay(attempts):
    """Exponential backoff with jitter: about 30 s, 1, 2, 4 minutes... never over an hour."""
    delay = min(settings.SMS_RETRY_BASE_SECONDS * 2 ** (attempts - 1), 3600)
    return timedelta(seconds=random.uniform(delay / 2, delay))


def deliver(message_id, *, batch=1):
    """Send a queued message if it is due and no other worker has it; True if it was sent.

    With `batch` above 1 the same task also sends other due messages, oldest first, up to
    `batch` in all: under load a few tasks empty the outbox and the rest find nothing to do.
    A worker that dies part-way leaves its claimed messages `sending`; the sweep asks the
    provider about them before anything is sent again.
    """
    claimed = _claim(message_id, batch=batch)
    if not claimed:
        return False
    backend = get_backend()
    spacing = throttle.pace(len(claimed))  # waits for the first of len(claimed) slots
    first_slot = time.monotonic()
    sent = []
    for position, message in enumerate(claimed):
        if position and spacing:  # each later text keeps to its own slot
            time.sleep(max(0.0, first_slot + position * spacing - time.monotonic()))
        try:
            sid = _sent_by_earlier_attempt(backend, message)
            if sid is None:
                sid = backend.send(message)
        except SendFailed as failure:
            _record_failure(message, failure)
            continue
        sent.append((message, sid))
    _record_sent(sent)
    return any(message.pk == message_id for message, _ in sent)


def _record_sent(sent):
    if not sent:
        return
    now = timezone.now()
    fields = {"status", "twilio_sid", "sent_at", "status_changed_at", "error", "error_code"}
    for message, sid in sent:
        message.status, message.twilio_sid = Status.SENT, sid
        message.sent_at = message.status_changed_at = now
        message.error, message.error_code = "", None  # an earlier attempt's error is history
        fields.update(_forget_secret(message))
    with transaction.atomic():
        Message.objects.bulk_update([message for message, _ in sent], sorted(fields))


def _sent_by_earlier_attempt(backend, message):
    """On a retry, the provider's id for the text if an earlier attempt reached it after all:
    a timeout, a dropped connection or a 5xx can come after the provider took the text."""
    if message.attempts <= 1:
        return None
    return backend.lookup(message)


def _record_failure(message, failure):
    held_until = message.reply_expires_at if message.question_open else None
    with transaction.atomic():
        if failure.code in UNSUBSCRIBED:
            record_opt_out(message.to_number, word=f"Twilio {failure.code}")
        expired = message.expires_at and message.expires_at <= timezone.now()
        if failure.transient and message.attempts < settings.SMS_MAX_ATTEMPTS and not expired:
            message.send_after = timezone.now() + retry_delay(message.attempts)
            message.save(update_fields=["send_after"])
            _finish(message, Status.QUEUED, error=failure.reason, code=failure.code)
            _release_next_question(message.to_number, timezone.now(), held_until=held_until)
            return
        if failure.transient and message.attempts >= settings.SMS_MAX_ATTEMPTS:
            reason = f"Gave up after {message.attempts} attempts: {failure.reason}"
        else:
            reason = failure.reason
        _finish(message, Status.FAILED, error=reason, code=failure.code)
        # Questions held behind this one need not wait for an answer that cannot come.
        _release_next_question(message.to_number, timezone.now(), held_until=held_until)
    logger.warning("Text %s to %s failed: %s", message.pk, message.to_number, reason)


def reconcile_stale_sending(*, now=None):
    """Texts left `sending` by a worker that died: sent if the provider has them, else queued
    again (or failed, once SMS_MAX_ATTEMPTS were made). Returns (found at the provider, queued
    again)."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.SMS_STALE_SENDING_SECONDS)
    found = requeued = 0
    backend = get_backend()
    stale_ids = list(
        Message.objects.filter(status=Status.SENDING, claimed_at__lt=cutoff).values_list(
            "pk", flat=True
        )[:500]
    )
    for message_id in stale_ids:
        with transaction.atomic():
            message = _lock(
                Message.objects.filter(pk=message_id, status=Status.SENDING, claimed_at__lt=cutoff)
            ).first()
            if message is None:
                continue
            try:
                sid = backend.lookup(message)
            except SendFailed as failure:
                logger.warning("Could not look up stale text %s: %s", message_id, failure.reason)
                continue
            if sid:
                _finish(message, Status.SENT, sid=sid)
                found += 1
            elif message.attempts >= settings.SMS_MAX_ATTEMPTS:
                # A text whose every attempt stops its worker is not tried for ever.
                reason = (
                    f"Gave up after {message.attempts} attempts: the worker stopped while "
                    "sending it."
                )
                _finish(message, Status.FAILED, error=reason)
                logger.warning("Text %s to %s failed: %s", message_id, message.to_number, reason)
            else:
                message.send_after = now
                message.save(update_fields=["send_after"])
                _finish(message, Status.QUEUED)
                requeued += 1
    return found, requeued


def sweep(*, now=None):
    """Re-enqueue every due queued text and reconcile stale sends; returns what it did."""
    now = now or timezone.now()
    found, requeued = reconcile_stale_sending(now=now)
    Message.objects.filter(question_open=True, reply_expires_at__lte=now).update(
        question_open=False
    )
    due = list(
        Message.objects.due(now=now).order_by("send_after", "pk").values_list("pk", flat=True)
    )
    for message_id in due:
        enqueue_delivery(message_id)
    return {"enqueued": len(due), "found_at_provider": found, "requeued": requeued}


# Opt-outs --------------------------------------------------------------------------------


def is_opted_out(phone):
    return OptOut.objects.current().filter(phone=phone).exists()


@transaction.atomic
def record_opt_out(phone, *, word):
    """Stop texting a number; queued texts to it become suppressed (all but an answer to its
    HELP). Saying it twice is fine."""
    phone = normalise_phone(phone)
    opt_out = OptOut.objects.current().filter(phone=phone).first()
    if opt_out is None:
        try:
            with transaction.atomic():
                opt_out = OptOut.objects.create(phone=phone, word=word[:40])
        except IntegrityError:
            opt_out = OptOut.objects.current().get(phone=phone)
    queued = Message.objects.filter(to_number=phone, status=Status.QUEUED, despite_opt_out=False)
    for message in queued.filter(context__has_key=SECRET):
        message.save(update_fields=_forget_secret(message))
    queued.update(
        status=Status.SUPPRESSED,
        error="The number has opted out of texts.",
        status_changed_at=timezone.now(),
    )
    return opt_out


@transaction.atomic
def end_opt_out(phone, *, word="", note=""):
    """Text a number again (it said START, or asked the office by another channel)."""
    phone = normalise_phone(phone)
    return (
        OptOut.objects.current()
        .filter(phone=phone)
        .update(ended_at=timezone.now(), ended_by_word=word[:40], ended_note=note[:300])
    )


@transaction.atomic
def remove_opt_out(opt_out, *, note, by=None):
    """The office opts a number back in for a person who asked by another channel."""
    if not note or not note.strip():
        raise ValidationError(
            {"note": "Say why the opt-out is removed (how and when the person asked)."}
        )
    # This row, read again under a lock: a page open since the number said STOP again must not
    # end the newer opt-out.
    current = OptOut.objects.select_for_update().filter(pk=opt_out.pk).first()
    if current is None or current.ended_at:
        from community.errors import StateConflict

        raise StateConflict("This opt-out has already ended.", code="already_ended")
    who = f" by {by}" if by else ""
    current.ended_at = timezone.now()
    current.ended_note = f"{note.strip()}{who}"[:300]
    current.save(update_fields=["ended_at", "ended_note"])
    opt_out.refresh_from_db()
    return opt_out


# Receiving -------------------------------------------------------------------------------


def keyword(body):
    """The body as a keyword: just the word, any case, stray spaces and punctuation ignored,
    and letters typed in another width or style (fullwidth "ＳＴＯＰ") read as plain ones."""
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", body or "")).upper()


def received_words(body):
    """The words of a received text as they are kept: line breaks made plain, without the
    characters no name or note may hold either (control characters other than line breaks
    and tabs, text-reordering controls, lone surrogates). PostgreSQL refuses a NUL."""
    return without_hidden_characters((body or "").replace("\r\n", "\n").replace("\r", "\n"))


def receive(*, sid, from_number, to_number, body):
    """Store an inbound text once per provider id and act on it. Returns (message, created).

    If acting on it fails, what it did is undone but the text is kept, marked for attention.
    The body is kept as `received_words` leaves it, whoever hands it over. A body longer
    than any text Twilio delivers (MAX_RECEIVED_CHARACTERS) is no person's text: its
    beginning is kept for the coordinator, with a note of its length, and nothing acts on it
    or answers it.
    """
    body = received_words(body)
    cut_short = len(body) > MAX_RECEIVED_CHARACTERS
    with transaction.atomic():
        existing = Message.objects.filter(twilio_sid=sid).first()
        if existing:
            return existing, False
        try:
            with transaction.atomic():
                reply = Message.objects.create(
                    direction=Message.Direction.INBOUND,
                    status=Status.RECEIVED,
                    twilio_sid=sid,
                    from_number=from_number,
                    to_number=to_number,
                    body=body[:MAX_RECEIVED_CHARACTERS],
                    topic="reply",
                    needs_attention=cut_short,
                    error=(
                        f"The text was {len(body):,} characters long; only the first "
                        f"{MAX_RECEIVED_CHARACTERS:,} are kept."
                    )
                    if cut_short
                    else "",
                )
        except IntegrityError:  # the same webhook delivered twice at the same moment
            return Message.objects.get(twilio_sid=sid), False
        if cut_short:
            logger.warning("Text %s from %s was cut to its beginning.", reply.pk, from_number)
            return reply, True
        try:
            with transaction.atomic():
                _act_on(reply)
        except Exception:
            # Whatever went wrong is undone, but the text itself is kept for the coordinator.
            logger.exception("Could not act on text %s from %s.", reply.pk, from_number)
            reply.topic, reply.needs_attention = "reply", True
            reply.save(update_fields=["topic", "needs_attention"])
    return reply, True


def _act_on(reply):
    word = keyword(reply.body)
    phone = reply.from_number
    if word in OPT_OUT_WORDS:
        record_opt_out(phone, word=word)
        _set_topic(reply, "keyword.opt_out")
    elif word in OPT_IN_WORDS or (word == "YES" and is_opted_out(phone)):
        end_opt_out(phone, word=word)
        _set_topic(reply, "keyword.opt_in")
    elif word in HELP_WORDS:
        _set_topic(reply, "keyword.help")
        # Answered even if the number opted out: it is the answer to its own text.
        send_sms(
            phone,
            texts.help_text(),
            topic=HELP_TOPIC,
            quiet_hours=False,
            despite_opt_out=True,
        )
    else:
        _answer_question(reply)


def _set_topic(message, topic):
    message.topic = topic
    message.save(update_fields=["topic"])


def _answer_question(reply):
    now = timezone.now()
    question = (
        Message.objects.select_for_update()
        .filter(to_number=reply.from_number, question_open=True, reply_expires_at__gt=now)
        .first()
    )
    if question is None and _repeats_last_answer(reply, now):
        # The same answer again (a double send, or a second YES): it was acted on.
        _set_topic(reply, "reply.repeated")
        return
    outcome = _ask_handler(question, reply) if question is not None else None
    if outcome is None or not outcome.understood:
        reply.needs_attention = True
        reply.topic = _topic("reply.", question.topic if question else "unexpected")
        reply.save(update_fields=["needs_attention", "topic"])
        # One polite answer per number an hour, so two auto-responders never text each
        # other in a loop.
        hour = timezone.now().strftime("%Y-%m-%dT%H")
        send_sms(
            reply.from_number,
            texts.not_understood_text(),
            topic=NOT_UNDERSTOOD_TOPIC,
            idempotency_key=f"reply.not_understood:{reply.from_number}:{hour}",
            quiet_hours=False,
        )
        return
    question.answered_by = reply
    question.question_open = False
    question.save(update_fields=["answered_by", "question_open"])
    reply.topic = _topic("reply.", question.topic)
    reply.save(update_fields=["topic"])
    if outcome.answer:
        send_sms(
            reply.from_number,
            outcome.answer,
            topic=_topic(question.topic, ".answer"),
            quiet_hours=False,
        )
    _release_next_question(reply.from_number, now, held_until=question.reply_expires_at)


def _repeats_last_answer(reply, now):
    """Whether `reply` says again, word for word (any case or punctuation), what the same
    number answered to its last question within the last REPEAT_WINDOW."""
    said = keyword(reply.body)
    if not said:
        return False
    last_answer = (
        Message.objects.filter(
            direction=Message.Direction.INBOUND,
            from_number=reply.from_number,
            answers__isnull=False,
            created_at__gte=now - REPEAT_WINDOW,
        )
        .exclude(pk=reply.pk)
        .order_by("-created_at", "-pk")
        .first()
    )
    return last_answer is not None and keyword(last_answer.body) == said


def _ask_handler(question, reply):
    """The handler's ReplyOutcome, or None if there is no handler or it failed.

    The handler runs in a savepoint: if it raises, whatever it wrote is undone, and the reply
    itself is kept for the coordinator instead of being lost with the webhook.
    """
    try:
        handler = replies.handler_for(question.reply_handler)
    except LookupError:
        logger.error("No handler %r for reply %s", question.reply_handler, reply.pk)
        return None
    try:
        with transaction.atomic():
            return handler(question, reply)
    except Exception:
        logger.exception(
            "Reply handler %r failed on reply %s; it is left for the coordinator.",
            question.reply_handler,
            reply.pk,
        )
        return None


def _topic(first, second):
    """Two parts of a topic joined, cut to the column's length."""
    return f"{first}{second}"[: Message._meta.get_field("topic").max_length]


def _release_next_question(phone, now, *, held_until):
    """Send the question that was held back for the one just answered or closed.

    A held question waits with `send_after` at the open question's expiry (see
    `_open_question_slot`); one its sender scheduled for later keeps its own time.
    """
    if held_until is None:
        return
    held = Message.objects.filter(
        to_number=phone, status=Status.QUEUED, send_after=held_until
    ).exclude(reply_handler="")
    first = held.order_by("created_at", "pk").first()
    if first is None:
        return
    # All are due again; the first goes now, and the sweep finds the others held behind it.
    held.update(send_after=now)
    transaction.on_commit(lambda: enqueue_delivery(first.pk))


@transaction.atomic
def close_question(message, *, reason):
    """The question `message` asked no longer counts (what it asked about has changed).

    Not sent yet: it never will be (withdrawn, with `reason`: no delivery problem, nobody
    needs to chase it). Sent and awaiting its reply: the
    reply is no longer awaited, and a question held behind it is sent. Its idempotency key is
    set free, so the same question asked again later is a new text. Returns the message.
    """
    message = Message.objects.select_for_update().get(pk=message.pk)
    now = timezone.now()
    if message.idempotency_key and not message.idempotency_key.startswith("closed:"):
        message.idempotency_key = f"closed:{message.pk}:{message.idempotency_key}"[:200]
        message.save(update_fields=["idempotency_key"])
    if message.status == Status.QUEUED:
        _finish(message, Status.WITHDRAWN, error=reason)
    elif message.question_open:
        held_until = message.reply_expires_at
        message.question_open = False
        message.save(update_fields=["question_open"])
        _release_next_question(message.to_number, now, held_until=held_until)
    return message


# Delivery status from the provider -------------------------------------------------------

# How far along a text is; a callback never moves a text back.
PROGRESS = {
    Status.QUEUED: 0,
    Status.SENDING: 1,
    Status.SENT: 2,
    Status.DELIVERED: 3,
    Status.UNDELIVERED: 3,
    Status.FAILED: 3,
}
PROVIDER_STATUSES = {
    "sent": Status.SENT,
    "delivered": Status.DELIVERED,
    "undelivered": Status.UNDELIVERED,
    "failed": Status.FAILED,
}


def apply_delivery_status(*, sid, provider_status, error_code=None):
    """Move a text forward by the provider's report; returns the message, or None if unknown."""
    from messaging.provider_errors import readable

    with transaction.atomic():
        message = Message.objects.select_for_update().filter(twilio_sid=sid).first()
        if message is None or message.direction != Message.Direction.OUTBOUND:
            logger.warning("Delivery status %r for unknown text %s", provider_status, sid)
            return None
        status = PROVIDER_STATUSES.get(provider_status)
        if status is None or PROGRESS.get(message.status, 3) >= PROGRESS[status]:
            return message
        error = readable(error_code) if error_code else ""
        was_open, held_until = message.question_open, message.reply_expires_at
        _finish(message, status, error=error, code=error_code)
        if was_open and status in {Status.UNDELIVERED, Status.FAILED}:
            # A question that never arrived awaits no reply: the next one may go.
            if message.question_open:
                message.question_open = False
                message.save(update_fields=["question_open"])
            _release_next_question(message.to_number, timezone.now(), held_until=held_until)
        if error_code in UNSUBSCRIBED:
            record_opt_out(message.to_number, word=f"Twilio {error_code}")
    return message


# Texts a coordinator writes -------------------------------------------------------------

COORDINATOR_TEXT_TOPIC = "coordinator.text"
# A coordinator's own text is short: at most this many characters.
COORDINATOR_TEXT_MAX_CHARACTERS = 480


@transaction.atomic
def send_coordinator_text(to, body, *, by=None, context=None):
    """Queue a text a coordinator wrote (the dashboard's "text the volunteer").

    Quiet hours hold it until morning like any other text. Unlike a schedule's texts, a number
    that opted out is refused rather than written as suppressed, and so is a body that is
    empty, too long or holds a hidden character: the coordinator is told at once, beside the
    box, that it will not go, and nothing is written. Returns the queued message.
    """
    text = body.strip() if isinstance(body, str) else body
    problem = hidden_character_problem(text)
    if problem:
        raise ValidationError({"body": problem})
    if isinstance(text, str) and len(text) > COORDINATOR_TEXT_MAX_CHARACTERS:
        raise ValidationError(
            {
                "body": f"Keep the text to {COORDINATOR_TEXT_MAX_CHARACTERS} characters; it is "
                f"{len(text)}."
            }
        )
    try:
        check_body(text)
    except ValidationError as refusal:
        raise ValidationError({"body": refusal.messages}) from None
    phone = textable_number(to)
    if is_opted_out(phone):
        raise ValidationError(
            f"{to_phone(phone).as_national} has opted out of texts (they replied STOP), so "
            "nothing was sent. Call them instead.",
            code="opted_out",
        )
    context = dict(context or {})
    if getattr(by, "pk", None):
        context["sent_by"] = by.pk
    return send_sms(phone, text, topic=COORDINATOR_TEXT_TOPIC, context=context)


# The coordinator's inbox -----------------------------------------------------------------


@transaction.atomic
def mark_handled(reply, *, note="", by=None):
    """Take a text out of the coordinator's attention: a reply read, a failed text seen to."""
    if not reply.needs_attention:
        from community.errors import StateConflict

        raise StateConflict("This text does not need attention.", code="already_handled")
    who = f" ({by})" if by else ""
    reply.needs_attention = False
    reply.handled_at = timezone.now()
    reply.handled_note = f"{note}{who}"[:300]
    reply.save(update_fields=["needs_attention", "handled_at", "handled_note"])
    return reply
