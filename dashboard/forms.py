"""The dashboard's forms: they read what was typed; the services decide whether it goes.

A service's refusal is put on the form with `add_refusal`, beside the field it is about when
the form has that field, at the top of the form otherwise.
"""

from django import forms
from django.utils import timezone

from messaging.services import COORDINATOR_TEXT_MAX_CHARACTERS

LOCAL_INPUT = "%Y-%m-%dT%H:%M"


def add_refusal(form, refusal, *, fields=None):
    """Show a service's ValidationError on `form`. `fields` maps the service's field names to
    the form's (e.g. the session's `outcome_notes` to the form's `reason`)."""
    fields = fields or {}
    if not hasattr(refusal, "error_dict"):
        form.add_error(None, refusal.messages)
        return
    for name, errors in refusal.message_dict.items():
        name = fields.get(name, name)
        form.add_error(name if name in form.fields else None, errors)


def control_ids(prefix):
    """Ids unique on a page that holds one form per row: "session-12-reason"."""
    return f"{prefix}-%s"


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format=LOCAL_INPUT, **kwargs)


class LocalDateTimeField(forms.DateTimeField):
    """A date and time typed as the office's clock shows it (Europe/London)."""

    widget = LocalDateTimeInput

    def __init__(self, **kwargs):
        super().__init__(input_formats=[LOCAL_INPUT, "%Y-%m-%d %H:%M"], **kwargs)


class CancelSessionForm(forms.Form):
    reason = forms.CharField(
        label="Why it is cancelled",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept in the session's notes.",
        error_messages={"required": "Say why the session is cancelled."},
    )


class RescheduleSessionForm(forms.Form):
    starts_at = LocalDateTimeField(
        label="New start", error_messages={"required": "Give the new date and start time."}
    )
    ends_at = LocalDateTimeField(
        label="New end", error_messages={"required": "Give the new date and end time."}
    )

    def __init__(self, *args, session=None, **kwargs):
        if session is not None and "initial" not in kwargs:
            local = timezone.get_default_timezone()
            kwargs["initial"] = {
                "starts_at": timezone.localtime(session.starts_at, local),
                "ends_at": timezone.localtime(session.ends_at, local),
            }
        super().__init__(*args, **kwargs)


class TextVolunteerForm(forms.Form):
    body = forms.CharField(
        label="Text to the volunteer",
        max_length=COORDINATOR_TEXT_MAX_CHARACTERS,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Held until 08:00 if it is sent in quiet hours.",
        error_messages={"required": "Write the text to send."},
    )


class HandleFollowUpForm(forms.Form):
    note = forms.CharField(
        label="What was done",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say what was done, for the record."},
    )
