"""Matches, sessions and exclusions in the admin, and what matching adds to the volunteer and
peer pages.

Every change goes through `matching.services`: the list actions call them one record at a
time and report each refusal in the service's own words; the session and exclusion forms show
the same rules beside the fields before saving through the services.

Follow-ups are read here and handled with a note through `matching.follow_ups`; nobody edits
one by hand.

Volunteers and peers know nothing of matches, so their admins are extended here: each
volunteer's count of active matches against their capacity, each peer's current supporter,
and the matches on both change pages.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import model_ngettext, unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator

from community.admin import ReadOnlyAdmin, StateFilter
from matching import engine, follow_ups, services
from matching.models import (
    ConfirmationState,
    Exclusion,
    FollowUp,
    Match,
    Session,
    WellbeingCheckIn,
)
from peers.admin import PeerAdmin, PeerReferenceSearchMixin
from peers.models import Peer
from volunteers.admin import VolunteerAdmin
from volunteers.models import Volunteer


def run_service(modeladmin, request, queryset, call, *, done):
    """Call `call(record)` for each selected record, each in its own transaction; report every
    refusal in the service's words, and count the records it worked for."""
    worked = 0
    for record in queryset:
        try:
            call(record)
        except ValidationError as refusal:
            modeladmin.message_user(request, " ".join(refusal.messages), messages.ERROR)
        else:
            worked += 1
    if worked:
        noun = model_ngettext(modeladmin.opts, worked)
        modeladmin.message_user(request, f"{worked} {noun} {done}.", messages.SUCCESS)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class MatchInline(ReadOnlyInline):
    """The matches of a volunteer or a peer; matches are made and ended on the matching pages."""

    model = Match
    fields = ["volunteer", "peer", "status", "proposed_at", "started_on", "ended_on"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("volunteer", "peer")


admin.site.unregister(Volunteer)


@admin.register(Volunteer)
class VolunteerWithMatchesAdmin(VolunteerAdmin):
    inlines = [*VolunteerAdmin.inlines, MatchInline]

    def get_queryset(self, request):
        active = (
            Match.objects.active()
            .filter(volunteer=OuterRef("pk"))
            .order_by()
            .values("volunteer")
            .annotate(count=Count("pk"))
            .values("count")
        )
        return super().get_queryset(request).annotate(active_matches=Coalesce(Subquery(active), 0))

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        columns.insert(columns.index("training") + 1, "active_match_count")
        return columns

    @admin.display(description="active matches", ordering="active_matches")
    def active_match_count(self, volunteer):
        return f"{volunteer.active_matches} of {volunteer.max_active_matches}"

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        return [*fieldsets, ("Wellbeing", {"fields": ["wellbeing_answers"]})]

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return [*fields, "wellbeing_answers"] if obj else fields

    @admin.display(description="wellbeing answers")
    def wellbeing_answers(self, volunteer):
        check_ins = WellbeingCheckIn.objects.filter(volunteer=volunteer)
        latest = check_ins.answered().first()
        answered = (
            f"Last answer: {latest.score} of 5, week of {latest.week:%-d %b %Y}. "
            if latest
            else "No answers yet. "
        )
        url = reverse("admin:matching_wellbeingcheckin_changelist")
        return format_html(
            '{}{} <a href="{}?volunteer__id__exact={}">Every answer</a>',
            answered,
            check_ins.trend().words,
            url,
            volunteer.pk,
        )


admin.site.unregister(Peer)

SUGGESTIONS_SHOWN = 5


@admin.register(Peer)
class PeerWithSupporterAdmin(PeerAdmin):
    """The peer pages with their supporter, their matches and, while they wait, the engine's
    best suggestions, each with a button to propose that volunteer."""

    inlines = [*PeerAdmin.inlines, MatchInline]
    # The Save buttons come first in the form, so Enter in a field saves the peer; it never
    # presses a suggestion's Propose button.
    save_on_top = True

    def get_urls(self):
        propose = path(
            "<path:object_id>/propose/",
            self.admin_site.admin_view(self.propose_view),
            name="peers_peer_propose",
        )
        return [propose, *super().get_urls()]

    def get_queryset(self, request):
        supporter = (
            Match.objects.active()
            .filter(peer=OuterRef("pk"))
            .values("volunteer__preferred_name")[:1]
        )
        return super().get_queryset(request).annotate(supporter_name=Subquery(supporter))

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        columns.insert(columns.index("status") + 1, "supporter")
        return columns

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        field = "suggested_supporters" if self._may_propose(request) else "suggestions_to_read"
        section = (
            "Suggested supporters",
            {
                "fields": [field],
                "description": "The best volunteers for this person today, from the matching "
                "rules. Proposing one leaves changes not yet saved on this page unsaved; the "
                "proposal then waits on the match list for approval.",
            },
        )
        first, *others = fieldsets
        return [first, section, *others]

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return [*fields, "suggested_supporters", "suggestions_to_read"] if obj else fields

    @admin.display(description="supporter", ordering="supporter_name")
    def supporter(self, peer):
        return peer.supporter_name

    @admin.display(description="top five")
    def suggested_supporters(self, peer):
        return self._suggestions(peer, with_buttons=True)

    @admin.display(description="top five")
    def suggestions_to_read(self, peer):
        return self._suggestions(peer, with_buttons=False)

    @staticmethod
    def _may_propose(request):
        return request.user.has_perm("matching.add_match")

    def _suggestions(self, peer, *, with_buttons):
        if peer.status != Peer.Status.WAITING:
            return (
                f"Suggestions are shown while {peer.reference} is waiting for a supporter; "
                f"they are {peer.get_status_display().lower()}."
            )
        current = Match.objects.open().filter(peer=peer).select_related("volunteer").first()
        if current:
            return (
                f"The match of {peer.reference} with {current.volunteer.preferred_name} is "
                f"already {current.get_status_display().lower()}; decide on it on the match "
                "list first."
            )
        found = engine.suggest(peer, limit=SUGGESTIONS_SHOWN)
        if not found:
            return f"No volunteer meets every matching rule for {peer.reference} today."
        propose_url = reverse("admin:peers_peer_propose", args=[peer.pk])
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td><ul>{}</ul></td><td>{}</td></tr>',
            (
                (
                    reverse("admin:volunteers_volunteer_change", args=[suggestion.volunteer.pk]),
                    suggestion.volunteer,
                    f"{suggestion.score:.2f}",
                    format_html_join("", "<li>{}</li>", ((r,) for r in suggestion.reasons)),
                    format_html(
                        '<button type="submit" class="button" formaction="{}" formnovalidate '
                        'name="volunteer" value="{}">Propose</button>',
                        propose_url,
                        suggestion.volunteer.pk,
                    )
                    if with_buttons
                    else "",
                )
                for suggestion in found
            ),
        )
        return format_html(
            "<table><thead><tr><th>Volunteer</th><th>Score</th><th>Why</th><th></th></tr>"
            "</thead><tbody>{}</tbody></table>",
            rows,
        )

    def propose_view(self, request, object_id):
        """Propose one of the volunteers shown through the matching services, which check
        every rule as things are now (the page may be old) and record the engine's score
        and reasons."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        peer = self.get_object(request, unquote(object_id))
        if peer is None or not self.has_view_permission(request, peer):
            raise Http404
        if not self._may_propose(request):
            raise PermissionDenied
        page = HttpResponseRedirect(reverse("admin:peers_peer_change", args=[peer.pk]))
        wanted = request.POST.get("volunteer", "")
        # Ids are 64-bit whole numbers; anything else names no volunteer.
        named = wanted.isascii() and wanted.isdigit() and int(wanted) < 2**63
        volunteer = Volunteer.objects.filter(pk=int(wanted)).first() if named else None
        if volunteer is None:
            self.message_user(
                request,
                "That volunteer is no longer on record; the suggestions below are today's.",
                messages.WARNING,
            )
            return page
        try:
            match = services.propose_match(peer, volunteer, by=request.user)
        except ValidationError as refusal:
            self.message_user(request, " ".join(refusal.messages), messages.ERROR)
            return page
        self.message_user(
            request,
            format_html(
                '<a href="{}">{} is proposed for {}</a>; approve or decline the proposal on the '
                "match list.",
                reverse("admin:matching_match_change", args=[match.pk]),
                volunteer.preferred_name,
                peer.reference,
            ),
            messages.SUCCESS,
        )
        return page


# Matches ---------------------------------------------------------------------------------


class MatchActionForm(helpers.ActionForm):
    reason = forms.CharField(
        required=False,
        label="Reason:",
        widget=forms.TextInput(attrs={"size": 40, "placeholder": "Needed to end; kept on record"}),
    )


def _reason(request):
    return request.POST.get("reason", "")


@admin.action(description="Approve the selected proposals", permissions=["decide"])
def approve(modeladmin, request, queryset):
    run_service(
        modeladmin,
        request,
        queryset.order_by("proposed_at", "pk"),
        lambda match: services.approve_match(match, by=request.user),
        done="approved",
    )


@admin.action(
    description="Decline the selected proposals (reason optional)", permissions=["decide"]
)
def decline(modeladmin, request, queryset):
    run_service(
        modeladmin,
        request,
        queryset,
        lambda match: services.decline_match(match, by=request.user, reason=_reason(request)),
        done="declined",
    )


@admin.action(description="End: the peer goes back on the waiting list", permissions=["decide"])
def end_back_to_waiting(modeladmin, request, queryset):
    run_service(
        modeladmin,
        request,
        queryset,
        lambda match: services.end_match(match, by=request.user, reason=_reason(request)),
        done="ended",
    )


@admin.action(
    description="End: the peer's support is over (close their record)", permissions=["decide"]
)
def end_and_close(modeladmin, request, queryset):
    run_service(
        modeladmin,
        request,
        queryset,
        lambda match: services.end_match(
            match, by=request.user, reason=_reason(request), peer_back_to_waiting=False
        ),
        done="ended",
    )


class SessionInline(ReadOnlyInline):
    model = Session
    fields = ["starts_at", "ends_at", "mode", "place", "status", "hours"]


@admin.register(Match)
class MatchAdmin(PeerReferenceSearchMixin, ReadOnlyAdmin):
    """Matches, to look up and to decide on. Proposing, approving, declining and ending check
    the matching rules, so they happen through the list's actions, never by editing a row."""

    list_display = [
        "volunteer",
        "peer",
        "status",
        "score",
        "proposed_at",
        "started_on",
        "ended_on",
    ]
    list_filter = ["status"]
    list_select_related = ["volunteer", "peer"]
    search_fields = ["volunteer__preferred_name", "volunteer__full_name", "peer__preferred_name"]
    search_help_text = "A volunteer's name, a peer's name or reference (P-000123)."
    date_hierarchy = "proposed_at"
    peer_id_field = "peer_id"
    action_form = MatchActionForm
    actions = [approve, decline, end_back_to_waiting, end_and_close]
    inlines = [SessionInline]
    fieldsets = [
        (
            None,
            {
                "fields": ["volunteer", "peer", "status"],
                "description": "To approve, decline or end this match, tick it on the match "
                "list and choose an action there; a reason typed beside the action goes "
                "with it.",
            },
        ),
        ("Proposal", {"fields": ["proposed_by", "proposed_at", "score", "reasons_in_words"]}),
        (
            "Decision",
            {"fields": ["decided_by", "decided_at", "started_on", "ended_on", "end_reason"]},
        ),
    ]

    def has_decide_permission(self, request):
        """Deciding changes a match through the services, never through the form."""
        return request.user.has_perm("matching.change_match")

    def get_queryset(self, request):
        # The list's own list_select_related is skipped once the queryset has any, so all here.
        return (
            super()
            .get_queryset(request)
            .select_related("volunteer", "peer", "proposed_by", "decided_by")
        )

    @admin.display(description="reasons")
    def reasons_in_words(self, match):
        return format_html_join("\n", "<p>{}</p>", ((reason,) for reason in match.reasons))


# Sessions --------------------------------------------------------------------------------


class SessionActionForm(helpers.ActionForm):
    # Plain text, so the services (not the form) say what is wrong with what was typed.
    hours = forms.CharField(
        required=False,
        label="Hours:",
        widget=forms.TextInput(attrs={"size": 5, "placeholder": "1.5"}),
    )
    notes = forms.CharField(
        required=False,
        label="Notes:",
        widget=forms.TextInput(attrs={"size": 40, "placeholder": "What happened, or why not"}),
    )


@admin.action(description="Mark as completed, with the hours typed", permissions=["change"])
def mark_completed(modeladmin, request, queryset):
    run_service(
        modeladmin,
        request,
        queryset,
        lambda session: services.record_outcome(
            session,
            attended=True,
            hours=request.POST.get("hours"),
            notes=request.POST.get("notes", ""),
        ),
        done="completed",
    )


@admin.action(description="Mark as a no show", permissions=["change"])
def mark_no_show(modeladmin, request, queryset):
    run_service(
        modeladmin,
        request,
        queryset,
        lambda session: services.record_outcome(
            session, attended=False, notes=request.POST.get("notes", "")
        ),
        done="marked as no shows",
    )


@admin.action(description="Cancel (the notes say why)", permissions=["change"])
def cancel(modeladmin, request, queryset):
    run_service(
        modeladmin,
        request,
        queryset,
        lambda session: services.cancel_session(session, reason=request.POST.get("notes", "")),
        done="cancelled",
    )


class SessionForm(forms.ModelForm):
    """Shows the session rules beside the fields; saving goes through the services."""

    class Meta:
        model = Session
        fields = ["match", "starts_at", "ends_at", "mode", "place"]

    def clean(self):
        cleaned = super().clean()
        match = cleaned.get("match") if "match" in self.fields else self.instance.match
        if self._errors or match is None:
            return cleaned
        existing = self.instance if self.instance.pk else None
        if existing:
            services.check_reschedulable(existing)
        cleaned["mode"], cleaned["place"] = services.check_session(
            match,
            starts_at=cleaned.get("starts_at"),
            ends_at=cleaned.get("ends_at"),
            mode=cleaned.get("mode"),
            place=cleaned.get("place"),
            session=existing,
        )
        return cleaned


class ThroughServicesMixin:
    """A form whose record is saved by a service. The form already showed every rule; should
    one fail at the save all the same (another coordinator saved a clash a moment before),
    nothing is saved and the page says why."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as refusal:
            self.message_user(request, " ".join(refusal.messages), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    @staticmethod
    def take_saved(obj, saved):
        for field in type(saved)._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding = False


class ConfirmationStateFilter(admin.SimpleListFilter):
    title = "confirmation"
    parameter_name = "confirmation"

    def lookups(self, request, model_admin):
        return ConfirmationState.choices

    def queryset(self, request, queryset):
        if self.value() in ConfirmationState.values:
            return queryset.filter(confirmation_state=self.value())
        return queryset


# Shown so they stand out in the list: someone from the office has to act on them.
NEEDS_THE_OFFICE = {ConfirmationState.AT_RISK, ConfirmationState.CANNOT_TEXT}


def _when(moment):
    return f"{timezone.localtime(moment):%a %-d %b %H:%M}"


def _text_shown(message):
    """A text's gist for the session page: when and how it went, and what it said."""
    if message is None:
        return "-"
    when = _when(message.sent_at) if message.sent_at else "not sent yet"
    return format_html(
        "{} ({})<br><q>{}</q>", when, message.get_status_display().lower(), message.body
    )


@admin.register(Session)
class SessionAdmin(ThroughServicesMixin, PeerReferenceSearchMixin, admin.ModelAdmin):
    form = SessionForm
    list_display = [
        "starts_at",
        "volunteer",
        "peer",
        "mode",
        "place",
        "status",
        "confirmation",
        "reminded",
        "answer",
        "hours",
    ]
    list_filter = ["status", ConfirmationStateFilter, "mode"]
    search_fields = [
        "match__volunteer__preferred_name",
        "match__volunteer__full_name",
        "match__peer__preferred_name",
    ]
    search_help_text = "A volunteer's name, a peer's name or reference (P-000123)."
    peer_id_field = "match__peer_id"
    date_hierarchy = "starts_at"
    ordering = ["-starts_at"]
    action_form = SessionActionForm
    actions = [mark_completed, mark_no_show, cancel]
    readonly_fields = [
        "status",
        "confirmation",
        "confirmed_at",
        "at_risk_since",
        "reminder_sent",
        "answer_received",
        "check_in_sent",
        "check_in_answer",
        "hours",
        "outcome_notes",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["match", "starts_at", "ends_at", "mode", "place"]}),
        (
            "Texts",
            {
                "fields": [
                    "confirmation",
                    "confirmed_at",
                    "at_risk_since",
                    "reminder_sent",
                    "answer_received",
                    "check_in_sent",
                    "check_in_answer",
                ]
            },
        ),
        (
            "What happened",
            {
                "fields": ["status", "hours", "outcome_notes"],
                "description": "To record what happened or to cancel, tick the session on the "
                "session list and choose an action there, with the hours and notes beside it.",
            },
        ),
        ("Record", {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    def get_queryset(self, request):
        # The list's own list_select_related is skipped once the queryset has any, so all here.
        return (
            super()
            .get_queryset(request)
            .with_confirmation_state()
            .select_related(
                "match__volunteer",
                "match__peer",
                "reminder__answered_by",
                "check_in__answered_by",
            )
        )

    def get_fieldsets(self, request, obj=None):
        return self.fieldsets if obj else self.fieldsets[:1]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "match"] if obj else self.readonly_fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "match":
            kwargs["queryset"] = Match.objects.active().select_related("volunteer", "peer")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None):
        """A session that is settled, or whose match is over, is only read."""
        if obj is not None and (
            obj.status not in services.RESCHEDULABLE or obj.match.status != Match.Status.ACTIVE
        ):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # cancelled, never deleted

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        times = {"starts_at": data["starts_at"], "ends_at": data["ends_at"]}
        if not change:
            saved = services.schedule_session(
                data["match"], **times, mode=data["mode"], place=data["place"]
            )
        elif form.has_changed():
            saved = services.reschedule_session(
                obj, **times, mode=data["mode"], place=data["place"]
            )
        else:
            return
        self.take_saved(obj, saved)

    @admin.display(description="volunteer", ordering="match__volunteer__preferred_name")
    def volunteer(self, session):
        return session.match.volunteer

    @admin.display(description="peer", ordering="match__peer")
    def peer(self, session):
        return session.match.peer

    @admin.display(description="confirmation", ordering="confirmation_state")
    def confirmation(self, session):
        state = getattr(session, "confirmation_state", None)
        if state is None:
            return "-"
        label = ConfirmationState(state).label
        if state in NEEDS_THE_OFFICE:
            return format_html('<strong class="errornote">&#9888; {}</strong>', label)
        return label

    @admin.display(description="reminded", ordering="reminder__sent_at")
    def reminded(self, session):
        reminder = session.reminder
        if reminder is None:
            return "-"
        if reminder.sent_at is None:
            return reminder.get_status_display()
        return f"{_when(reminder.sent_at)} ({reminder.get_status_display().lower()})"

    @admin.display(description="answer")
    def answer(self, session):
        reply = session.reminder.answered_by if session.reminder else None
        return Truncator(reply.body).chars(40) if reply else "-"

    @admin.display(description="reminder")
    def reminder_sent(self, session):
        return _text_shown(session.reminder)

    @admin.display(description="their answer")
    def answer_received(self, session):
        return self._reply_shown(session.reminder)

    @admin.display(description="after-session check-in")
    def check_in_sent(self, session):
        return _text_shown(session.check_in)

    @admin.display(description="answer to the check-in")
    def check_in_answer(self, session):
        return self._reply_shown(session.check_in)

    @staticmethod
    def _reply_shown(question):
        reply = question.answered_by if question else None
        if reply is None:
            return "-"
        return format_html("{}<br><q>{}</q>", _when(reply.created_at), reply.body)


# Exclusions ------------------------------------------------------------------------------


class ExclusionForm(forms.ModelForm):
    class Meta:
        model = Exclusion
        fields = ["peer", "volunteer", "reason"]

    def clean(self):
        cleaned = super().clean()
        if not self._errors and cleaned.get("peer") and cleaned.get("volunteer"):
            cleaned["reason"] = services.check_exclusion(
                cleaned["peer"], cleaned["volunteer"], reason=cleaned.get("reason")
            )
        return cleaned


@admin.register(Exclusion)
class ExclusionAdmin(ThroughServicesMixin, PeerReferenceSearchMixin, admin.ModelAdmin):
    """Pairs who must never be matched. To change one, delete it and add it again."""

    form = ExclusionForm
    list_display = ["volunteer", "peer", "reason", "created_by", "created_at"]
    list_select_related = ["volunteer", "peer", "created_by"]
    search_fields = ["volunteer__preferred_name", "volunteer__full_name", "peer__preferred_name"]
    search_help_text = "A volunteer's name, a peer's name or reference (P-000123)."
    peer_id_field = "peer_id"
    autocomplete_fields = ["peer", "volunteer"]
    readonly_fields = ["created_by", "created_at"]

    def has_change_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = services.add_exclusion(
            data["peer"], data["volunteer"], reason=data["reason"], by=request.user
        )
        self.take_saved(obj, saved)

    def delete_model(self, request, obj):
        services.remove_exclusion(obj)

    def delete_queryset(self, request, queryset):
        for exclusion in queryset:
            services.remove_exclusion(exclusion)


class ScoreFilter(admin.SimpleListFilter):
    title = "answer"
    parameter_name = "score"

    def lookups(self, request, model_admin):
        return [
            ("low", "1 or 2"),
            *((str(score), str(score)) for score in range(1, 6)),
            ("none", "No answer"),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "low":
            return queryset.filter(score__lte=2)
        if value == "none":
            return queryset.filter(score__isnull=True)
        if value in {"1", "2", "3", "4", "5"}:
            return queryset.filter(score=int(value))
        return queryset


@admin.register(WellbeingCheckIn)
class WellbeingCheckInAdmin(ReadOnlyAdmin):
    """The weekly wellbeing answers, to read: only the volunteer's reply writes one."""

    list_display = ["week", "volunteer", "answer", "asked_at", "answered_at"]
    list_filter = [("volunteer", admin.RelatedOnlyFieldListFilter), ScoreFilter]
    list_select_related = ["volunteer"]
    search_fields = ["volunteer__preferred_name", "volunteer__full_name"]
    date_hierarchy = "week"
    ordering = ["-week", "volunteer__preferred_name", "pk"]
    fields = ["volunteer", "week", "asked_at", "question", "score", "answered_at", "reply"]

    @admin.display(description="answer", ordering="score")
    def answer(self, check_in):
        return "no answer" if check_in.score is None else f"{check_in.score} of 5"


# Follow-ups ------------------------------------------------------------------------------


class FollowUpStateFilter(StateFilter):
    """Open follow-ups unless asked otherwise: those are what still needs someone."""

    states = [
        ("open", "Open", lambda follow_ups: follow_ups.open()),
        ("handled", "Handled", lambda follow_ups: follow_ups.handled()),
        ("all", "All", None),
    ]


class HandleForm(forms.Form):
    note = forms.CharField(
        label="What was done",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text="For the record, e.g. “Phoned Senga; the session moves to Thursday.” "
        "The same note goes on each follow-up chosen.",
    )


def _link(record, *, text=None):
    if record is None:
        return "-"
    opts = record._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[record.pk])
    return format_html('<a href="{}">{}</a>', url, text or str(record))


@admin.action(description="Mark handled, with a note", permissions=["handle"])
def mark_handled(modeladmin, request, queryset):
    """Ask for a note on a page of its own, then handle each chosen follow-up with it."""
    chosen = queryset.order_by("pk")
    form = HandleForm(request.POST if "apply" in request.POST else None)
    if form.is_valid():
        handled = 0
        for follow_up in chosen:
            try:
                follow_ups.handle_follow_up(
                    follow_up, by=request.user, note=form.cleaned_data["note"]
                )
            except ValidationError as refusal:
                modeladmin.message_user(
                    request, f"“{follow_up}”: {' '.join(refusal.messages)}", messages.ERROR
                )
            else:
                handled += 1
        if handled:
            noun = "follow-up" if handled == 1 else "follow-ups"
            modeladmin.message_user(request, f"{handled} {noun} marked handled.", messages.SUCCESS)
        return None
    return TemplateResponse(
        request,
        "admin/matching/followup/mark_handled.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": "Mark follow-ups handled",
            "opts": modeladmin.model._meta,
            "follow_ups": list(chosen),
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "action": "mark_handled",
        },
    )


@admin.register(FollowUp)
class FollowUpAdmin(ReadOnlyAdmin):
    """Everything that needs a person, most urgent first; read here, and handled with the
    "Mark handled" action, which asks what was done."""

    list_display = ["urgency", "kind", "summary", "subject", "raised_at", "handled_at"]
    list_filter = [FollowUpStateFilter, "kind", "urgency"]
    list_select_related = ["session", "volunteer", "message"]
    search_fields = ["summary", "volunteer__full_name", "volunteer__preferred_name"]
    search_help_text = "Words in the summary, or a volunteer's name."
    actions = [mark_handled]
    fieldsets = [
        (None, {"fields": ["kind", "urgency", "summary", "raised_at"]}),
        ("About", {"fields": ["session_link", "volunteer_link", "message_link"]}),
        ("Handled", {"fields": ["handled_at", "handled_by", "handled_note"]}),
        ("Record", {"fields": ["cause"], "classes": ["collapse"]}),
    ]
    readonly_fields = [
        "kind",
        "urgency",
        "summary",
        "raised_at",
        "session_link",
        "volunteer_link",
        "message_link",
        "handled_at",
        "handled_by",
        "handled_note",
        "cause",
    ]

    def get_queryset(self, request):
        # Not super()'s: it orders by get_ordering before the rank it orders by exists.
        return FollowUp.objects.most_urgent_first()

    def get_ordering(self, request):
        return ["urgency_rank", "raised_at", "pk"]  # most_urgent_first's

    # Coordinators read and handle follow-ups whether or not the group holds the model's
    # permissions; anyone else needs them.

    def has_view_permission(self, request, obj=None):
        return request.user.is_coordinator or super().has_view_permission(request, obj)

    def has_handle_permission(self, request):
        return request.user.is_coordinator or request.user.has_perm("matching.change_followup")

    @admin.display(description="about")
    def subject(self, follow_up):
        if follow_up.session_id:
            return _link(follow_up.session)
        if follow_up.volunteer_id:
            return _link(follow_up.volunteer)
        return _link(follow_up.message, text=f"Text {follow_up.message_id}")

    @admin.display(description="session")
    def session_link(self, follow_up):
        return _link(follow_up.session)

    @admin.display(description="volunteer")
    def volunteer_link(self, follow_up):
        return _link(follow_up.volunteer)

    @admin.display(description="text")
    def message_link(self, follow_up):
        return _link(follow_up.message)
