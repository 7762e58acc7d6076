"""The coordinator's view of texts: the message log, and the numbers that opted out.

Texts are never edited by hand: the log is read-only, and what a coordinator may do to it
(send a failed text again, mark a reply handled) are list actions that call the services.
An opt-out is recorded by hand for a person who asked by another channel, and ended only
with a note of why.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from community.admin import PhoneSearchMixin, StateFilter
from community.phones import phone_problem, to_phone
from messaging import services
from messaging.models import Message, OptOut

# How an opt-out recorded by the office shows in the `word` column.
OFFICE_WORD = "office"


def _say(modeladmin, request, count, singular, plural, level=messages.SUCCESS):
    if count:
        modeladmin.message_user(request, singular if count == 1 else plural % count, level)


class PhoneEitherPartySearchMixin:
    """Search that finds a number however it is typed ("07700 900123"), whichever side of
    the text it was on."""

    def get_search_results(self, request, queryset, search_term):
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term and phone_problem(term) is None:
            e164 = to_phone(term).as_e164
            found |= queryset.filter(Q(to_number=e164) | Q(from_number=e164))
        return found, may_have_duplicates


@admin.register(Message)
class MessageAdmin(PhoneEitherPartySearchMixin, admin.ModelAdmin):
    list_display = [
        "created_at",
        "direction",
        "phone",
        "topic",
        "status",
        "attempts",
        "error",
        "needs_attention",
    ]
    list_filter = ["direction", "status", "topic", "needs_attention"]
    search_fields = ["to_number", "from_number", "body"]
    search_help_text = "Words in the text, or a phone number in any form (07700 900123)."
    date_hierarchy = "created_at"
    actions = ["send_again", "mark_handled"]
    fieldsets = [
        (None, {"fields": ["direction", "to_number", "from_number", "body", "topic"]}),
        (
            "Delivery",
            {
                "fields": [
                    "status",
                    "error_code",
                    "error",
                    "attempts",
                    "send_after",
                    "expires_at",
                    "despite_opt_out",
                    "attention_if_not_delivered",
                    "sent_at",
                    "twilio_sid",
                    "idempotency_key",
                ]
            },
        ),
        (
            "Replies",
            {
                "fields": [
                    "reply_handler",
                    "shown_context",
                    "question_open",
                    "reply_expires_at",
                    "answered_by",
                    "needs_attention",
                    "handled_at",
                    "handled_note",
                ]
            },
        ),
        ("Record", {"fields": ["created_at", "status_changed_at"], "classes": ["collapse"]}),
    ]

    readonly_fields = ["shown_context"]

    @admin.display(description="context")
    def shown_context(self, message):
        """What the reply handler is told, without a sign-in code the text may carry."""
        return message.shown_context

    @admin.display(description="phone")
    def phone(self, message):
        """The other party's number."""
        return message.phone.as_national if message.phone else None

    # Read-only: viewing needs view_message; the actions need change_message.

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_act_permission(self, request):
        return request.user.has_perm("messaging.change_message")

    @admin.action(description="Send again (failed or undelivered texts)", permissions=["act"])
    def send_again(self, request, queryset):
        queued = 0
        for message in queryset.order_by("created_at", "pk"):
            try:
                again = services.resend(message)
            except ValidationError as refusal:
                self.message_user(
                    request, f"Text {message.pk}: {' '.join(refusal.messages)}", messages.ERROR
                )
            else:
                if again.status == Message.Status.SUPPRESSED:
                    self.message_user(
                        request,
                        f"Text {message.pk} was not sent again: {again.phone.as_national} has "
                        "opted out of texts.",
                        messages.WARNING,
                    )
                else:
                    queued += 1
        _say(
            self,
            request,
            queued,
            "1 text is queued to send again.",
            "%d texts are queued to send again.",
        )

    @admin.action(description="Mark handled (texts needing attention)", permissions=["act"])
    def mark_handled(self, request, queryset):
        handled = 0
        for message in queryset.order_by("created_at", "pk"):
            try:
                services.mark_handled(message, note="Marked handled in the admin", by=request.user)
            except ValidationError as refusal:
                self.message_user(
                    request, f"Text {message.pk}: {' '.join(refusal.messages)}", messages.ERROR
                )
            else:
                handled += 1
        _say(self, request, handled, "1 text is marked handled.", "%d texts are marked handled.")


class OptOutStateFilter(StateFilter):
    """Current opt-outs unless asked otherwise: those are the numbers nothing is sent to."""

    states = [
        ("current", "Current", lambda opt_outs: opt_outs.current()),
        ("ended", "Ended", lambda opt_outs: opt_outs.filter(ended_at__isnull=False)),
        ("all", "All", None),
    ]


class RecordOptOutForm(forms.ModelForm):
    """A number the office stops texting, for a person who asked by phone or in person."""

    class Meta:
        model = OptOut
        fields = ["phone"]
        help_texts = {
            "phone": "The number to stop texting, in any form (07700 900123). A person's own "
            "STOP is recorded by itself; this is for someone who asked by phone or in person."
        }

    def clean_phone(self):
        phone = self.cleaned_data["phone"]
        current = OptOut.objects.current().filter(phone=phone).first()
        if current is not None:
            raise ValidationError(
                f"{phone.as_national} already opted out on "
                f"{timezone.localtime(current.opted_out_at):%-d %b %Y} ({current.word}); "
                "nothing needs doing."
            )
        return phone


class EndOptOutForm(forms.ModelForm):
    """Ending an opt-out, which needs a note of why; the service checks and records it."""

    note = forms.CharField(
        label="Why it ends",
        max_length=250,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="How and when the person asked to get texts again "
        "(e.g. “Phoned the office on 3 May to ask for reminders again”).",
    )

    class Meta:
        model = OptOut
        fields = []

    def clean(self):
        cleaned = super().clean()
        if "note" in cleaned:
            # The service both checks and writes. The admin's change view runs in one
            # transaction, so nothing stays written unless the whole page saves.
            try:
                services.remove_opt_out(self.instance, note=cleaned["note"], by=self.user)
            except ValidationError as refusal:
                raise ValidationError(refusal.messages) from None
        return cleaned


@admin.register(OptOut)
class OptOutAdmin(PhoneSearchMixin, admin.ModelAdmin):
    list_display = [
        "phone_number",
        "opted_out_at",
        "word",
        "ended_at",
        "ended_by_word",
        "ended_note",
    ]
    list_filter = [OptOutStateFilter]
    search_fields = ["phone", "word", "ended_note"]
    search_help_text = "A phone number in any form (07700 900123), or words in the notes."
    date_hierarchy = "opted_out_at"
    readonly_fields = ["phone", "opted_out_at", "word", "ended_at", "ended_by_word", "ended_note"]

    @admin.display(description="phone", ordering="phone")
    def phone_number(self, opt_out):
        return opt_out.phone.as_national if opt_out.phone else None

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["phone"]
        if obj.ended_at is None and self.has_change_permission(request, obj):
            return [*self.readonly_fields, "note"]
        return list(self.readonly_fields)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = EndOptOutForm if obj is not None else RecordOptOutForm
        form = super().get_form(request, obj, change=change, **kwargs)
        form.user = request.user
        return form

    def has_change_permission(self, request, obj=None):
        # An ended opt-out is history: it is read, never changed.
        if obj is not None and obj.ended_at is not None:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return  # EndOptOutForm has ended it through the service.
        recorded = services.record_opt_out(obj.phone, word=OFFICE_WORD)
        obj.pk, obj.opted_out_at, obj.word = recorded.pk, recorded.opted_out_at, recorded.word
