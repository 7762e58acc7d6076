"""The coordinator's pages for people in recovery, longest waiting first."""

from django import forms
from django.contrib import admin
from django.db import models
from django.db.models import F
from django.utils import timezone

from community.admin import (
    PhoneSearchMixin,
    ReadOnlyAdmin,
    StatusLogInline,
    StatusThroughActionsMixin,
    WeeklyWindowInline,
    status_actions,
)
from peers.models import Peer, PeerStatusChange, PreferredTime, queue_since
from peers.services import change_peer_status

Status = Peer.Status

# The statuses create_peer accepts: anyone else reaches a status through a status change.
NEW_PEER_STATUSES = [Status.REFERRED, Status.WAITING]


class PreferredTimeInline(WeeklyWindowInline):
    model = PreferredTime


class PeerStatusLogInline(StatusLogInline):
    model = PeerStatusChange


class PeerReferenceSearchMixin:
    """Search that also finds a peer by reference ("P-000123", "p123")."""

    peer_id_field = "pk"

    def get_search_results(self, request, queryset, search_term):
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        peer_id = Peer.id_from_reference(search_term)
        if peer_id is not None:
            found |= queryset.filter(**{self.peer_id_field: peer_id})
        return found, may_have_duplicates


@admin.register(Peer)
class PeerAdmin(
    StatusThroughActionsMixin, PeerReferenceSearchMixin, PhoneSearchMixin, admin.ModelAdmin
):
    list_display = [
        "reference",
        "preferred_name",
        "area",
        "status",
        "time_waited",
        "referral_source",
    ]
    list_display_links = ["reference", "preferred_name"]
    list_filter = ["status", "area", "referral_source"]
    list_select_related = ["area"]
    # Those waiting for a supporter first, longest waiting in all first; everyone else after.
    ordering = [queue_since().asc(nulls_last=True), "id"]
    search_fields = ["preferred_name", "full_name", "phone"]
    search_help_text = "A reference (P-000123), a name, or a phone number in any form."
    actions = status_actions(
        change_peer_status,
        subject="peer",
        targets={
            Status.WAITING: "Put on the waiting list",
            Status.PAUSED: "Pause",
            Status.CLOSED: "Close",
        },
    )
    inlines = [PreferredTimeInline, PeerStatusLogInline]
    formfield_overrides = {models.ManyToManyField: {"widget": forms.CheckboxSelectMultiple}}
    fieldsets = [
        (None, {"fields": ["preferred_name", "full_name", "phone", "area", "status"]}),
        (
            "Referral",
            {"fields": ["referral_source", "referred_on", "waiting_since", "waited_before"]},
        ),
        (
            "What they would like",
            {
                "fields": [
                    "preferred_supporter_gender",
                    "gender",
                    "languages",
                    "focuses",
                    ("meets_in_person", "meets_by_phone", "meets_by_video"),
                ]
            },
        ),
        ("Texts", {"fields": ["sms_consent", "sms_consent_at"]}),
        ("Notes", {"fields": ["notes"]}),
    ]
    status_help = (
        "To change the status, tick this person on the list and choose an action there (Put "
        "on the waiting list, Pause, Close): it checks that the move is allowed and records it "
        "in the status history below. A match sets “matched”."
    )

    def get_readonly_fields(self, request, obj=None):
        always = [
            "waiting_since",
            "waited_before",
            "sms_consent_at",
            "status_changed_at",
            "created_at",
            "updated_at",
        ]
        return [*always, "status"] if obj else always

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "status":
            kwargs["choices"] = [(status.value, status.label) for status in NEW_PEER_STATUSES]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def get_queryset(self, request):
        return super().get_queryset(request).waiting_first()

    # Sorting by this column upwards goes from the shortest wait to the longest.
    @admin.display(description="waited", ordering=F("queue_since").desc(nulls_last=True))
    def time_waited(self, peer):
        """Their total time on the waiting list, earlier waits included: the list's order."""
        if peer.queue_since is None:
            return None
        days = (timezone.now() - peer.queue_since).days
        return "1 day" if days == 1 else f"{days} days"

    @admin.display(description="reference", ordering="id")
    def reference(self, peer):
        return peer.reference


@admin.register(PreferredTime)
class PreferredTimeAdmin(admin.ModelAdmin):
    list_display = ["peer", "weekday", "starts_at", "ends_at"]
    list_filter = ["weekday"]
    list_select_related = ["peer"]
    search_fields = ["peer__preferred_name", "peer__full_name"]
    autocomplete_fields = ["peer"]


@admin.register(PeerStatusChange)
class PeerStatusChangeAdmin(ReadOnlyAdmin):
    list_display = ["changed_at", "peer", "from_status", "to_status", "changed_by", "note"]
    list_filter = ["to_status", "from_status"]
    list_select_related = ["peer", "changed_by"]
    search_fields = ["peer__preferred_name", "peer__full_name", "note"]
    date_hierarchy = "changed_at"
