"""People in recovery ("peers") and the times they would like to meet, for coordinators."""

import django_filters
from django.db.models import Q
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers
from rest_framework.decorators import action

from api import fields
from api.matches import MATCHES_HELP, MatchOfPeerSerializer
from api.serializers import (
    CodeRelatedField,
    StrictModelSerializer,
    StrictSerializer,
    prefetch_codes,
)
from api.sessions import (
    UPCOMING_HELP,
    UPCOMING_SESSIONS_EXAMPLE,
    UpcomingSessionSerializer,
    prefetch_matches_and_sessions,
    upcoming_of,
)
from api.views import RecordViewSet
from api.weekly_windows import WeeklyWindowSerializer, WeeklyWindowViewSet
from community.errors import StateConflict
from community.models import Area, Focus, Language
from community.phones import PhoneSerializerField
from peers import services
from peers.models import Peer, PreferredTime

Status = Peer.Status

# The statuses a new peer may start in; create_peer holds the rule, this only describes it.
NEW_PEER_STATUSES = [Status.REFERRED, Status.WAITING]

PEER_EXAMPLE = {
    "id": 123,
    "reference": "P-000123",
    "preferred_name": "Jamie",
    "full_name": "Jamie Campbell",
    "phone": "+447700900456",
    "area": "wishaw",
    "gender": "undisclosed",
    "preferred_supporter_gender": "any",
    "languages": ["en"],
    "focuses": ["drugs"],
    "meets_in_person": True,
    "meets_by_phone": True,
    "meets_by_video": False,
    "sms_consent": True,
    "sms_consent_at": "2026-03-09T14:20:00+00:00",
    "status": "waiting",
    "status_changed_at": "2026-03-09T14:20:00+00:00",
    "waiting_since": "2026-03-09T14:20:00+00:00",
    "queue_since": "2026-03-09T14:20:00+00:00",
    "referral_source": "alcohol_drug_service",
    "referred_on": "2026-03-09",
    "notes": "",
    "created_at": "2026-03-09T14:20:00+00:00",
    "updated_at": "2026-03-09T14:20:00+00:00",
}

PEER_REQUEST = {
    "preferred_name": "Jamie",
    "full_name": "Jamie Campbell",
    "phone": "07700 900456",
    "area": "wishaw",
    "focuses": ["drugs"],
    "sms_consent": True,
    "referral_source": "alcohol_drug_service",
}

ORDERING_FIELDS = [
    "preferred_name",
    "referred_on",
    "status_changed_at",
    "waiting_since",
    "queue_since",
    "created_at",
]


class PeerSerializer(StrictModelSerializer):
    """A person in recovery; their status changes only through the status action."""

    reference = serializers.CharField(
        read_only=True, help_text="P-000123: what screens and texts show instead of a name."
    )
    phone = PhoneSerializerField(
        required=False, allow_null=True, help_text="Any common UK form in; E.164 out."
    )
    area = CodeRelatedField(
        slug_field="slug", queryset=Area.objects.all(), help_text="The area's slug."
    )
    languages = CodeRelatedField(
        slug_field="code",
        queryset=Language.objects.all(),
        many=True,
        required=False,
        help_text="Language codes, e.g. en, pl.",
    )
    focuses = CodeRelatedField(
        slug_field="slug",
        queryset=Focus.objects.all(),
        many=True,
        required=False,
        help_text="What they want support with (focus slugs).",
    )
    queue_since = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="Their place on the waiting list, which goes by total time waited: when "
        "they would have joined it had they never left, i.e. waiting_since less the time they "
        "waited before it. Null when not waiting.",
    )

    create_with = services.create_peer
    update_with = services.update_peer
    instance_argument = "peer"
    refused_fields = {
        "status": "Change a peer's status with POST /api/v1/peers/{id}/status/.",
    }

    class Meta:
        model = Peer
        fields = [
            "id",
            "reference",
            "preferred_name",
            "full_name",
            "phone",
            "area",
            "gender",
            "preferred_supporter_gender",
            "languages",
            "focuses",
            "meets_in_person",
            "meets_by_phone",
            "meets_by_video",
            "sms_consent",
            "sms_consent_at",
            "status",
            "status_changed_at",
            "waiting_since",
            "queue_since",
            "referral_source",
            "referred_on",
            "notes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["status", "status_changed_at", "waiting_since", "sms_consent_at"]


class NewPeerSerializer(PeerSerializer):
    """A new peer: the same fields, and the status they start in (referred or waiting)."""

    status = fields.ChoiceField(
        choices=[(status.value, status.label) for status in NEW_PEER_STATUSES],
        default=Status.REFERRED.value,
        help_text="referred (the default) or waiting; any later move is a status change.",
    )

    refused_fields = {}

    class Meta(PeerSerializer.Meta):
        read_only_fields = ["status_changed_at", "waiting_since", "sms_consent_at"]


class PeerDetailSerializer(PeerSerializer):
    """A person in recovery, with their matches and sessions to come."""

    matches = MatchOfPeerSerializer(
        source="recent_matches", many=True, read_only=True, help_text=MATCHES_HELP
    )
    upcoming_sessions = serializers.SerializerMethodField(help_text=UPCOMING_HELP)

    class Meta(PeerSerializer.Meta):
        fields = [*PeerSerializer.Meta.fields, "matches", "upcoming_sessions"]

    @extend_schema_field(UpcomingSessionSerializer(many=True))
    def get_upcoming_sessions(self, peer):
        return upcoming_of(peer)


class PeerStatusSerializer(StrictSerializer):
    """A move to another status, with a note of why."""

    status = fields.ChoiceField(
        choices=Status.choices,
        help_text="matched is refused (409): a peer becomes matched when a coordinator "
        "approves a match.",
    )
    note = fields.CharField(
        required=False, allow_blank=True, max_length=2000, help_text="Why, for the record."
    )


class PeerFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Status.choices)
    area = django_filters.ModelChoiceFilter(
        queryset=Area.objects.all(), to_field_name="slug", label="Area (its slug)."
    )
    referral_source = django_filters.ChoiceFilter(choices=Peer.ReferralSource.choices)

    class Meta:
        model = Peer
        fields = ["status", "area", "referral_source"]


def refuse_matched(status):
    if status == Status.MATCHED:
        raise StateConflict(
            "A peer becomes matched when a coordinator approves a match.",
            code="matched_by_approval",
        )


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "ordering",
                str,
                enum=[name for field in ORDERING_FIELDS for name in (field, f"-{field}")],
                description="Sort by this field; put - first for descending. By default: "
                "those waiting for a supporter first, by queue_since (the longest waiting in "
                "all first, earlier waits counted); everyone else after, by id.",
            ),
            OpenApiParameter(
                "search",
                str,
                description="Words to find in names; a phone number, whole or in part, in any "
                "common UK form; or a reference as on screen (P-000123).",
            ),
        ]
    ),
    create=extend_schema(request=NewPeerSerializer, responses={201: PeerSerializer}),
)
class PeerViewSet(RecordViewSet):
    """People in recovery who asked for, or were referred for, a peer supporter. There is no
    delete: a peer's record is closed with a status change."""

    queryset = Peer.objects.all()
    serializer_class = PeerSerializer
    filterset_class = PeerFilter
    search_fields = ["preferred_name", "full_name"]
    phone_search_field = "phone"
    ordering_fields = ORDERING_FIELDS
    # No ordering here: get_queryset's order (longest waiting in all first) is the default.
    ordering = None
    conflict_actions = {"status"}
    summaries = {"status": "Change a peer's status"}
    example = PEER_EXAMPLE
    request_example = PEER_REQUEST
    action_examples = {
        "create": {"request": {**PEER_REQUEST, "status": "waiting"}},
        "status": {"request": {"status": "paused", "note": "In hospital for a fortnight."}},
        "retrieve": {
            "response": {
                **PEER_EXAMPLE,
                "status": "matched",
                "matches": [
                    {
                        "id": 31,
                        "volunteer": 17,
                        "volunteer_name": "Aileen",
                        "status": "active",
                        "proposed_at": "2026-05-11T10:30:00+01:00",
                        "started_on": "2026-05-12",
                        "ended_on": None,
                    }
                ],
                "upcoming_sessions": UPCOMING_SESSIONS_EXAMPLE,
            }
        },
    }

    def get_queryset(self):
        peers = (
            Peer.objects.waiting_first()
            .select_related("area")
            .prefetch_related(*prefetch_codes("languages", "focuses"))
        )
        if self.action == "retrieve":
            peers = peers.prefetch_related(prefetch_matches_and_sessions(other_party="volunteer"))
        return peers

    def get_serializer_class(self):
        if self.action == "create":
            return NewPeerSerializer
        if self.action == "retrieve":
            return PeerDetailSerializer
        return PeerSerializer

    def extra_search(self, term):
        """A reference typed as on screen ("P-000123", "p123") finds that peer."""
        peer_id = Peer.id_from_reference(term)
        return Q(pk=peer_id) if peer_id is not None else None

    @extend_schema(request=PeerStatusSerializer, responses=PeerSerializer)
    @action(detail=True, methods=["post"])
    def status(self, request, pk=None):
        """Move the peer to another status, if the move is allowed, and log it with the note.
        The answer is the peer as changed; 409 says which moves are allowed. A peer becomes
        matched only when a coordinator approves a match, never through this action."""
        return self.change_status(
            request,
            change_serializer=PeerStatusSerializer,
            change_with=services.change_peer_status,
            record_argument="peer",
            refuse=refuse_matched,
        )


class PreferredTimeSerializer(WeeklyWindowSerializer):
    """A weekly window, in local time, when a peer would like to meet."""

    create_with = services.add_preferred_time
    update_with = services.change_preferred_time

    class Meta(WeeklyWindowSerializer.Meta):
        model = PreferredTime


class PreferredTimeViewSet(WeeklyWindowViewSet):
    """When a peer would like to meet each week, in local time; windows never overlap."""

    queryset = PreferredTime.objects.all()
    serializer_class = PreferredTimeSerializer
    parent_model = Peer
    parent_field = "peer"
    remove_with = services.remove_preferred_time
