"""Matches in the admin, and what matches add to the volunteer and peer pages.

Volunteers and peers know nothing of matches, so their admins are extended here: each
volunteer's count of active matches against their capacity, each peer's current supporter,
and the matches on both change pages.
"""

from django.contrib import admin
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce

from community.admin import ReadOnlyAdmin
from matching.models import Match
from peers.admin import PeerAdmin, PeerReferenceSearchMixin
from peers.models import Peer
from volunteers.admin import VolunteerAdmin
from volunteers.models import Volunteer


class MatchInline(admin.TabularInline):
    """The matches of a volunteer or a peer; matches are made and ended on the matching pages."""

    model = Match
    fields = ["volunteer", "peer", "status", "proposed_at", "started_on", "ended_on"]
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("volunteer", "peer")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


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


admin.site.unregister(Peer)


@admin.register(Peer)
class PeerWithSupporterAdmin(PeerAdmin):
    inlines = [*PeerAdmin.inlines, MatchInline]

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

    @admin.display(description="supporter", ordering="supporter_name")
    def supporter(self, peer):
        return peer.supporter_name


@admin.register(Match)
class MatchAdmin(PeerReferenceSearchMixin, ReadOnlyAdmin):
    """Matches, to look up. Proposing, approving and ending a match check the matching rules,
    so they happen through the matching services, never by editing a row here."""

    list_display = ["volunteer", "peer", "status", "proposed_at", "started_on", "ended_on"]
    list_filter = ["status"]
    list_select_related = ["volunteer", "peer"]
    search_fields = ["volunteer__preferred_name", "volunteer__full_name", "peer__preferred_name"]
    search_help_text = "A volunteer's name, a peer's name or reference (P-000123)."
    date_hierarchy = "proposed_at"
    peer_id_field = "peer_id"
