"""The waiting list: who waits for a supporter and who would fit them, the proposals awaiting
approval, and proposals for everyone at once.

Peers are listed as bulk assignment sees the list (`matching.assignment.waiting_peers`),
longest wait first, a page at a time; the suggestions of a whole page come from one pass of
the matching engine (`matching.suggestions.top_suggestions`), so the page costs the same
number of queries however many peers it shows. Every write is one service of matching's:
`propose_match`, `approve_match`, `decline_match` and `propose_for_waiting_list`, which
check every rule themselves; a refusal is shown in their words and nothing is written.

As on the Today page, an action asked by htmx answers the one row it changed; without
JavaScript the form posts, and the page comes back with a message (POST/redirect/GET).
"""

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import DateTimeField, ExpressionWrapper, F
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views import View

from community.errors import StateConflict
from dashboard.access import CoordinatorRequired
from dashboard.forms import add_refusal, control_ids
from dashboard.views import Page, errors_of
from matching import services
from matching.assignment import propose_for_waiting_list, waiting_peers
from matching.models import Match
from matching.suggestions import top_suggestions
from peers.models import Peer
from volunteers.models import Volunteer

PER_PAGE = 25


# Forms ------------------------------------------------------------------------------------


class ProposeForm(forms.Form):
    volunteer = forms.ModelChoiceField(
        queryset=Volunteer.objects.all(),
        widget=forms.HiddenInput,
        error_messages={
            "required": "Say which volunteer to propose.",
            "invalid_choice": "That volunteer is no longer on record.",
        },
    )


class DeclineMatchForm(forms.Form):
    reason = forms.CharField(
        label="Why it is declined",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept on the match's record; the peer stays on the waiting list.",
        error_messages={"required": "Say why the proposal is declined, for the record."},
    )


class PlanForm(forms.Form):
    plan = forms.RegexField(
        regex=r"^[0-9a-f]{16}$",
        widget=forms.HiddenInput,
        error_messages={
            "required": "The plan reviewed was not sent: review the plan below.",
            "invalid": "The plan reviewed was not sent whole: review the plan below.",
        },
    )


def decline_form(match, bound=None):
    match.decline_form = bound or DeclineMatchForm(auto_id=control_ids(f"match-{match.pk}"))
    return match


# Where to come back to --------------------------------------------------------------------


def page_numbers(data):
    """The pages of the two lists the coordinator was on ("page" of the waiting peers,
    "proposals" of the proposals), from a query string or a posted form."""
    numbers = {}
    for name in ("page", "proposals"):
        value = str(data.get(name, ""))
        if value.isdigit() and 0 < int(value) < 100_000:
            numbers[name] = int(value)
    return numbers


def list_url(numbers, *, fragment=""):
    query = urlencode({name: value for name, value in numbers.items() if value != 1})
    return f"{reverse('dashboard:waiting-list')}{'?' + query if query else ''}{fragment}"


def page_links(page, name, numbers):
    """The previous and next pages' addresses of one list, keeping the other list's page."""
    page.previous_url = page.has_previous() and list_url(
        {**numbers, name: page.previous_page_number()}
    )
    page.next_url = page.has_next() and list_url({**numbers, name: page.next_page_number()})
    return page


# Reads ------------------------------------------------------------------------------------


def waiting_shown():
    return waiting_peers().select_related("area").waiting_first()


def with_suggestions(peers):
    """`peers`, each with `suggestions`: the engine's best three for them, all in one pass."""
    peers = list(peers)
    found = top_suggestions(peers)
    for peer in peers:
        peer.suggestions = found[peer.pk]
        peer.earlier_days = peer.waited_before.days
    return peers


def peer_row(pk):
    """One peer as their row shows them, whether or not they are still waiting."""
    peer = Peer.objects.select_related("area").waiting_first().get(pk=pk)
    return with_suggestions([peer])[0]


def proposals_shown():
    """Proposals awaiting approval, their peers' longest wait first."""
    queue_since = ExpressionWrapper(
        F("peer__waiting_since") - F("peer__waited_before"), output_field=DateTimeField()
    )
    return (
        Match.objects.filter(status=Match.Status.PROPOSED)
        .select_related("peer", "volunteer", "proposed_by")
        .order_by(queue_since.asc(nulls_last=True), "proposed_at", "pk")
    )


def proposal_row(pk):
    return decline_form(Match.objects.select_related("peer", "volunteer", "proposed_by").get(pk=pk))


# The page ---------------------------------------------------------------------------------


class WaitingList(Page):
    template_name = "dashboard/waiting_list.html"
    nav = "waiting"

    def get_context_data(self, bound_decline=None, **kwargs):
        """`bound_decline` is (match id, form) when a decline posted is shown again with its
        errors."""
        numbers = page_numbers(self.request.GET if bound_decline is None else self.request.POST)
        peers = Paginator(waiting_shown(), PER_PAGE).get_page(numbers.get("page"))
        peers.object_list = with_suggestions(peers.object_list)
        proposals = Paginator(proposals_shown(), PER_PAGE).get_page(numbers.get("proposals"))
        proposals.object_list = list(proposals.object_list)
        numbers = {"page": peers.number, "proposals": proposals.number}
        refusals = []
        shown = False
        for match in proposals.object_list:
            bound = None
            if bound_decline is not None and bound_decline[0] == match.pk:
                bound, shown = bound_decline[1], True
            decline_form(match, bound)
        if bound_decline is not None and not shown:
            refusals = errors_of(bound_decline[1])
        return super().get_context_data(
            peers=page_links(peers, "page", numbers),
            proposals=page_links(proposals, "proposals", numbers),
            back=numbers,
            refusals=refusals,
            **kwargs,
        )


# Actions ----------------------------------------------------------------------------------


class Action(CoordinatorRequired, View):
    """A write from the waiting list: POST only, one service."""

    http_method_names = ["post"]

    def back(self):
        return page_numbers(self.request.POST)

    def refused(self, request, refusal, *, row):
        """A refusal: asked by htmx, the row with the refusal in it; otherwise a message each
        and the page again. The service's transaction has written nothing."""
        if request.htmx:
            return row(refusal=refusal.messages, status=400)
        for words in refusal.messages:
            messages.error(request, words)
        return redirect(list_url(self.back()))

    def row(self, request, template, context, *, status=200):
        return TemplateResponse(request, template, {"back": self.back(), **context}, status=status)


class ProposeMatch(Action):
    """One click on a suggestion: propose that volunteer for the peer."""

    def post(self, request, pk):
        peer = get_object_or_404(Peer, pk=pk)
        form = ProposeForm(request.POST)

        def peer_again(refusal, status):
            return self.row(
                request,
                "dashboard/waiting_list_peer.html",
                {"peer": peer_row(pk), "refusal": refusal},
                status=status,
            )

        if not form.is_valid():
            return self.refused(request, ValidationError(errors_of(form)), row=peer_again)
        volunteer = form.cleaned_data["volunteer"]
        try:
            match = services.propose_match(peer, volunteer, by=request.user)
        except ValidationError as refusal:
            return self.refused(request, refusal, row=peer_again)
        done = (
            f"{volunteer.preferred_name} is proposed for {peer.reference}; the proposal "
            "awaits approval."
        )
        if request.htmx:
            return self.row(
                request,
                "dashboard/waiting_list_proposal.html",
                {"match": proposal_row(match.pk), "notice": done},
            )
        messages.success(request, done)
        return redirect(list_url(self.back(), fragment="#proposals"))


class DecideMatch(Action):
    """Approve or decline one proposal."""

    def post(self, request, pk):
        match = get_object_or_404(Match.objects.select_related("peer", "volunteer"), pk=pk)
        form = self.form(request)
        if form.is_valid():
            try:
                match = self.decide(match, form.cleaned_data)
            except ValidationError as refusal:
                add_refusal(form, refusal, fields={"end_reason": "reason"})
            else:
                done = self.done_words(match)
                if request.htmx:
                    return self.row(
                        request,
                        "dashboard/waiting_list_decided.html",
                        {"match": match, "notice": done},
                    )
                messages.success(request, done)
                return redirect(list_url(self.back(), fragment="#proposals"))
        return self.refused_form(request, pk, form)


class ApproveMatch(DecideMatch):
    def form(self, request):
        return forms.Form(request.POST)

    def decide(self, match, data):
        return services.approve_match(match, by=self.request.user)

    def done_words(self, match):
        return f"Approved: {match.volunteer.preferred_name} now supports {match.peer.reference}."

    def refused_form(self, request, pk, form):
        def match_again(refusal, status):
            return self.row(
                request,
                "dashboard/waiting_list_proposal.html",
                {"match": proposal_row(pk), "refusal": refusal},
                status=status,
            )

        return self.refused(request, ValidationError(errors_of(form)), row=match_again)


class DeclineMatch(DecideMatch):
    def form(self, request):
        return DeclineMatchForm(request.POST, auto_id=control_ids(f"match-{self.kwargs['pk']}"))

    def decide(self, match, data):
        return services.decline_match(match, by=self.request.user, reason=data["reason"])

    def done_words(self, match):
        return (
            f"Declined: {match.volunteer.preferred_name} is not proposed for "
            f"{match.peer.reference}, who stays on the waiting list."
        )

    def refused_form(self, request, pk, form):
        """The form again with its errors, beside the proposal it is about."""
        if request.htmx:
            match = decline_form(proposal_row(pk), form)
            # A match decided meanwhile shows no form: its refusal goes at the top of the row.
            decided = match.status != Match.Status.PROPOSED
            return self.row(
                request,
                "dashboard/waiting_list_proposal.html",
                {"match": match, "refusal": errors_of(form) if decided else None},
                status=400,
            )
        page = WaitingList()
        page.setup(request)
        return TemplateResponse(
            request,
            page.template_name,
            page.get_context_data(bound_decline=(pk, form)),
            status=400,
        )


# Proposals for everyone -------------------------------------------------------------------


class ProposeForEveryone(Page):
    """The bulk assignment for the whole waiting list, shown before anything is saved; the
    coordinator's approval sends back the plan they saw, and the service proposes it only if
    solving again gives the same pairs."""

    template_name = "dashboard/waiting_list_everyone.html"
    nav = "waiting"

    def get_context_data(self, **kwargs):
        result = propose_for_waiting_list(dry_run=True)
        return super().get_context_data(
            result=result, form=PlanForm(initial={"plan": result.plan}), **kwargs
        )

    def post(self, request):
        form = PlanForm(request.POST)
        if not form.is_valid():
            return self.again(request, errors_of(form), status=400)
        try:
            result = propose_for_waiting_list(
                dry_run=False, plan=form.cleaned_data["plan"], by=request.user
            )
        except StateConflict as refusal:
            return self.again(request, refusal.messages, status=409)
        except ValidationError as refusal:
            return self.again(request, refusal.messages, status=400)
        made = len(result.matches)
        if made:
            messages.success(
                request,
                f"{made} match{'es' if made != 1 else ''} proposed, with a total score of "
                f"{result.total_score:.1f}. Each awaits approval below.",
            )
        else:
            messages.info(request, "Nothing was proposed: nobody waiting can be placed now.")
        return redirect(list_url({}, fragment="#proposals"))

    def again(self, request, refusals, *, status):
        """The refusal, and the plan as it stands now to review instead; nothing was saved."""
        return TemplateResponse(
            request,
            self.template_name,
            self.get_context_data(refusals=refusals),
            status=status,
        )
