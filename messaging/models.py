"""Every text PeerPath sends or receives, and the numbers that asked not to be texted."""

from django.db import models
from django.db.models import Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from community.phones import PhoneField

# A context key for a secret the text carries (a sign-in code). The stored body holds only
# its mask, so the log, the admin, the API and their searches never show it; the backends put
# it back in the text as it leaves for the phone, and it is dropped once the text is sent or
# given up on.
SECRET = "secret"


# PeerPath's own automatic answers to a reply: what a person is told when their reply was not
# understood, or when they asked for HELP. A reply after one answers what came before it.
NOT_UNDERSTOOD_TOPIC = "reply.not_understood"
HELP_TOPIC = "keyword.help"
AUTOMATIC_ANSWER_TOPICS = [NOT_UNDERSTOOD_TOPIC, HELP_TOPIC]


def mask_of(secret):
    return "•" * len(secret)


class MessageQuerySet(models.QuerySet):
    def outbound(self):
        return self.filter(direction=Message.Direction.OUTBOUND)

    def inbound(self):
        return self.filter(direction=Message.Direction.INBOUND)

    def due(self, *, now=None):
        """Queued outbound messages whose time has come."""
        now = now or timezone.now()
        return self.filter(status=Message.Status.QUEUED, send_after__lte=now)

    def open_question_for(self, phone, *, now=None):
        """The one message to this number still waiting for its reply, if any."""
        now = now or timezone.now()
        return self.filter(to_number=phone, question_open=True, reply_expires_at__gt=now)

    def of_number(self, phone):
        """Every text with `phone` (an E.164 string or PhoneNumber), both ways: those sent to
        it and those received from it."""
        return self.filter(
            Q(direction=Message.Direction.OUTBOUND, to_number=phone)
            | Q(direction=Message.Direction.INBOUND, from_number=phone)
        )

    def replies_needing_attention(self):
        """The coordinator's inbox: received texts waiting for a person, the longest waiting
        first."""
        return self.inbound().filter(needs_attention=True).order_by("created_at", "pk")

    def with_what_they_answer(self):
        """Annotate each received text with `answers_id`, the text it replies to, and
        `answered_a_question`, whether that text was a question awaiting its reply.

        The question is the one that was open for the number when the reply came: sent
        before it, its reply window not closed, and not answered by an earlier reply (the
        reply router's own rule, `_answer_question`). A reply that came with no question
        open answers the last text the number was sent before it, not counting PeerPath's
        automatic answers to replies (the "not understood" and HELP answers)."""
        earlier = Message.objects.filter(
            direction=Message.Direction.OUTBOUND,
            to_number=OuterRef("from_number"),
            sent_at__lte=OuterRef("created_at"),
        ).order_by("-sent_at", "-pk")
        open_question = (
            earlier.exclude(reply_handler="")
            .filter(
                Q(reply_expires_at__isnull=True) | Q(reply_expires_at__gt=OuterRef("created_at"))
            )
            .filter(
                Q(answered_by__isnull=True) | Q(answered_by__created_at__gte=OuterRef("created_at"))
            )
        )
        last_text = earlier.exclude(topic__in=AUTOMATIC_ANSWER_TOPICS)
        return self.annotate(
            answered_a_question=Exists(open_question),
            answers_id=Coalesce(
                Subquery(open_question.values("pk")[:1]), Subquery(last_text.values("pk")[:1])
            ),
        )


class Message(models.Model):
    """One text, in either direction: the outbox, the inbox and the log in one table."""

    class Direction(models.TextChoices):
        OUTBOUND = "outbound", "Sent by PeerPath"
        INBOUND = "inbound", "Received"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        UNDELIVERED = "undelivered", "Undelivered"
        FAILED = "failed", "Failed"
        SUPPRESSED = "suppressed", "Not sent (opted out)"
        WITHDRAWN = "withdrawn", "Not sent (no longer needed)"
        RECEIVED = "received", "Received"

    direction = models.CharField(max_length=10, choices=Direction.choices)
    to_number = PhoneField()
    from_number = PhoneField(blank=True)
    body = models.TextField()
    status = models.CharField(max_length=12, choices=Status.choices)
    topic = models.CharField(max_length=60, blank=True, help_text="What the text is for.")
    twilio_sid = models.CharField("Twilio SID", max_length=64, null=True, blank=True, unique=True)
    error_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    send_after = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="Not worth sending after this (a sign-in code)."
    )
    holds_in_quiet_hours = models.BooleanField(default=True)
    despite_opt_out = models.BooleanField(
        default=False,
        help_text="Sent even to a number that opted out: the answer to its own HELP.",
    )
    attention_if_not_delivered = models.BooleanField(
        default=True,
        help_text="If it fails or is not delivered, the coordinator is told (not for a "
        "sign-in code: the person just asks for another).",
    )
    idempotency_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    reply_handler = models.CharField(
        max_length=60, blank=True, help_text="Who reads the reply; empty when none is awaited."
    )
    context = models.JSONField(default=dict, blank=True)
    question_open = models.BooleanField(
        default=False, help_text="Sent and still waiting for its reply."
    )
    reply_expires_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="answers"
    )
    needs_attention = models.BooleanField(default=False)
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(default=timezone.now)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "send_after"], name="message_due"),
            models.Index(fields=["to_number", "created_at"], name="message_by_number"),
            # A volunteer's texts both ways (`of_number`): the replies are found by sender.
            models.Index(fields=["from_number", "created_at"], name="message_by_sender"),
            models.Index(
                fields=["needs_attention"],
                condition=Q(needs_attention=True),
                name="message_needs_attention",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["to_number"],
                condition=Q(question_open=True),
                name="one_open_question_per_number",
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        direction="outbound",
                        status__in=[
                            "queued",
                            "sending",
                            "sent",
                            "delivered",
                            "undelivered",
                            "failed",
                            "suppressed",
                            "withdrawn",
                        ],
                    )
                    | Q(direction="inbound", status="received")
                ),
                name="status_fits_direction",
            ),
        ]

    def __str__(self):
        arrow = "to" if self.direction == self.Direction.OUTBOUND else "from"
        number = self.to_number if self.direction == self.Direction.OUTBOUND else self.from_number
        return f"{self.get_status_display()} {arrow} {number}: {self.body[:40]}"

    @property
    def awaits_reply(self):
        return bool(self.reply_handler)

    def text_to_send(self):
        """The text as the phone receives it: the body, with its secret in place of the mask.

        Only a backend sending the text reads this; everything else shows the body.
        """
        secret = self.context.get(SECRET)
        if not secret:
            return self.body
        return self.body.replace(mask_of(secret), secret)

    @property
    def shown_context(self):
        """The context without its secret: what a coordinator may see."""
        return {key: value for key, value in self.context.items() if key != SECRET}

    @property
    def phone(self):
        """The other party's number."""
        return self.to_number if self.direction == self.Direction.OUTBOUND else self.from_number


class OptOutQuerySet(models.QuerySet):
    def current(self):
        return self.filter(ended_at__isnull=True)

    def of(self, phone):
        """The opt-outs of `phone` (a PhoneNumber), matched on the E.164 text kept in the
        column: the field's own lookup would parse and check the number again. No number
        has none."""
        if not phone:
            return self.none()
        return self.of_e164(models.Value(phone.as_e164))

    def of_e164(self, e164):
        """The opt-outs of the number whose E.164 text `e164` (an expression) gives."""
        return self.filter(phone=e164)


class OptOut(models.Model):
    """A number that said STOP (or Twilio told us it did): nothing is sent to it.

    Opting back in ends the row rather than deleting it, so the history stays.
    """

    phone = PhoneField()
    opted_out_at = models.DateTimeField(default=timezone.now)
    word = models.CharField(max_length=40, help_text="What they sent, or how it was recorded.")
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by_word = models.CharField(max_length=40, blank=True)
    ended_note = models.CharField(
        max_length=300, blank=True, help_text="Why the office removed it, when it did."
    )

    objects = OptOutQuerySet.as_manager()

    class Meta:
        verbose_name = "opt-out"
        ordering = ["-opted_out_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["phone"],
                condition=Q(ended_at__isnull=True),
                name="one_current_opt_out_per_number",
            )
        ]

    def __str__(self):
        return f"{self.phone} ({self.word})"


class SendSlot(models.Model):
    """The next free moment to send, shared by every worker (when Redis is not in use)."""

    next_free_us = models.BigIntegerField(default=0)

    def __str__(self):
        return f"next free slot at {self.next_free_us} µs"
