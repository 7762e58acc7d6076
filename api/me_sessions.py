"""/api/v1/me/sessions/: the signed-in volunteer's sessions, for the partner app.

Every session of every match the volunteer has had, ended matches included; someone else's
session is a 404, as one that does not exist. A row names the peer by their first name only.
`when=upcoming` lists the sessions not over yet (ends_at still to come, the one under way
included), soonest first; `when=past` those over, most recent first; without `when`, all of
them, most recent start first. Cancelled sessions are listed too, with their status, so the
app can show that they are off.

Confirming and declining go through `matching.services.confirm_session` and
`decline_session`, the services a YES or NO text goes through, which also settle the
session's SMS reminder: once answered in the app, a later text is not read as the answer.

Answers carry a strong ETag (see api.etags): on the list it covers the rows of the page, the
query and the count; on a session, everything the row shows. If-None-Match gives a 304,
If-Match on confirm and decline a 412 when the session changed since it was read.
"""

import functools

import django_filters
from django.db.models import (
    BooleanField,
    CharField,
    Count,
    DateField,
    DateTimeField,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    Subquery,
    Value,
    Window,
)
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api import etags, fields
from api.filters import Filters, KnownParametersOnly
from api.matches import read_nothing
from api.permissions import IsVolunteer
from api.serializers import ModelSerializer, StrictSerializer
from api.sessions import SessionDates, SessionFilterForm, SessionStatusField
from api.views import AtomicWrites, ThrottleBeforePermissions
from community.errors import StateConflict
from config.compiled_queries import Compiled, Slot
from matching import services
from matching.models import ConfirmationState, Session
from messaging.models import OptOut

UPCOMING, PAST = "upcoming", "past"

MY_SESSION_EXAMPLE = {
    "id": 210,
    "match": 31,
    "starts_at": "2026-05-14T14:00:00+01:00",
    "ends_at": "2026-05-14T15:00:00+01:00",
    "mode": "in_person",
    "place": "Coatbridge library",
    "status": "scheduled",
    "confirmation_state": "awaiting_reply",
    "hours": None,
    "peer_name": "Jamie",
    "can_confirm": True,
    "can_decline": True,
}
CONFIRMED_EXAMPLE = {
    **MY_SESSION_EXAMPLE,
    "status": "confirmed",
    "confirmation_state": "confirmed",
    "can_confirm": False,
}
DECLINED_EXAMPLE = {
    **MY_SESSION_EXAMPLE,
    "status": "declined",
    "confirmation_state": "declined",
    "can_confirm": False,
    "can_decline": False,
}

# What a row shows, as the database reads it, in the order its version takes them.
# `confirmation_state` is not read as such: the version takes what it is made of (the status
# and at-risk flag here, the reminder and its delivery; and whether the volunteer can be
# texted at all, `texting_inputs`, once a request). With whether the session has started
# (what may still be answered follows from that and the status), a change to anything a row
# shows is a new version.
SHOWN = (
    "pk",
    "match_id",
    "starts_at",
    "ends_at",
    "mode",
    "place",
    "status",
    "hours",
    "match__peer__preferred_name",
    "updated_at",
    "at_risk_since",
    "reminder_id",
    "reminder__status",
)
# What a fetched session reads: the columns its row shows (and what may still be answered
# follows from), no more; the peer's first name comes with them as a plain value, and its
# version and confirmation state are made by the database. Confirming and declining read
# the session again, whole, under a lock.
MY_SESSION_COLUMNS = ("match", "starts_at", "ends_at", "mode", "place", "status", "hours")


def versioned(queryset, now):
    """Sessions with each one's `version`, a digest the database makes of the values shown,
    and whether it has `started` by `now`: a page is tagged without fetching, parsing or
    serialising its rows."""
    return queryset.annotate(
        version=etags.digest(*SHOWN),
        started=ExpressionWrapper(Q(starts_at__lte=now), output_field=BooleanField()),
    )


def version_of(session):
    return session.version, session.started


def e164_of(volunteer):
    return volunteer.phone.as_e164 if volunteer.phone else ""


def opt_outs_of(e164):
    """The current opt-outs of the number with this E.164 text (or a Slot for it); no number
    has none."""
    opt_outs = OptOut.objects.current()
    if e164:
        opt_outs = opt_outs.of_e164(e164 if isinstance(e164, Slot) else Value(e164))
    else:
        opt_outs = opt_outs.none()
    return opt_outs.values_list("pk", flat=True)


def with_opt_out(queryset, e164, now):
    """`versioned` sessions with the volunteer's current opt-out beside each (part of every
    tag), so that a tag is read in one query."""
    return versioned(queryset, now).annotate(opt_out=Subquery(opt_outs_of(e164)[:1]))


def texting_inputs(volunteer, e164, opt_out):
    """What `volunteer_cannot_be_texted` reads of the volunteer (their consent and phone, as
    loaded with the request, and their phone's current opt-out): part of every session's
    confirmation state, read once for a whole page, in a query much cheaper than the rule."""
    return volunteer.sms_consent, e164, opt_out


def sessions_of(volunteer):
    """The volunteer's sessions over all their matches, most recent start first."""
    return Session.objects.of_volunteer(volunteer).order_by("-starts_at", "-pk")


def sessions_when(queryset, when, now):
    """upcoming: not over by `now`, soonest first; past: over, most recent first."""
    if when == UPCOMING:
        return queryset.filter(ends_at__gt=now).order_by("starts_at", "pk")
    return queryset.filter(ends_at__lte=now).order_by("-starts_at", "-pk")


@functools.lru_cache(maxsize=256)
def page_tag_query(when, dates, bounds, texted, zone):
    """The query a page's tag is read with, for one shape of request, compiled once: the
    rows' versions and whether each has started, the opt-out and the count. Its slots are
    the volunteer's id, the moment, the dates in `dates` and, when `texted`, the E.164
    number. `zone`, the time zone the dates are read in, is part of its SQL."""
    now = Slot("now", DateTimeField())
    sessions = sessions_of(Slot("volunteer", IntegerField()))
    if when:
        sessions = sessions_when(sessions, when, now)
    for name in dates:
        sessions = MySessionFilter.base_filters[name].filter(sessions, Slot(name, DateField()))
    phone = Slot("phone", CharField()) if texted else ""
    tags = (
        with_opt_out(sessions, phone, now)
        .annotate(total=Window(Count("pk")))
        .values_list("version", "started", "opt_out", "total")
    )
    return Compiled(tags[slice(*bounds)])


def in_your_words(conflict, session, *, doing):
    """The services' refusal of a volunteer's answer, said to the volunteer: their session by
    its time, and what it means for them. The services' own words are the office's (they
    name the volunteer, the peer's reference and the office's next step); the code stays."""
    yours = f"Your session on {timezone.localtime(session.starts_at):%-d %B %Y at %H:%M}"
    status = Session.Status(session.status)
    if conflict.code == "already_in_status":
        words = f"{yours} is already {status.label.lower()}; nothing was changed."
    elif conflict.code == "session_started":
        words = f"{yours} has already started; it is too late to {doing} it."
    elif status == Session.Status.DECLINED:
        words = (
            f"{yours} is declined, so it cannot be confirmed now; the office will be in touch "
            "to find a new time."
        )
    elif status == Session.Status.CANCELLED:
        words = f"{yours} is cancelled; there is nothing to {doing}."
    else:
        words = f"{yours} has taken place; there is nothing to {doing}."
    return StateConflict(words, code=conflict.code)


class MySessionSerializer(ModelSerializer):
    """One of your sessions with a person you support (named by their first name only)."""

    status = SessionStatusField(
        help_text="scheduled; confirmed or declined by you; cancelled; completed or no_show "
        "once it has taken place (or not)."
    )
    confirmation_state = fields.ChoiceField(
        choices=ConfirmationState.choices,
        read_only=True,
        help_text="Where your confirmation stands: not_reminded_yet; awaiting_reply "
        "(reminded, no answer yet); confirmed; declined; at_risk (not confirmed in time); "
        "cannot_text (texts cannot reach you); settled (cancelled, or it has taken place).",
    )
    hours = serializers.DecimalField(
        max_digits=4,
        decimal_places=2,
        read_only=True,
        allow_null=True,
        help_text="Your volunteer hours, recorded once it took place; null until then.",
    )
    peer_name = serializers.CharField(
        read_only=True,
        help_text="The first name of the person you support, and nothing more.",
    )
    can_confirm = serializers.SerializerMethodField(
        help_text="Whether POST .../confirm/ would be accepted now (scheduled, not started)."
    )
    can_decline = serializers.SerializerMethodField(
        help_text="Whether POST .../decline/ would be accepted now (scheduled or confirmed, "
        "not started)."
    )

    class Meta:
        model = Session
        fields = [
            "id",
            "match",
            "starts_at",
            "ends_at",
            "mode",
            "place",
            "status",
            "confirmation_state",
            "hours",
            "peer_name",
            "can_confirm",
            "can_decline",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "match": {"help_text": "Your match's id."},
            "place": {"help_text": "Where you meet; empty for phone and video."},
        }

    def _answers(self, session):
        return services.answers_open(session, now=self.context.get("now"))

    def get_can_confirm(self, session) -> bool:
        return self._answers(session)[0]

    def get_can_decline(self, session) -> bool:
        return self._answers(session)[1]


class DeclineSerializer(StrictSerializer):
    """Why you cannot come, if you wish to say; the office reads it."""

    note = fields.CharField(
        required=False,
        allow_blank=True,
        max_length=services.DECLINE_NOTE_MOST,
        help_text=f"Plain text, at most {services.DECLINE_NOTE_MOST} characters, e.g. "
        "“I have a hospital appointment.” The office sees it with your answer.",
    )


class MySessionFilter(SessionDates):
    when = django_filters.ChoiceFilter(
        choices=[(UPCOMING, "Upcoming"), (PAST, "Past")],
        method="filter_when",
        label="upcoming: not over yet (the one under way included), soonest first; past: "
        "over, most recent first. Leave it out for all, most recent first.",
    )

    class Meta:
        model = Session
        form = SessionFilterForm
        fields = ["when", "starts_after", "starts_before"]

    def filter_when(self, queryset, name, value):
        return sessions_when(queryset, value, timezone.now())


LIST_RESPONSES = {
    200: OpenApiResponse(MySessionSerializer(many=True)),
    304: etags.NOT_MODIFIED,
}


class MySessionViewSet(AtomicWrites, ThrottleBeforePermissions, viewsets.GenericViewSet):
    """Your sessions, over all your matches (ended ones included): the ones to come and the
    ones gone by. Confirm or decline one here, as you would by replying to its reminder."""

    permission_classes = [IsVolunteer]
    serializer_class = MySessionSerializer
    filterset_class = MySessionFilter
    # No search and no ordering: the order follows `when`.
    filter_backends = [KnownParametersOnly, Filters]
    queryset = Session.objects.none()
    conflict_actions = {"confirm", "decline"}
    summaries = {
        "list": "List my sessions",
        "retrieve": "Read one of my sessions",
        "confirm": "Confirm I will be at a session",
        "decline": "Say I cannot make a session",
    }
    example = MY_SESSION_EXAMPLE
    action_examples = {
        "confirm": {"response": CONFIRMED_EXAMPLE},
        "decline": {
            "request": {"note": "I have a hospital appointment that morning."},
            "response": DECLINED_EXAMPLE,
        },
    }

    def sessions(self):
        """The volunteer's sessions, as the tags read them: without the annotations."""
        if getattr(self, "swagger_fake_view", False):
            return Session.objects.none()
        return sessions_of(self.request.volunteer)

    def get_queryset(self):
        sessions = (
            self.sessions()
            .with_confirmation_state()
            .annotate(peer_name=F("match__peer__preferred_name"))
            .only(*MY_SESSION_COLUMNS)
        )
        return versioned(sessions, getattr(self, "now", None) or timezone.now())

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": getattr(self, "now", None)}

    def initial(self, request, *args, **kwargs):
        # One moment for the whole answer: what may be answered, and its tag.
        self.now = timezone.now()
        super().initial(request, *args, **kwargs)

    # Tags ----------------------------------------------------------------------------------

    def _page_tag(self, count, versions):
        return etags.tag_of(
            self.request,
            self.request.build_absolute_uri(),
            self._texting(),
            count,
            versions,
        )

    def _session_tag(self, version):
        return etags.tag_of(self.request, self._texting(), version)

    def _e164(self):
        if not hasattr(self, "_volunteer_e164"):
            self._volunteer_e164 = e164_of(self.request.volunteer)
        return self._volunteer_e164

    def _texting(self):
        if not hasattr(self, "_texting_inputs"):
            opt_out = opt_outs_of(self._e164()).first()
            self._texting_inputs = texting_inputs(self.request.volunteer, self._e164(), opt_out)
        return self._texting_inputs

    def _answer(self, session):
        """The session as the list shows it, read again, with its tag."""
        fresh = self.get_queryset().get(pk=session.pk)
        response = Response(self.get_serializer(fresh).data)
        return etags.tagged(response, self._session_tag(version_of(fresh)))

    def _as_read(self, pk):
        """The session, locked until the answer, after If-Match has been checked against it."""
        session = get_object_or_404(self.get_queryset().select_for_update(of=("self",)), pk=pk)
        tag = self._session_tag(version_of(session))
        etags.check_if_match(self.request, tag, what="The session")
        return session

    def _filters(self):
        """(when, {date filter: date}) as the request gives them, checked as the list checks
        them; None when they are not right (the full answer says why)."""
        KnownParametersOnly().filter_queryset(self.request, Session.objects.none(), self)
        filterset = MySessionFilter(self.request.query_params, request=self.request)
        if not filterset.is_valid():
            return None
        given = {name: value for name, value in filterset.form.cleaned_data.items() if value}
        return given.pop("when", None), given

    def _known_page(self):
        """(count, versions) of the page asked for, in one query compiled once for its
        shape, or None when it is not a page (the full answer says why)."""
        bounds = self.paginator.page_bounds(self.request)
        filters = self._filters()
        if bounds is None or filters is None:
            return None
        when, dates = filters
        e164 = self._e164()
        query = page_tag_query(
            when, tuple(dates), bounds, bool(e164), timezone.get_current_timezone_name()
        )
        rows = query.rows(
            volunteer=self.request.volunteer.pk,
            now=self.now,
            **dates,
            **({"phone": e164} if e164 else {}),
        )
        if not rows:
            # None at all, or no such page: the full answer's 404 says which page there is.
            return (0, []) if bounds[0] == 0 else None
        self._texting_inputs = texting_inputs(self.request.volunteer, e164, rows[0][2])
        return rows[0][3], [row[:2] for row in rows]

    # Reads ---------------------------------------------------------------------------------

    @extend_schema(parameters=[etags.IF_NONE_MATCH, etags.ETAG_HEADER], responses=LIST_RESPONSES)
    def list(self, request):
        """Your sessions, a page at a time: filter with when (upcoming, past) and a date
        range (starts_after, starts_before, Europe/London dates, both included). Send the
        ETag of the page you have as If-None-Match: if nothing on it (nor the count) has
        changed the answer is a 304 with no body."""
        if request.headers.get("If-None-Match") and (known := self._known_page()):
            tag = self._page_tag(*known)
            if etags.unchanged_for(request, tag):
                return etags.not_modified(tag)
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        versions = [version_of(session) for session in page]
        response = self.get_paginated_response(self.get_serializer(page, many=True).data)
        return etags.tagged(response, self._page_tag(self.paginator.page.paginator.count, versions))

    @extend_schema(
        parameters=[etags.IF_NONE_MATCH, etags.ETAG_HEADER],
        responses={200: MySessionSerializer, 304: etags.NOT_MODIFIED},
    )
    def retrieve(self, request, pk=None):
        """One of your sessions. 404 when it is not yours (or does not exist). With the ETag
        you have as If-None-Match, a 304 with no body while it is unchanged."""
        if request.headers.get("If-None-Match") and (known := self._known_session(pk)):
            tag = self._session_tag(known)
            if etags.unchanged_for(request, tag):
                return etags.not_modified(tag)
        session = get_object_or_404(self.get_queryset(), pk=pk)
        response = Response(self.get_serializer(session).data)
        return etags.tagged(response, self._session_tag(version_of(session)))

    def _known_session(self, pk):
        """The session's version, read with the opt-out in one query; None when there is no
        such session of theirs."""
        row = (
            with_opt_out(self.sessions().filter(pk=pk), self._e164(), self.now)
            .values_list("version", "started", "opt_out")
            .first()
        )
        if row is None:
            return None
        self._texting_inputs = texting_inputs(self.request.volunteer, self._e164(), row[2])
        return row[:2]

    # Answers -------------------------------------------------------------------------------

    @extend_schema(
        request=None,
        parameters=[etags.IF_MATCH, etags.ETAG_HEADER],
        responses={
            200: MySessionSerializer,
            etags.PRECONDITION_FAILED_KEY: etags.PRECONDITION_FAILED,
        },
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """Say you will be there, as replying YES to the reminder does; the reminder then
        awaits no reply. No body. 409 when it is confirmed already, declined (the office
        finds a new time), cancelled, over, or has started; 412 when If-Match names an
        ETag it no longer has."""
        read_nothing(request)
        session = self._as_read(pk)
        try:
            services.confirm_session(session)
        except StateConflict as conflict:
            raise in_your_words(conflict, session, doing="confirm") from None
        return self._answer(session)

    @extend_schema(
        request=DeclineSerializer,
        parameters=[etags.IF_MATCH, etags.ETAG_HEADER],
        responses={
            200: MySessionSerializer,
            etags.PRECONDITION_FAILED_KEY: etags.PRECONDITION_FAILED,
        },
    )
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        """Say you cannot make it, as replying NO does, with a note for the office if you
        wish; the office will reschedule or cancel it, and the reminder awaits no reply.
        409 when it is declined already, cancelled, over, or has started; 412 when If-Match
        names an ETag it no longer has."""
        decline = DeclineSerializer(data=request.data if request.data else {})
        decline.is_valid(raise_exception=True)
        session = self._as_read(pk)
        try:
            services.decline_session(session, note=decline.validated_data.get("note", ""))
        except StateConflict as conflict:
            raise in_your_words(conflict, session, doing="decline") from None
        return self._answer(session)
