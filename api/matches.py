"""Matching for coordinators: suggestions and why-not, matches, exclusions, bulk assignment.

Every write goes through `matching.services` (or `matching.assignment`, which calls them):
a refusal there is a 400 (a ValidationError) or a 409 (a StateConflict: the records' state
does not allow it), and nothing is written. The services decide who may be proposed and
record the engine's score and reasons; the views here only read the request and answer.
"""

import django_filters
from django.db.models import Q
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from api import fields, problems
from api.filters import RecordFilter
from api.schema import ERRORS, AutoSchema
from api.serializers import ModelSerializer, StrictModelSerializer, StrictSerializer
from api.views import AtomicWrites, ThrottleBeforePermissions
from community.errors import StateConflict
from matching import engine, services
from matching.assignment import propose_for_waiting_list
from matching.models import Exclusion, Match
from peers.models import Peer
from volunteers.models import Volunteer

# Closed matches (declined or ended) stay on a volunteer's or peer's page this long; the
# whole history is at /api/v1/matches/?volunteer={id} (or ?peer={id}).
RECENT_DAYS = 90

# Ids are 64-bit; anything larger names no record (and must not reach the database).
LARGEST_ID = 2**63 - 1

SUGGESTIONS_DEFAULT = 10
SUGGESTIONS_MOST = 50

REASONS_EXAMPLE = [
    "Both in Coatbridge (2.0 of 2 points)",
    "Available 2 hours a week at P-000123's preferred times (2.0 of 3 points)",
    "Lived experience of drugs (2.0 of 2 points)",
    "Speaks English, as P-000123 does (1.0 of 1 point)",
    "P-000123 has not asked for a supporter's gender (0.0 of 1 point)",
    "Supports 1 person of up to 2 (0.5 of 1 point)",
]

MATCH_EXAMPLE = {
    "id": 31,
    "peer": 123,
    "peer_reference": "P-000123",
    "volunteer": 17,
    "volunteer_name": "Aileen",
    "status": "proposed",
    "score": 7.5,
    "reasons": REASONS_EXAMPLE,
    "proposed_by": "coordinator@example.org",
    "proposed_at": "2026-05-11T10:30:00+01:00",
    "decided_by": None,
    "decided_at": None,
    "started_on": None,
    "ended_on": None,
    "end_reason": "",
}

ACTIVE_MATCH_EXAMPLE = {
    **MATCH_EXAMPLE,
    "status": "active",
    "decided_by": "coordinator@example.org",
    "decided_at": "2026-05-12T09:15:00+01:00",
    "started_on": "2026-05-12",
}

EXCLUSION_EXAMPLE = {
    "id": 4,
    "peer": 123,
    "peer_reference": "P-000123",
    "volunteer": 17,
    "volunteer_name": "Aileen",
    "reason": "They are neighbours.",
    "created_by": "coordinator@example.org",
    "created_at": "2026-05-11T10:30:00+01:00",
}


# Shared pieces --------------------------------------------------------------------------


class RecordIdField(serializers.PrimaryKeyRelatedField):
    """A record named by its id, a JSON whole number: "17" and true are refused, and an id
    that names nothing is a field error that says so."""

    default_error_messages = {
        "does_not_exist": "There is no {model} with the id {pk_value}.",
        "incorrect_type": "Give the {model}'s id as a whole number (a JSON number).",
    }

    def to_internal_value(self, data):
        model = self.get_queryset().model._meta.verbose_name
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("incorrect_type", model=model, data_type=type(data).__name__)
        if not 1 <= data <= LARGEST_ID:
            self.fail("does_not_exist", model=model, pk_value=data)
        try:
            return self.get_queryset().get(pk=data)
        except self.get_queryset().model.DoesNotExist:
            self.fail("does_not_exist", model=model, pk_value=data)


class ActionViewSet(
    AtomicWrites,
    ThrottleBeforePermissions,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Records written only by services: listed and read here, changed through actions."""

    def answer(self, record, *, status=200):
        """The record as it is now, read again through the list's queryset."""
        fresh = self.get_queryset().get(pk=record.pk)
        return Response(self.get_serializer(fresh).data, status=status)


class NoBody(StrictSerializer):
    """Nothing to send: an empty object, or no body at all."""


def read_nothing(request):
    """Refuse any field in the body of an action that takes none."""
    NoBody(data=request.data if request.data else {}).is_valid(raise_exception=True)


class QueryProblemsSchema(AutoSchema):
    """AutoSchema, and the 400 of a read that checks its query parameters."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction == "response" and "400" not in responses:
            responses["400"] = self._get_response_for_code(
                ERRORS["400"], "400", media_types=[problems.CONTENT_TYPE], direction=direction
            )
            responses = dict(sorted(responses.items()))
        return responses


def read_query(request, known):
    """The query parameters, refusing unknown and empty ones as every list does."""
    errors = {}
    accepted = f"this accepts: {', '.join(sorted(known))}" if known else "this takes none"
    for name, values in request.query_params.lists():
        if name not in known:
            errors[name] = [f"Unknown parameter; {accepted}."]
        elif any(not value.strip() for value in values):
            errors[name] = ["Give a value, or leave the parameter out."]
    if errors:
        raise ValidationError(errors)
    return request.query_params


def search_described(description):
    """The list's `search` parameter, described as this list reads it."""
    return extend_schema_view(
        list=extend_schema(parameters=[OpenApiParameter("search", str, description=description)])
    )


def peer_reference_search(term, *, field="peer_id"):
    """A reference typed as on screen ("P-000123", "p123") finds that peer's records."""
    peer_id = Peer.id_from_reference(term)
    return Q(**{field: peer_id}) if peer_id is not None else None


# Suggestions and why-not ----------------------------------------------------------------


class SuggestionSerializer(serializers.Serializer):
    """A volunteer who may support the peer, with the score broken down in words."""

    volunteer = serializers.IntegerField(source="volunteer.pk", help_text="The volunteer's id.")
    volunteer_name = serializers.CharField(source="volunteer.preferred_name")
    score = serializers.FloatField(help_text="The total of the weighted soft scores.")
    reasons = serializers.ListField(
        child=serializers.CharField(),
        help_text="One sentence per soft score, with the points it earned.",
    )


class SuggestionsSerializer(serializers.Serializer):
    """The volunteers who may support a peer today, best first."""

    peer = serializers.IntegerField(help_text="The peer's id.")
    peer_reference = serializers.CharField()
    suggestions = SuggestionSerializer(many=True)


class WhyNotSerializer(serializers.Serializer):
    """Every hard rule the volunteer fails for the peer today; none when eligible."""

    peer = serializers.IntegerField(help_text="The peer's id.")
    peer_reference = serializers.CharField()
    volunteer = serializers.IntegerField(help_text="The volunteer's id.")
    volunteer_name = serializers.CharField()
    eligible = serializers.BooleanField(help_text="Whether the volunteer passes every rule.")
    reasons = serializers.ListField(
        child=serializers.CharField(),
        help_text="One sentence per failed rule; an empty list when the volunteer is eligible.",
    )


class SuggestionViewSet(ThrottleBeforePermissions, viewsets.GenericViewSet):
    """Who fits a peer, and why; or why a volunteer does not."""

    schema = QueryProblemsSchema()
    serializer_class = SuggestionsSerializer
    summaries = {
        "suggestions": "Suggest volunteers for a peer",
        "why_not": "Say why a volunteer is not suggested for a peer",
    }
    action_examples = {
        "suggestions": {
            "response": {
                "peer": 123,
                "peer_reference": "P-000123",
                "suggestions": [
                    {
                        "volunteer": 17,
                        "volunteer_name": "Aileen",
                        "score": 7.5,
                        "reasons": REASONS_EXAMPLE,
                    }
                ],
            }
        },
        "why_not": {
            "response": {
                "peer": 123,
                "peer_reference": "P-000123",
                "volunteer": 18,
                "volunteer_name": "Senga",
                "eligible": False,
                "reasons": [
                    "Naloxone administration expired on 1 October 2026.",
                    "Hamilton is 14 km away; travel radius is 10 km.",
                ],
            }
        },
    }

    def peer(self):
        return get_object_or_404(Peer, pk=self.kwargs["peer_id"])

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "limit",
                {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": SUGGESTIONS_MOST,
                    "default": SUGGESTIONS_DEFAULT,
                },
                description=f"How many to suggest: 1 to {SUGGESTIONS_MOST}, "
                f"{SUGGESTIONS_DEFAULT} by default.",
            )
        ],
        responses=SuggestionsSerializer,
    )
    def suggestions(self, request, peer_id=None):
        """The volunteers who pass every hard rule for the peer today (active, trained, PVG
        current, below capacity, not away, not excluded, within reach, the gender and
        language asked for), best score first, each with the score broken down in words.
        Ties go to the lower id, so the same records always give the same order. To see why
        someone is missing, ask why-not."""
        peer = self.peer()
        query = read_query(request, {"limit"})
        raw = query.get("limit", str(SUGGESTIONS_DEFAULT))
        try:
            limit = int(raw)
        except ValueError:
            limit = 0
        if not 1 <= limit <= SUGGESTIONS_MOST:
            raise ValidationError(
                {
                    "limit": [
                        f"“{raw}” is not a limit: give a whole number from 1 to {SUGGESTIONS_MOST}."
                    ]
                }
            )
        found = engine.suggest(peer, limit=limit)
        body = {"peer": peer.pk, "peer_reference": peer.reference, "suggestions": found}
        return Response(SuggestionsSerializer(body).data)

    @extend_schema(responses=WhyNotSerializer)
    def why_not(self, request, peer_id=None, volunteer_id=None):
        """Every hard rule the volunteer fails for the peer today, in words (“Naloxone
        administration expired on 1 October 2026”, “Hamilton is 14 km away; travel radius
        is 10 km”). An empty list means the volunteer is eligible and among the
        suggestions. 404 when the peer or the volunteer does not exist."""
        peer = self.peer()
        volunteer = get_object_or_404(Volunteer, pk=volunteer_id)
        read_query(request, set())
        reasons = engine.why_not(peer, volunteer)
        body = {
            "peer": peer.pk,
            "peer_reference": peer.reference,
            "volunteer": volunteer.pk,
            "volunteer_name": volunteer.preferred_name,
            "eligible": not reasons,
            "reasons": reasons,
        }
        return Response(WhyNotSerializer(body).data)


# Matches --------------------------------------------------------------------------------


class MatchSerializer(StrictModelSerializer):
    """A volunteer supporting a peer, from proposal to end, with the engine's score and
    reasons as they were at the proposal."""

    peer_reference = serializers.CharField(
        source="peer.reference", read_only=True, help_text="What screens show for the peer."
    )
    volunteer_name = serializers.CharField(source="volunteer.preferred_name", read_only=True)
    score = serializers.FloatField(
        read_only=True,
        allow_null=True,
        help_text="The engine's score at the proposal; null when the engine gave none.",
    )
    reasons = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="The score broken down in words, as at the proposal.",
    )
    proposed_by = serializers.SlugRelatedField(
        slug_field="email",
        read_only=True,
        allow_null=True,
        help_text="The email of the coordinator who proposed it; null when no one signed in "
        "did (or their account is gone).",
    )
    decided_by = serializers.SlugRelatedField(
        slug_field="email",
        read_only=True,
        allow_null=True,
        help_text="The email of the coordinator who approved or declined it; null while it "
        "waits for a decision.",
    )

    class Meta:
        model = Match
        fields = [
            "id",
            "peer",
            "peer_reference",
            "volunteer",
            "volunteer_name",
            "status",
            "score",
            "reasons",
            "proposed_by",
            "proposed_at",
            "decided_by",
            "decided_at",
            "started_on",
            "ended_on",
            "end_reason",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "status": {
                "help_text": "proposed (waiting for a coordinator's decision), active, "
                "declined or ended."
            },
            "started_on": {"help_text": "The day it was approved."},
            "end_reason": {"help_text": "Why it was declined or ended."},
        }


class NewMatchSerializer(StrictSerializer):
    """A volunteer to propose for a peer who is waiting."""

    peer = RecordIdField(queryset=Peer.objects.all(), help_text="The peer's id.")
    volunteer = RecordIdField(queryset=Volunteer.objects.all(), help_text="The volunteer's id.")


class DeclineMatchSerializer(StrictSerializer):
    """Why the proposal is declined, for the record."""

    reason = fields.CharField(
        required=False, allow_blank=True, max_length=2000, help_text="Why, for the record."
    )


class EndMatchSerializer(StrictSerializer):
    """Why the match ends, and where the peer goes."""

    reason = fields.CharField(max_length=2000, help_text="Required: why it ended.")
    peer_back_to_waiting = fields.BooleanField(
        required=False,
        default=True,
        help_text="true (the default): the peer goes back on the waiting list for another "
        "supporter; false: their record is closed (their support has ended).",
    )


class MatchFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Match.Status.choices)
    peer = RecordFilter(queryset=Peer.objects.all(), label="The peer's id.")
    volunteer = RecordFilter(queryset=Volunteer.objects.all(), label="The volunteer's id.")

    class Meta:
        model = Match
        fields = ["status", "peer", "volunteer"]


@search_described(
    "Words to find in the volunteer's or the peer's names; or the peer's reference as on "
    "screen (P-000123)."
)
class MatchViewSet(ActionViewSet):
    """Matches of a volunteer and a peer, newest proposal first. A coordinator proposes one
    (or bulk assignment does), then approves or declines it; an active match ends with a
    reason. Nothing is matched without a coordinator's approval, and matches are never
    deleted: declined and ended ones are the history."""

    queryset = Match.objects.all()
    serializer_class = MatchSerializer
    filterset_class = MatchFilter
    search_fields = [
        "volunteer__preferred_name",
        "volunteer__full_name",
        "peer__preferred_name",
        "peer__full_name",
    ]
    extra_search = staticmethod(peer_reference_search)
    ordering_fields = ["proposed_at", "decided_at", "started_on", "ended_on", "score"]
    ordering = ["-proposed_at"]
    conflict_actions = {"create", "approve", "decline", "end"}
    summaries = {
        "create": "Propose a match",
        "approve": "Approve a proposed match",
        "decline": "Decline a proposed match",
        "end": "End an active match",
    }
    example = MATCH_EXAMPLE
    action_examples = {
        "create": {"request": {"peer": 123, "volunteer": 17}},
        "approve": {"response": ACTIVE_MATCH_EXAMPLE},
        "decline": {
            "request": {"reason": "Aileen knows the family."},
            "response": {
                **MATCH_EXAMPLE,
                "status": "declined",
                "decided_by": "coordinator@example.org",
                "decided_at": "2026-05-12T09:15:00+01:00",
                "end_reason": "Aileen knows the family.",
            },
        },
        "end": {
            "request": {"reason": "Jamie moved to Glasgow.", "peer_back_to_waiting": False},
            "response": {
                **ACTIVE_MATCH_EXAMPLE,
                "status": "ended",
                "ended_on": "2026-09-30",
                "end_reason": "Jamie moved to Glasgow.",
            },
        },
    }

    def get_queryset(self):
        return Match.objects.select_related("peer", "volunteer", "proposed_by", "decided_by")

    @extend_schema(request=NewMatchSerializer, responses={201: MatchSerializer})
    def create(self, request, *args, **kwargs):
        """Propose the volunteer for the peer, with the engine's score and reasons as they are
        now; the match is proposed until a coordinator approves or declines it. 409 when the
        volunteer fails a hard rule for the peer (the detail lists every one, as why-not
        does), when the peer is not waiting or already has a proposed or active match, or
        when the volunteer is not active or at capacity."""
        new = NewMatchSerializer(data=request.data)
        new.is_valid(raise_exception=True)
        peer, volunteer = new.validated_data["peer"], new.validated_data["volunteer"]
        match = services.propose_match(peer, volunteer, by=request.user)
        return self.answer(match, status=201)

    @extend_schema(request=None, responses=MatchSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Start the proposed match today: the peer becomes matched. 409 when the match is
        not proposed (already active, declined or ended), the volunteer is at capacity or no
        longer active, the peer is no longer waiting, or the two have been excluded since.
        Two coordinators approving for a volunteer's last place at once: the second gets
        the 409."""
        read_nothing(request)
        match = self.get_object()
        services.approve_match(match, by=request.user)
        return self.answer(match)

    @extend_schema(request=DeclineMatchSerializer, responses=MatchSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        """Decline the proposal, with an optional reason; the peer stays on the waiting list.
        409 when the match is not proposed."""
        match = self.get_object()
        decline = DeclineMatchSerializer(data=request.data)
        decline.is_valid(raise_exception=True)
        services.decline_match(match, by=request.user, reason=decline.validated_data.get("reason"))
        return self.answer(match)

    @extend_schema(request=EndMatchSerializer, responses=MatchSerializer)
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        """End the active match today, with the reason; its sessions still to come are
        cancelled. The peer goes back on the waiting list, or with
        `peer_back_to_waiting: false` their record is closed (a peer whom a coordinator
        paused or closed meanwhile stays as they are). 409 when the match is not active."""
        match = self.get_object()
        end = EndMatchSerializer(data=request.data)
        end.is_valid(raise_exception=True)
        services.end_match(
            match,
            by=request.user,
            reason=end.validated_data["reason"],
            peer_back_to_waiting=end.validated_data["peer_back_to_waiting"],
        )
        return self.answer(match)


# A volunteer's or peer's matches, on their detail answer --------------------------------


def same_enum_as(component):
    """Document a summary's status as the enum its full record names (MatchStatusEnum,
    SessionStatusEnum) rather than a second copy of it: drf-spectacular names an enum after
    its one component, and the same choices in two components would get a name made of a
    hash (and a warning)."""
    return extend_schema_field({"$ref": f"#/components/schemas/{component}"})


@same_enum_as("MatchStatusEnum")
class MatchStatusField(fields.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=Match.Status.choices, read_only=True, **kwargs)


class MatchSummarySerializer(ModelSerializer):
    status = MatchStatusField()

    class Meta:
        model = Match
        fields = ["id", "status", "proposed_at", "started_on", "ended_on"]
        read_only_fields = fields


class MatchOfVolunteerSerializer(MatchSummarySerializer):
    """One of a volunteer's matches: the peer they support (by reference), and its dates."""

    peer_reference = serializers.CharField(source="peer.reference", read_only=True)

    class Meta(MatchSummarySerializer.Meta):
        fields = ["id", "peer", "peer_reference", "status", "proposed_at", "started_on", "ended_on"]
        read_only_fields = fields


class MatchOfPeerSerializer(MatchSummarySerializer):
    """One of a peer's matches: their supporter, and its dates."""

    volunteer_name = serializers.CharField(source="volunteer.preferred_name", read_only=True)

    class Meta(MatchSummarySerializer.Meta):
        fields = [
            "id",
            "volunteer",
            "volunteer_name",
            "status",
            "proposed_at",
            "started_on",
            "ended_on",
        ]
        read_only_fields = fields


MATCHES_HELP = (
    f"Proposed and active matches, and those declined or ended in the last {RECENT_DAYS} days, "
    "newest first; every match is at /api/v1/matches/."
)


# Exclusions -----------------------------------------------------------------------------


class ExclusionSerializer(StrictModelSerializer):
    """A peer and a volunteer who must never be matched, and why."""

    peer = RecordIdField(queryset=Peer.objects.all(), help_text="The peer's id.")
    peer_reference = serializers.CharField(source="peer.reference", read_only=True)
    volunteer = RecordIdField(queryset=Volunteer.objects.all(), help_text="The volunteer's id.")
    volunteer_name = serializers.CharField(source="volunteer.preferred_name", read_only=True)
    reason = fields.CharField(
        max_length=2000, help_text="Why they must never be matched, e.g. “They are neighbours.”"
    )
    created_by = serializers.SlugRelatedField(
        slug_field="email",
        read_only=True,
        allow_null=True,
        help_text="The email of the coordinator who recorded it; null when no one signed in "
        "did (or their account is gone).",
    )

    class Meta:
        model = Exclusion
        fields = [
            "id",
            "peer",
            "peer_reference",
            "volunteer",
            "volunteer_name",
            "reason",
            "created_by",
            "created_at",
        ]
        read_only_fields = ["created_at"]
        # The pair's uniqueness is answered in `create`, as a 409 that names the exclusion.
        validators = []

    def create(self, validated_data):
        peer, volunteer = validated_data["peer"], validated_data["volunteer"]
        existing = Exclusion.objects.filter(peer=peer, volunteer=volunteer).first()
        if existing is not None:
            raise StateConflict(
                f"{volunteer.preferred_name} is already excluded from {peer.reference} "
                f"(exclusion {existing.pk}: {existing.reason}); nothing was changed.",
                code="already_excluded",
            )
        return services.add_exclusion(
            peer, volunteer, reason=validated_data["reason"], by=self.context["request"].user
        )


class ExclusionFilter(django_filters.FilterSet):
    peer = RecordFilter(queryset=Peer.objects.all(), label="The peer's id.")
    volunteer = RecordFilter(queryset=Volunteer.objects.all(), label="The volunteer's id.")

    class Meta:
        model = Exclusion
        fields = ["peer", "volunteer"]


@search_described(
    "Words to find in the reason or in the volunteer's or the peer's names; or the peer's "
    "reference as on screen (P-000123)."
)
class ExclusionViewSet(mixins.CreateModelMixin, mixins.DestroyModelMixin, ActionViewSet):
    """Pairs of a peer and a volunteer who must never be matched (they know each other, or a
    past match ended badly), newest first. The engine never suggests such a pair and a
    proposal of one is refused; deleting the exclusion allows the pair again."""

    queryset = Exclusion.objects.all()
    serializer_class = ExclusionSerializer
    filterset_class = ExclusionFilter
    search_fields = [
        "reason",
        "volunteer__preferred_name",
        "volunteer__full_name",
        "peer__preferred_name",
        "peer__full_name",
    ]
    extra_search = staticmethod(peer_reference_search)
    ordering_fields = ["created_at"]
    ordering = ["-created_at"]
    conflict_actions = {"create"}
    summaries = {"create": "Exclude a volunteer from a peer"}
    example = EXCLUSION_EXAMPLE
    request_example = {"peer": 123, "volunteer": 17, "reason": "They are neighbours."}

    def get_queryset(self):
        return Exclusion.objects.select_related("peer", "volunteer", "created_by")

    @extend_schema(responses={201: ExclusionSerializer})
    def create(self, request, *args, **kwargs):
        """Record that the two must never be matched, and why. 409 when they are excluded
        already, or while they have a proposed or active match (decline or end it first)."""
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.save()
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def destroy(self, request, *args, **kwargs):
        """Allow the pair to be matched again."""
        return super().destroy(request, *args, **kwargs)

    def perform_destroy(self, instance):
        services.remove_exclusion(instance)


# Bulk assignment ------------------------------------------------------------------------


class AssignmentSerializer(StrictSerializer):
    """A dry run, or applying the proposals."""

    dry_run = fields.BooleanField(
        help_text="true: answer what would be proposed and write nothing. false: make the "
        "proposals (never approving any)."
    )
    plan = fields.CharField(
        required=False,
        max_length=64,
        help_text="With dry_run false: the `plan` of the dry run you reviewed. If solving "
        "again today gives other pairs (the waiting list or the volunteers changed since), "
        "nothing is proposed and the answer is a 409; without it, whatever solving gives "
        "now is proposed.",
    )


class ProposalSerializer(serializers.Serializer):
    """One pair the solver chose, with its score broken down in words."""

    peer = serializers.IntegerField(source="peer.pk", help_text="The peer's id.")
    peer_reference = serializers.CharField(source="peer.reference")
    volunteer = serializers.IntegerField(source="volunteer.pk", help_text="The volunteer's id.")
    volunteer_name = serializers.CharField(source="volunteer.preferred_name")
    score = serializers.FloatField()
    reasons = serializers.ListField(child=serializers.CharField())
    match = serializers.IntegerField(
        allow_null=True,
        help_text="The id of the proposed match this run made; null in a dry run.",
    )


class TimingsSerializer(serializers.Serializer):
    """Seconds spent on each step."""

    load = serializers.FloatField(help_text="Reading the waiting list and the volunteers.")
    score = serializers.FloatField(help_text="Judging and scoring every pair.")
    solve = serializers.FloatField(help_text="Finding the best total.")
    write = serializers.FloatField(help_text="Making the proposals (0 in a dry run).")
    total = serializers.FloatField()


class AssignmentResultSerializer(serializers.Serializer):
    """What bulk assignment proposes (a dry run) or proposed."""

    dry_run = serializers.BooleanField()
    plan = serializers.CharField(
        help_text="A fingerprint of these pairs; send it back with dry_run false to apply "
        "exactly them."
    )
    proposals = ProposalSerializer(many=True)
    total_score = serializers.FloatField(help_text="The sum of the proposals' scores.")
    waiting = serializers.IntegerField(
        help_text="Peers waiting without a proposed or active match."
    )
    volunteers = serializers.IntegerField(
        help_text="Volunteers who may be matched today and have room."
    )
    slots = serializers.IntegerField(help_text="Their room, in peers.")
    timings = TimingsSerializer()


PROPOSAL_EXAMPLE = {
    "peer": 123,
    "peer_reference": "P-000123",
    "volunteer": 17,
    "volunteer_name": "Aileen",
    "score": 7.5,
    "reasons": REASONS_EXAMPLE,
    "match": None,
}

ASSIGNMENT_EXAMPLE = {
    "dry_run": True,
    "plan": "5f0c1e9a2b7d4c31",
    "proposals": [PROPOSAL_EXAMPLE],
    "total_score": 7.5,
    "waiting": 3,
    "volunteers": 2,
    "slots": 3,
    "timings": {"load": 0.012, "score": 0.002, "solve": 0.001, "write": 0.0, "total": 0.015},
}


class WaitingListViewSet(AtomicWrites, ThrottleBeforePermissions, viewsets.GenericViewSet):
    """Bulk assignment for the whole waiting list."""

    serializer_class = AssignmentSerializer
    conflict_actions = {"assignment"}
    summaries = {"assignment": "Propose matches for the whole waiting list"}
    action_examples = {
        "assignment": {
            "request": {"dry_run": False, "plan": "5f0c1e9a2b7d4c31"},
            "response": ASSIGNMENT_EXAMPLE,
        }
    }

    @extend_schema(request=AssignmentSerializer, responses=AssignmentResultSerializer)
    def assignment(self, request):
        """Proposals for every waiting peer without a proposed or active match, choosing the
        pairs with the highest total score that keep every volunteer within their room
        (capacity less active and proposed matches), with an exact solver.

        First `{"dry_run": true}`: the pairs, their scores and reasons, and a `plan`;
        nothing is written. Then `{"dry_run": false, "plan": ...}`: the waiting list is
        solved again and, when it gives the same pairs, each is proposed (never approved: a
        coordinator approves each one), all or none; the answer names each new match. If the
        records changed since the dry run and the pairs differ, nothing is proposed and the
        answer is a 409: run the dry run again. Applying twice is safe: peers proposed the
        first time are no longer waiting without a match, so a second run proposes only for
        others (and with the old plan it is a 409)."""
        assignment = AssignmentSerializer(data=request.data)
        assignment.is_valid(raise_exception=True)
        dry_run = assignment.validated_data["dry_run"]
        plan = assignment.validated_data.get("plan")
        if dry_run and plan is not None:
            raise ValidationError({"plan": ["Send a plan only with dry_run false."]})
        result = propose_for_waiting_list(dry_run=dry_run, plan=plan, by=request.user)
        matches = {match.peer_id: match.pk for match in result.matches}
        body = {
            "dry_run": dry_run,
            "plan": result.plan,
            "proposals": [
                {
                    "peer": proposal.peer,
                    "volunteer": proposal.volunteer,
                    "score": proposal.score,
                    "reasons": list(proposal.reasons),
                    "match": matches.get(proposal.peer.pk),
                }
                for proposal in result.proposals
            ],
            "total_score": round(result.total_score, 3),
            "waiting": result.waiting,
            "volunteers": result.volunteers,
            "slots": result.slots,
            "timings": {
                name: round(getattr(result.timings, name), 4)
                for name in ("load", "score", "solve", "write", "total")
            },
        }
        return Response(AssignmentResultSerializer(body).data)
