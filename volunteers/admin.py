"""The coordinator's volunteer pages: who is ready, whose training runs out, who is away."""

from django import forms
from django.contrib import admin
from django.db import models
from django.utils import timezone
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import CSV, XLSX

from community.admin import (
    NoOverlapFormSet,
    PhoneSearchMixin,
    ReadOnlyAdmin,
    StatusLogInline,
    StatusThroughActionsMixin,
    WeeklyWindowInline,
    status_actions,
)
from volunteers.models import (
    Absence,
    AvailabilityWindow,
    CalendarFeed,
    Course,
    TrainingRecord,
    TrainingState,
    Volunteer,
    VolunteerStatusChange,
)
from volunteers.resources import TrainingRecordResource, VolunteerResource
from volunteers.services import change_volunteer_status

Status = Volunteer.Status


class SpreadsheetAdmin(ImportExportModelAdmin):
    """Import and export as CSV or XLSX, for those who may add, change and view the records.

    (Left to itself, the library lets anyone who reaches the admin import and export.)
    """

    formats = [CSV, XLSX]
    import_template_name = "admin/volunteers/import.html"

    def has_import_permission(self, request):
        return self.has_add_permission(request) and self.has_change_permission(request)

    def has_export_permission(self, request):
        return self.has_view_permission(request)


class TrainingStateFilter(admin.SimpleListFilter):
    title = "training"
    parameter_name = "training"

    def lookups(self, request, model_admin):
        return TrainingState.choices

    def queryset(self, request, queryset):
        if self.value() in TrainingState.values:
            return queryset.in_training_state(self.value())
        return queryset


class TrainingRecordInline(admin.TabularInline):
    model = TrainingRecord
    fields = ["course", "completed_on", "expires_on", "notes"]
    extra = 0


class AvailabilityInline(WeeklyWindowInline):
    model = AvailabilityWindow


class AbsenceFormSet(NoOverlapFormSet):
    def overlap(self, one, other):
        return one.starts_on <= other.ends_on and other.starts_on <= one.ends_on

    def overlap_message(self, one, other):
        return f"{one} overlaps {other}: one person's absences cannot overlap."


class AbsenceInline(admin.TabularInline):
    model = Absence
    formset = AbsenceFormSet
    fields = ["starts_on", "ends_on", "reason"]
    extra = 0


class VolunteerStatusLogInline(StatusLogInline):
    model = VolunteerStatusChange


@admin.register(Volunteer)
class VolunteerAdmin(StatusThroughActionsMixin, PhoneSearchMixin, SpreadsheetAdmin):
    list_display = [
        "preferred_name",
        "full_name",
        "phone_number",
        "area",
        "status",
        "training",
        "next_absence",
    ]
    list_filter = ["area", "status", TrainingStateFilter]
    list_select_related = ["area"]
    search_fields = ["preferred_name", "full_name", "phone"]
    search_help_text = "A name, or a phone number in any form (07700 900123)."
    actions = status_actions(
        change_volunteer_status,
        subject="volunteer",
        targets={
            Status.IN_TRAINING: "Mark as in training",
            Status.ACTIVE: "Mark as active",
            Status.PAUSED: "Pause",
            Status.LEFT: "Mark as left",
            Status.APPLICANT: "Reopen as an applicant",
        },
    )
    inlines = [TrainingRecordInline, AvailabilityInline, AbsenceInline, VolunteerStatusLogInline]
    autocomplete_fields = ["user"]
    formfield_overrides = {models.ManyToManyField: {"widget": forms.CheckboxSelectMultiple}}
    fieldsets = [
        (None, {"fields": ["preferred_name", "full_name", "phone", "email", "area", "status"]}),
        (
            "Supporting people",
            {
                "fields": [
                    "max_active_matches",
                    "travel_radius_km",
                    ("meets_in_person", "meets_by_phone", "meets_by_video"),
                    "gender",
                    "languages",
                    "focuses",
                ]
            },
        ),
        (
            "Texts and the app",
            {
                "fields": [
                    "sms_consent",
                    "sms_consent_at",
                    "wellbeing_opt_in",
                    "user",
                    "calendar_link",
                ]
            },
        ),
        ("Notes", {"fields": ["notes"]}),
    ]
    status_help = (
        "To change the status, tick the volunteer on the volunteer list and choose an action "
        "there (Mark as active, Pause, ...): it checks that the move is allowed and records it "
        "in the status history below."
    )

    resource_classes = [VolunteerResource]

    def get_queryset(self, request):
        return super().get_queryset(request).with_training_state().with_next_absence()

    def get_readonly_fields(self, request, obj=None):
        always = [
            "sms_consent_at",
            "status_changed_at",
            "created_at",
            "updated_at",
            "calendar_link",
        ]
        return [*always, "status"] if obj else always

    @admin.display(description="calendar link")
    def calendar_link(self, volunteer):
        feed = volunteer.pk and CalendarFeed.objects.filter(volunteer_id=volunteer.pk).first()
        if not feed:
            return "None yet: the app makes one when they first ask, for their phone's calendar."
        made = timezone.localtime(feed.created_at)
        return (
            f"Made on {made:%-d %b %Y at %H:%M}. It stops working when they reset it in the "
            "app or leave."
        )

    @admin.display(description="phone", ordering="phone")
    def phone_number(self, volunteer):
        return volunteer.phone.as_national if volunteer.phone else None

    @admin.display(description="training", ordering="training_state")
    def training(self, volunteer):
        return TrainingState(volunteer.training_state).label

    @admin.display(description="next absence", ordering="next_absence_starts_on")
    def next_absence(self, volunteer):
        if volunteer.next_absence_starts_on is None:
            return None
        return str(
            Absence(
                starts_on=volunteer.next_absence_starts_on,
                ends_on=volunteer.next_absence_ends_on,
            )
        )


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "kind", "required_for_matching", "valid_for_months"]
    list_filter = ["kind", "required_for_matching"]
    search_fields = ["name", "code"]


@admin.register(TrainingRecord)
class TrainingRecordAdmin(SpreadsheetAdmin):
    list_display = ["volunteer", "course", "completed_on", "expires_on"]
    list_filter = ["course", "course__required_for_matching"]
    list_select_related = ["volunteer", "course"]
    search_fields = ["volunteer__preferred_name", "volunteer__full_name", "course__name"]
    date_hierarchy = "completed_on"
    autocomplete_fields = ["volunteer"]

    resource_classes = [TrainingRecordResource]


@admin.register(AvailabilityWindow)
class AvailabilityWindowAdmin(admin.ModelAdmin):
    list_display = ["volunteer", "weekday", "starts_at", "ends_at"]
    list_filter = ["weekday"]
    list_select_related = ["volunteer"]
    search_fields = ["volunteer__preferred_name", "volunteer__full_name"]
    autocomplete_fields = ["volunteer"]


@admin.register(Absence)
class AbsenceAdmin(admin.ModelAdmin):
    list_display = ["volunteer", "starts_on", "ends_on", "reason"]
    list_select_related = ["volunteer"]
    search_fields = ["volunteer__preferred_name", "volunteer__full_name", "reason"]
    date_hierarchy = "starts_on"
    autocomplete_fields = ["volunteer"]


@admin.register(VolunteerStatusChange)
class VolunteerStatusChangeAdmin(ReadOnlyAdmin):
    list_display = ["changed_at", "volunteer", "from_status", "to_status", "changed_by", "note"]
    list_filter = ["to_status", "from_status"]
    list_select_related = ["volunteer", "changed_by"]
    search_fields = ["volunteer__preferred_name", "volunteer__full_name", "note"]
    date_hierarchy = "changed_at"
