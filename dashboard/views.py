"""The coordinator's pages: thin views over the apps' querysets and services.

Every write is a POST to an action view, which reads its form, calls one service, and then
either redirects back to the page (POST/redirect/GET, with a message saying what happened) or,
asked by htmx, answers the one row it changed. A refusal from the service is shown on the
form, beside the field it is about; the service's transaction means nothing is half-saved.
"""

import datetime

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from community.phones import phone_problem, to_phone
from dashboard import today as week
from dashboard.access import CoordinatorRequired
from dashboard.forms import (
    CancelSessionForm,
    HandleFollowUpForm,
    RescheduleSessionForm,
    TextVolunteerForm,
    add_refusal,
    control_ids,
)
from matching import follow_ups, services
from matching.coordinator_texts import text_volunteer
from matching.models import ConfirmationState, FollowUp, Session
from peers.models import Peer
from volunteers.models import Volunteer


class Page(CoordinatorRequired, TemplateView):
    """A dashboard page: coordinators only, and `nav` names its place in the navigation."""

    nav = None

    def get_context_data(self, **kwargs):
        return super().get_context_data(nav=self.nav, **kwargs)


# Today -----------------------------------------------------------------------------------

SESSION_FORMS = {
    "cancel": CancelSessionForm,
    "reschedule": RescheduleSessionForm,
    "text": TextVolunteerForm,
}


def session_forms(session, bound=None):
    """The action forms of one session's row; `bound` is a form just posted for it, shown
    with its errors in place of a blank one."""
    forms = {}
    for action, form_class in SESSION_FORMS.items():
        if bound is not None and bound[0] == action:
            forms[action] = bound[1]
            continue
        extra = {"session": session} if form_class is RescheduleSessionForm else {}
        forms[action] = form_class(auto_id=control_ids(f"session-{session.pk}-{action}"), **extra)
    session.forms = forms
    session.open_action = bound[0] if bound is not None else None
    session.state_words = (
        session.get_status_display()
        if session.confirmation_state == ConfirmationState.SETTLED
        else week.STATE_WORDS[session.confirmation_state]
    )
    session.actionable = session.status in Session.UPCOMING_STATUSES
    # A refusal whose form the row does not show (a session cancelled meanwhile, a volunteer
    # who cannot be texted) is said at the top of the row instead.
    hidden = not session.actionable or (
        session.open_action == "text"
        and session.confirmation_state == ConfirmationState.CANNOT_TEXT
    )
    session.refusal = errors_of(bound[1]) if bound is not None and hidden else []
    return session


def errors_of(form):
    """Every error of a form, in words, for showing where its fields are not."""
    return [error for errors in form.errors.values() for error in errors]


def follow_up_form(follow_up, bound=None):
    follow_up.form = bound or HandleFollowUpForm(auto_id=control_ids(f"follow-up-{follow_up.pk}"))
    return follow_up


class Today(Page):
    template_name = "dashboard/today.html"
    nav = "today"

    def get_context_data(self, bound_session=None, bound_follow_up=None, **kwargs):
        """`bound_session` is (session id, action, form) and `bound_follow_up` (follow-up id,
        form) when a posted form is shown again with its errors."""
        days = week.week_of_sessions(in_full=self.day_in_full())
        refusals, shown = [], set()
        for day in days:
            for session in day.sessions:
                bound = None
                if bound_session is not None and bound_session[0] == session.pk:
                    bound = bound_session[1:]
                    shown.add("session")
                session_forms(session, bound)
        follow_ups = week.open_follow_ups(shown=self.follow_ups_shown())
        for follow_up in follow_ups.rows:
            bound = None
            if bound_follow_up is not None and bound_follow_up[0] == follow_up.pk:
                bound = bound_follow_up[1]
                shown.add("follow-up")
            follow_up_form(follow_up, bound)
        # A form posted for a row the page no longer lists: its refusal goes at the top.
        if bound_session is not None and "session" not in shown:
            refusals += errors_of(bound_session[2])
        if bound_follow_up is not None and "follow-up" not in shown:
            refusals += errors_of(bound_follow_up[1])
        return super().get_context_data(
            refusals=refusals,
            days=week.folded(days),
            session_count=sum(day.total for day in days),
            follow_ups=follow_ups,
            training=week.training_panel(),
            training_warning_days=settings.TRAINING_EXPIRY_WARNING_DAYS,
            **kwargs,
        )

    def follow_ups_shown(self):
        """How many follow-ups the page lists: the most urgent few, or all of them with
        `?follow_ups=all`."""
        return None if self.request.GET.get("follow_ups") == "all" else week.FOLLOW_UPS_SHOWN

    def day_in_full(self):
        """The day asked for in full (`?day=2026-12-04`), or None; any other text is
        ignored and the page shows the week as usual."""
        try:
            return datetime.date.fromisoformat(self.request.GET.get("day", "")[:10])
        except ValueError:
            return None


class Action(CoordinatorRequired, View):
    """A write from the Today page: POST only, one form, one service."""

    http_method_names = ["post"]

    def the_page(self, request, status=400, **kwargs):
        page = Today()
        page.setup(request)
        return TemplateResponse(
            request, page.template_name, page.get_context_data(**kwargs), status=status
        )


class SessionAction(Action):
    """Cancel, reschedule or text the volunteer of one session."""

    action = None
    # The service's field names that are the form's under other names.
    renamed_fields = {}

    def post(self, request, pk):
        session = get_object_or_404(Session.objects.select_related("match__volunteer"), pk=pk)
        form = SESSION_FORMS[self.action](
            request.POST, auto_id=control_ids(f"session-{pk}-{self.action}")
        )
        if form.is_valid():
            try:
                done = self.act(session, form.cleaned_data)
            except ValidationError as refusal:
                add_refusal(form, refusal, fields=self.renamed_fields)
            else:
                if request.htmx:
                    return self.row(request, pk, notice=done)
                messages.success(request, done)
                return redirect(f"{reverse('dashboard:today')}#session-{pk}")
        if request.htmx:
            return self.row(request, pk, bound=(self.action, form), status=400)
        return self.the_page(request, bound_session=(pk, self.action, form))

    def row(self, request, pk, *, notice=None, bound=None, status=200):
        session = session_forms(week.session_with_state(pk), bound)
        return TemplateResponse(
            request,
            "dashboard/_session.html",
            {"session": session, "notice": notice},
            status=status,
        )


class CancelSession(SessionAction):
    action = "cancel"
    renamed_fields = {"outcome_notes": "reason"}

    def act(self, session, data):
        services.cancel_session(session, reason=data["reason"])
        return f"The session of {session.match.volunteer.preferred_name} is cancelled."


class RescheduleSession(SessionAction):
    action = "reschedule"

    def act(self, session, data):
        moved = services.reschedule_session(
            session, starts_at=data["starts_at"], ends_at=data["ends_at"]
        )
        return f"The session is moved to {moved}; the volunteer is asked to confirm it."


class TextVolunteer(SessionAction):
    action = "text"

    def act(self, session, data):
        volunteer = session.match.volunteer
        message = text_volunteer(
            volunteer, body=data["body"], by=self.request.user, session=session
        )
        if message.status == message.Status.QUEUED and message.send_after > message.created_at:
            return (
                f"The text to {volunteer.preferred_name} waits for the end of quiet hours, "
                f"{week.local_time(message.send_after)}."
            )
        return f"The text to {volunteer.preferred_name} is on its way."


class HandleFollowUp(Action):
    def post(self, request, pk):
        follow_up = get_object_or_404(FollowUp, pk=pk)
        form = HandleFollowUpForm(request.POST, auto_id=control_ids(f"follow-up-{pk}"))
        if form.is_valid():
            try:
                follow_up = follow_ups.handle_follow_up(
                    follow_up, by=request.user, note=form.cleaned_data["note"]
                )
            except ValidationError as refusal:
                add_refusal(form, refusal)
            else:
                if request.htmx:
                    return TemplateResponse(
                        request, "dashboard/_follow_up_handled.html", {"follow_up": follow_up}
                    )
                messages.success(request, f"Handled: {follow_up.summary}")
                return redirect(f"{reverse('dashboard:today')}#follow-ups")
        if request.htmx:
            return TemplateResponse(
                request,
                "dashboard/_follow_up.html",
                {"follow_up": follow_up_form(follow_up, form)},
                status=400,
            )
        return self.the_page(request, bound_follow_up=(pk, form))


# Search ----------------------------------------------------------------------------------


class Search(Page):
    """One box from every page: a volunteer by the words of their name or by their phone in
    any UK form ("07700 900123" finds +447700900123), or a peer by reference ("P-000123")."""

    template_name = "dashboard/search.html"
    limit = 25

    def get_context_data(self, **kwargs):
        term = " ".join(self.request.GET.get("q", "").replace("\x00", "").split())[:100]
        context = super().get_context_data(search_term=term, limit=self.limit, **kwargs)
        if not term:
            return context
        phone = to_phone(term).as_e164 if phone_problem(term) is None else None
        if phone:
            found = Q(phone=phone)
        else:
            found = Q()
            for word in term.split():
                found &= Q(preferred_name__icontains=word) | Q(full_name__icontains=word)
        volunteers = list(Volunteer.objects.filter(found).select_related("area")[: self.limit + 1])
        peer_id = Peer.id_from_reference(term)
        context.update(
            phone=to_phone(phone).as_national if phone else None,
            volunteers=volunteers[: self.limit],
            more_volunteers=len(volunteers) > self.limit,
            reference_like=peer_id is not None,
            peer=(
                Peer.objects.select_related("area").filter(pk=peer_id).first()
                if peer_id is not None
                else None
            ),
        )
        return context
