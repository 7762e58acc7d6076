"""Texts for coordinators: the message log, the inbox of replies, and opt-outs.

Texts are written only by the messaging services: the log is read here, a reply from the
inbox is answered through the outbox, and an opt-out is recorded or ended by the office with
the services that the Twilio webhooks use too.
"""

import django_filters
from django import forms
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api import fields
from api.filters import phone_digits
from api.reference_data import YesNoFilter
from api.serializers import StrictModelSerializer, StrictSerializer
from api.views import AtomicWrites, ThrottleBeforePermissions
from community.errors import StateConflict
from community.phones import PhoneFormField, PhoneSerializerField
from matching import follow_ups
from messaging import services
from messaging.models import Message, OptOut

# How an opt-out recorded by the office shows in `word` (a person's own opt-out shows the
# word they sent, or the provider's error code).
OFFICE_WORD = "office"

# The longest body in plain (GSM-7) characters that fits in services.MAX_SEGMENTS segments,
# for the documentation; the service measures each body (one with emoji holds fewer).

MESSAGE_EXAMPLE = {
    "id": 5012,
    "direction": "outbound",
    "to": "+447700900123",
    "from": "+447700900001",
    "body": "Hi Aileen, a reminder: you meet J at 14:00 tomorrow in Coatbridge. Reply YES to "
    "confirm or NO if you cannot make it.",
    "status": "delivered",
    "topic": "session.reminder",
    "error_code": None,
    "error": "",
    "attempts": 1,
    "send_after": "2026-05-11T09:00:00+01:00",
    "sent_at": "2026-05-11T09:00:02+01:00",
    "created_at": "2026-05-10T16:40:00+01:00",
    "awaits_reply": True,
    "answered_by": 5020,
    "needs_attention": False,
    "handled_at": None,
    "handled_note": "",
}

REPLY_EXAMPLE = {
    "id": 5031,
    "direction": "inbound",
    "to": "+447700900001",
    "from": "+447700900456",
    "body": "Can we make it Thursday instead?",
    "status": "received",
    "topic": "reply.session.reminder",
    "error_code": None,
    "error": "",
    "attempts": 0,
    "send_after": "2026-05-11T10:12:00+01:00",
    "sent_at": None,
    "created_at": "2026-05-11T10:12:00+01:00",
    "awaits_reply": False,
    "answered_by": None,
    "needs_attention": True,
    "handled_at": None,
    "handled_note": "",
}

ANSWER_EXAMPLE = {
    **MESSAGE_EXAMPLE,
    "id": 5040,
    "to": "+447700900456",
    "body": "Thanks: Thursday at 14:00 is fine, see you then.",
    "status": "queued",
    "topic": "coordinator.text",
    "attempts": 0,
    "send_after": "2026-05-11T10:30:00+01:00",
    "sent_at": None,
    "created_at": "2026-05-11T10:30:00+01:00",
    "awaits_reply": False,
    "answered_by": None,
}

OPT_OUT_EXAMPLE = {
    "id": 88,
    "phone": "+447700900456",
    "opted_out_at": "2026-04-02T19:03:00+01:00",
    "word": "STOP",
    "current": True,
    "ended_at": None,
    "ended_by_word": "",
    "ended_note": "",
}

ENDED_OPT_OUT_EXAMPLE = {
    **OPT_OUT_EXAMPLE,
    "current": False,
    "ended_at": "2026-05-12T11:20:00+01:00",
    "ended_note": "Phoned the office on 12 May to ask for reminders again by "
    "coordinator@example.org",
}


# The message log ------------------------------------------------------------------------


class MessageSerializer(StrictModelSerializer):
    """One text, sent or received, as the log keeps it."""

    to = PhoneSerializerField(source="to_number", read_only=True, help_text="E.164.")
    from_ = PhoneSerializerField(
        source="from_number",
        read_only=True,
        allow_null=True,
        help_text="E.164; null for a text sent through a pool of numbers.",
    )
    awaits_reply = serializers.BooleanField(
        read_only=True, help_text="Whether the text asked a question a reply is read for."
    )
    answered_by = serializers.PrimaryKeyRelatedField(
        read_only=True,
        allow_null=True,
        help_text="The id of the received text that answered this question.",
    )

    class Meta:
        model = Message
        fields = [
            "id",
            "direction",
            "to",
            "from_",
            "body",
            "status",
            "topic",
            "error_code",
            "error",
            "attempts",
            "send_after",
            "sent_at",
            "created_at",
            "awaits_reply",
            "answered_by",
            "needs_attention",
            "handled_at",
            "handled_note",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "status": {
                "help_text": "Sent texts: queued, sending, sent, delivered, undelivered, "
                "failed, suppressed (not sent: the number opted out), or withdrawn (not sent: "
                "no longer needed, e.g. the reminder of a session since moved). Received: "
                "received."
            },
            "topic": {"help_text": "What the text is for, e.g. session.reminder."},
            "error_code": {"help_text": "The provider's error code, e.g. 21211."},
            "error": {
                "help_text": "Why it failed, in words; for a received text longer than any "
                "text Twilio delivers, that only its beginning is kept."
            },
            "attempts": {"help_text": "How many times sending was tried."},
            "send_after": {"help_text": "Not sent before this (quiet hours, retries)."},
            "needs_attention": {
                "help_text": "Waits for a coordinator: a received text in the inbox, or a sent "
                "text that failed or was not delivered (also a follow-up)."
            },
        }

    def get_fields(self):
        # `from` is a Python keyword, so the field is declared as from_ and named here.
        return {
            ("from" if name == "from_" else name): field
            for name, field in super().get_fields().items()
        }


class PhoneFilter(django_filters.CharFilter):
    """A phone number in any common UK form; one that cannot be read is a 400 saying why."""

    field_class = PhoneFormField


class MessageFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        after, before = cleaned.get("created_after"), cleaned.get("created_before")
        if after and before and before < after:
            self.add_error(
                "created_before",
                f"The range ends ({before}) before it starts ({after}): "
                "created_before must be on or after created_after.",
            )
        return cleaned


class MessageFilter(django_filters.FilterSet):
    direction = django_filters.ChoiceFilter(choices=Message.Direction.choices)
    status = django_filters.ChoiceFilter(choices=Message.Status.choices)
    topic = django_filters.CharFilter(label="Exactly this topic, e.g. session.reminder.")
    phone = PhoneFilter(
        method="filter_phone",
        label="Texts to or from this number, in any common UK form (07700 900123).",
    )
    needs_attention = YesNoFilter(
        label="Only texts waiting for a coordinator (true): received texts in the inbox and "
        "sent texts that failed or were not delivered; or only the others (false)."
    )
    created_after = django_filters.DateFilter(
        field_name="created_at",
        lookup_expr="date__gte",
        label="Only texts created on or after this date (Europe/London).",
    )
    created_before = django_filters.DateFilter(
        field_name="created_at",
        lookup_expr="date__lte",
        label="Only texts created on or before this date (Europe/London).",
    )

    class Meta:
        model = Message
        form = MessageFilterForm
        fields = [
            "direction",
            "status",
            "topic",
            "phone",
            "needs_attention",
            "created_after",
            "created_before",
        ]

    def filter_phone(self, queryset, name, value):
        return queryset.filter(Q(to_number=value.as_e164) | Q(from_number=value.as_e164))


class ReadViewSet(
    AtomicWrites,
    ThrottleBeforePermissions,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Records written only by services: read here, changed only through actions."""


def search_described(description):
    """The list's `search` parameter, described as this list reads it."""
    return extend_schema_view(
        list=extend_schema(parameters=[OpenApiParameter("search", str, description=description)])
    )


@search_described(
    "Words to find in the text; or a phone number, whole or in part, in any common UK form, "
    "on either side of the text."
)
class MessageViewSet(ReadViewSet):
    """Every text PeerPath sent or received, newest first. The log is read-only: texts are
    sent by the services (reminders, check-ins, answers from the inbox), never by hand."""

    queryset = Message.objects.all()
    serializer_class = MessageSerializer
    filterset_class = MessageFilter
    search_fields = ["body"]
    ordering_fields = ["created_at"]
    ordering = ["-created_at"]
    example = MESSAGE_EXAMPLE

    def extra_search(self, term):
        """A number, whole or in part and in any common UK form, on either side of a text."""
        digits = phone_digits(term)
        if digits is None:
            return None
        return Q(to_number__contains=digits) | Q(from_number__contains=digits)


# The inbox ------------------------------------------------------------------------------


class AnswerSerializer(StrictSerializer):
    """The text to send back to the person."""

    body = fields.CharField(
        max_length=services.COORDINATOR_TEXT_MAX_CHARACTERS,
        validators=[services.check_body],
        help_text=f"Plain text, at most {services.COORDINATOR_TEXT_MAX_CHARACTERS} characters "
        "(as in the dashboard's inbox), e.g. “Thursday at 2 is fine, see you then.”",
    )


class HandledSerializer(StrictSerializer):
    """A note of what was done, for the record."""

    note = fields.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="What was done, e.g. “Phoned her back; session moved to Thursday.”",
    )


class InboxFilter(django_filters.FilterSet):
    phone = PhoneFilter(
        method="filter_phone", label="Texts from this number, in any common UK form."
    )
    topic = django_filters.CharFilter(label="Exactly this topic, e.g. reply.session.reminder.")

    class Meta:
        model = Message
        fields = ["phone", "topic"]

    def filter_phone(self, queryset, name, value):
        return queryset.filter(from_number=value.as_e164)


@search_described(
    "Words to find in the text; or the sender's phone number, whole or in part, in any common "
    "UK form."
)
class InboxViewSet(ReadViewSet):
    """Received texts that need a coordinator: replies no rule could read, and texts that
    answered no question. The list holds those still needing attention, the longest waiting
    first; any received text can be read by its id, handled or not. Answer one through the
    outbox, or mark it handled. (Sent texts that failed need attention too: they are in the
    message log with `needs_attention=true`, and each is a follow-up.)"""

    queryset = Message.objects.inbound()
    serializer_class = MessageSerializer
    filterset_class = InboxFilter
    search_fields = ["body"]
    phone_search_field = "from_number"
    ordering_fields = ["created_at"]
    ordering = ["created_at"]
    conflict_actions = {"answer", "handled"}
    summaries = {
        "list": "List the received texts that need attention",
        "retrieve": "Read a received text",
        "answer": "Answer a received text",
        "handled": "Mark a received text as handled",
    }
    example = REPLY_EXAMPLE
    action_examples = {
        "answer": {
            "request": {"body": "Thanks: Thursday at 14:00 is fine, see you then."},
            "response": ANSWER_EXAMPLE,
        },
        "handled": {
            "request": {"note": "Phoned her back; session moved to Thursday."},
            "response": {
                **REPLY_EXAMPLE,
                "needs_attention": False,
                "handled_at": "2026-05-11T10:31:00+01:00",
                "handled_note": "Phoned her back; session moved to Thursday. "
                "(coordinator@example.org)",
            },
        },
    }

    def get_queryset(self):
        received = Message.objects.inbound()
        if self.action == "list":
            return received.filter(needs_attention=True)
        return received

    @extend_schema(request=AnswerSerializer, responses={201: MessageSerializer})
    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        """Text the person back through the outbox, as the dashboard's inbox does; the
        received text (and the follow-up raised for it, if any) is then handled, with a note
        quoting the answer. The answer is the text queued, also in the message log: quiet
        hours (21:00 to 08:00 by default) hold it until morning (`send_after`). 400 with
        nothing sent when the person has opted out of texts; 409 when the received text no
        longer needs attention (it was answered or handled already)."""
        reply = self.get_object()
        answer = AnswerSerializer(data=request.data)
        answer.is_valid(raise_exception=True)
        sent = follow_ups.text_back(reply, body=answer.validated_data["body"], by=request.user)
        location = reverse("api:message-detail", args=[sent.pk])
        return Response(self.get_serializer(sent).data, status=201, headers={"Location": location})

    @extend_schema(request=HandledSerializer, responses=MessageSerializer)
    @action(detail=True, methods=["post"])
    def handled(self, request, pk=None):
        """Take the text out of the inbox without texting back (the coordinator phoned, say),
        with an optional note of what was done. 409 when it is handled already."""
        reply = self.get_object()
        handled = HandledSerializer(data=request.data)
        handled.is_valid(raise_exception=True)
        follow_ups.handle_reply(reply, by=request.user, note=handled.validated_data.get("note", ""))
        return Response(self.get_serializer(self.get_queryset().get(pk=reply.pk)).data)


# Opt-outs -------------------------------------------------------------------------------


class OptOutSerializer(StrictModelSerializer):
    """A number that asked not to be texted; nothing is sent to it while it is current."""

    phone = PhoneSerializerField(read_only=True, help_text="E.164.")
    current = serializers.SerializerMethodField(
        help_text="Whether it still holds (texts to the number are not sent)."
    )

    class Meta:
        model = OptOut
        fields = [
            "id",
            "phone",
            "opted_out_at",
            "word",
            "current",
            "ended_at",
            "ended_by_word",
            "ended_note",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "word": {
                "help_text": "What they sent (STOP...), the provider's code (Twilio 21610), "
                "or office when a coordinator recorded it."
            },
            "ended_by_word": {"help_text": "What they sent to opt back in (START...), if so."},
            "ended_note": {"help_text": "Why the office ended it, and who, if it did."},
        }

    def get_current(self, opt_out) -> bool:
        return opt_out.ended_at is None


class NewOptOutSerializer(StrictSerializer):
    """A number to stop texting, for a person who asked by phone or in person."""

    phone = PhoneSerializerField(help_text="Any common UK form in; E.164 out.")


class RemoveOptOutSerializer(StrictSerializer):
    """Why the opt-out ends: how and when the person asked to get texts again."""

    note = fields.CharField(
        max_length=250,
        help_text="Required: how and when the person asked, e.g. “Phoned the office on "
        "12 May to ask for reminders again”.",
    )


OPT_OUT_STATES = [
    ("current", "Current: texts to the number are not sent"),
    ("ended", "Ended: the number opted back in, or the office ended it"),
    ("all", "All"),
]


class OptOutFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(
        choices=OPT_OUT_STATES,
        method="filter_state",
        label="current (the default), ended, or all.",
    )
    phone = PhoneFilter(label="Opt-outs of this number, in any common UK form.")

    class Meta:
        model = OptOut
        fields = ["state", "phone"]

    def filter_state(self, queryset, name, value):
        if value == "current":
            return queryset.current()
        if value == "ended":
            return queryset.filter(ended_at__isnull=False)
        return queryset


@search_described(
    "A phone number, whole or in part, in any common UK form; or words in the opt-out's word "
    "or note."
)
class OptOutViewSet(ReadViewSet):
    """Numbers that asked not to be texted: by STOP (or another opt-out word), through the
    provider, or through the office. Current ones by default (`state=ended` or `state=all`
    for the history). A coordinator records one for a person who asked by phone or in
    person, and ends one, with a note, for a person who asked to get texts again. They are
    never deleted: an ended opt-out stays as history."""

    queryset = OptOut.objects.all()
    serializer_class = OptOutSerializer
    filterset_class = OptOutFilter
    search_fields = ["word", "ended_note"]
    phone_search_field = "phone"
    ordering_fields = ["opted_out_at", "ended_at"]
    ordering = ["-opted_out_at"]
    conflict_actions = {"create", "remove"}
    summaries = {"create": "Record an opt-out for a person", "remove": "End an opt-out"}
    example = OPT_OUT_EXAMPLE
    action_examples = {
        "create": {
            "request": {"phone": "07700 900456"},
            "response": {**OPT_OUT_EXAMPLE, "word": OFFICE_WORD},
        },
        "remove": {
            "request": {"note": "Phoned the office on 12 May to ask for reminders again."},
            "response": ENDED_OPT_OUT_EXAMPLE,
        },
    }

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if self.action == "list" and not self.request.query_params.get("state"):
            # Current ones unless another state is asked for: the numbers that get no texts.
            # (A record read by its id is found whatever its state.)
            queryset = queryset.current()
        return queryset

    @extend_schema(request=NewOptOutSerializer, responses={201: OptOutSerializer})
    def create(self, request, *args, **kwargs):
        """Stop texting a number for a person who asked by phone or in person (their own
        STOP needs nothing from the office). Texts queued for the number are not sent. 409
        when the number has opted out already."""
        new = NewOptOutSerializer(data=request.data)
        new.is_valid(raise_exception=True)
        phone = new.validated_data["phone"]
        current = OptOut.objects.current().filter(phone=phone).first()
        if current is not None:
            raise StateConflict(
                f"{current.phone} opted out already, on "
                f"{timezone.localtime(current.opted_out_at):%-d %B %Y} ({current.word}); "
                "nothing was changed.",
                code="already_opted_out",
            )
        opt_out = services.record_opt_out(phone, word=OFFICE_WORD)
        return Response(self.get_serializer(opt_out).data, status=201)

    @extend_schema(request=RemoveOptOutSerializer, responses=OptOutSerializer)
    @action(detail=True, methods=["post"])
    def remove(self, request, pk=None):
        """End the opt-out, so the number gets texts again, for a person who asked by another
        channel; the note says how and when they asked, and is kept with who ended it. 409
        when it has ended already."""
        opt_out = self.get_object()
        remove = RemoveOptOutSerializer(data=request.data)
        remove.is_valid(raise_exception=True)
        services.remove_opt_out(opt_out, note=remove.validated_data["note"], by=request.user)
        return Response(self.get_serializer(OptOut.objects.get(pk=opt_out.pk)).data)
