"""The signed-in volunteer's active matches: whom they support, as little of them as will do.

A match shows the peer's first name (the name they asked to be called), their area, the ways
of meeting both of them accept and the next session. Nothing else of the peer is shown: not
their reference or id (the reference is made from the id), full name, phone, or any notes.
A match that is not theirs, or no longer (or not yet) active, is not found.
"""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, viewsets

from api.filters import KnownParametersOnly
from api.own_records import OwnRecords
from api.serializers import ModelSerializer
from api.sessions import SessionStatusField
from matching.models import Match, Session

MODES_HELP = "The ways of meeting you both accept: in_person, phone, video."


class NextSessionSerializer(ModelSerializer):
    """The match's next session: the soonest that is not over and still needs you
    (scheduled, confirmed, or declined and waiting for a new time)."""

    status = SessionStatusField(
        help_text="scheduled; confirmed or declined by you (declined: the office is "
        "finding another time)."
    )

    class Meta:
        model = Session
        fields = ["id", "starts_at", "ends_at", "mode", "place", "status"]
        read_only_fields = fields
        extra_kwargs = {"place": {"help_text": "Where you meet; empty for phone and video."}}


class MyMatchSerializer(ModelSerializer):
    """Someone you support: their first name, area, how you can meet and your next session."""

    peer_name = serializers.CharField(
        source="peer.preferred_name", read_only=True, help_text="The name they go by."
    )
    area = serializers.CharField(
        source="peer.area.slug", read_only=True, help_text="Their area's slug."
    )
    area_name = serializers.CharField(source="peer.area.name", read_only=True)
    shared_modes = serializers.SerializerMethodField(help_text=MODES_HELP)
    next_session = serializers.SerializerMethodField(help_text="null when no session is planned.")

    class Meta:
        model = Match
        fields = [
            "id",
            "peer_name",
            "area",
            "area_name",
            "shared_modes",
            "started_on",
            "next_session",
        ]
        read_only_fields = fields
        extra_kwargs = {"started_on": {"help_text": "When the office approved the match."}}

    @extend_schema_field({"type": "array", "items": {"$ref": "#/components/schemas/ModeEnum"}})
    def get_shared_modes(self, match):
        theirs = set(match.peer.meeting_modes)
        return [mode for mode in match.volunteer.meeting_modes if mode in theirs]

    @extend_schema_field(NextSessionSerializer(allow_null=True))
    def get_next_session(self, match):
        upcoming = match.upcoming_sessions
        return NextSessionSerializer(upcoming[0]).data if upcoming else None


MATCH_EXAMPLE = {
    "id": 31,
    "peer_name": "Jamie",
    "area": "airdrie",
    "area_name": "Airdrie",
    "shared_modes": ["in_person", "phone"],
    "started_on": "2026-05-12",
    "next_session": {
        "id": 210,
        "starts_at": "2026-05-14T14:00:00+01:00",
        "ends_at": "2026-05-14T15:00:00+01:00",
        "mode": "in_person",
        "place": "Coatbridge library",
        "status": "confirmed",
    },
}


@extend_schema_view(
    list=extend_schema(description="The people you support now, longest supported first."),
    retrieve=extend_schema(
        description="One of the people you support now; 404 for a match that is not yours "
        "or not active."
    ),
)
class MyMatchViewSet(
    OwnRecords, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The signed-in volunteer's active matches: the peer's first name and area, the ways of
    meeting they share, and the next session. The office proposes, approves and ends
    matches."""

    queryset = Match.objects.all()
    serializer_class = MyMatchSerializer
    filter_backends = [KnownParametersOnly]
    summaries = {
        "list": "List the people you support",
        "retrieve": "Read a match of yours",
    }
    example = MATCH_EXAMPLE

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Match.objects.none()
        return (
            Match.objects.active()
            .filter(volunteer=self.request.volunteer)
            .select_related("peer__area", "volunteer")
            .prefetch_related(
                Prefetch(
                    "sessions", queryset=Session.objects.upcoming(), to_attr="upcoming_sessions"
                )
            )
            .order_by("started_on", "pk")
        )
