"""Texts the office writes to a volunteer about their sessions (the dashboard's "text the
volunteer"): sent only to a volunteer who agreed to texts, through messaging's outbox, so
quiet hours and opt-outs hold."""

from django.core.exceptions import ValidationError

from messaging.services import send_coordinator_text


def text_volunteer(volunteer, *, body, by=None, session=None):
    """Queue `body` to the volunteer. Refused, with nothing written, when they have not
    agreed to texts, have no mobile number or opted out, or the text is empty or too long."""
    if not volunteer.sms_consent:
        raise ValidationError(
            f"{volunteer.preferred_name} has not agreed to texts, so the office cannot text "
            "them. Call them instead.",
            code="no_consent",
        )
    if not volunteer.phone:
        raise ValidationError(
            f"{volunteer.preferred_name} has no phone number on record.", code="no_phone"
        )
    context = {"volunteer_id": volunteer.pk}
    if session is not None:
        context["session_id"] = session.pk
    return send_coordinator_text(volunteer.phone, body, by=by, context=context)
