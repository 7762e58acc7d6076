"""Reference data in the admin, and the admin pieces every app's pages share."""

from django.contrib import admin, messages
from django.contrib.admin.utils import model_ngettext
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet

from community.models import Area, Focus, Language
from community.phones import phone_problem, to_phone


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ["name", "council", "postcode_districts"]
    list_filter = ["council"]
    search_fields = ["name", "postcode_districts"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Language)
class LanguageAdmin(admin.ModelAdmin):
    list_display = ["name", "code"]
    search_fields = ["name", "code"]


@admin.register(Focus)
class FocusAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "description"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}


class PhoneSearchMixin:
    """Search that also finds a phone number however it is typed: "07700 900123" finds
    +447700900123, which a plain text search would miss."""

    def get_search_results(self, request, queryset, search_term):
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term and phone_problem(term) is None:
            found |= queryset.filter(phone=to_phone(term).as_e164)
        return found, may_have_duplicates


def status_actions(change_status, *, subject, targets):
    """Changelist actions that move each selected record to a status through its service.

    `change_status` is the app's service, which holds the allowed moves; `subject` is the
    service's keyword for the record; `targets` maps each status to the action's wording.
    A refusal is reported in the service's own words, and the moves that worked are counted.
    """
    return [_status_action(change_status, subject, to, wording) for to, wording in targets.items()]


def _status_action(change_status, subject, to, wording):
    @admin.action(description=wording, permissions=["change"])
    def action(modeladmin, request, queryset):
        moved = 0
        for record in queryset:
            try:
                change_status(**{subject: record}, to=to, by=request.user)
            except ValidationError as refusal:
                modeladmin.message_user(request, " ".join(refusal.messages), messages.ERROR)
            else:
                moved += 1
        if moved:
            noun = model_ngettext(modeladmin.opts, moved)
            verb = "is" if moved == 1 else "are"
            modeladmin.message_user(
                request, f"{moved} {noun} {verb} now {to.label.lower()}.", messages.SUCCESS
            )

    action.__name__ = f"mark_{to.value}"
    return action


class NoOverlapFormSet(BaseInlineFormSet):
    """Rows entered together on one page, checked against each other.

    Each row's own check sees only the rows already saved, so two new rows that overlap would
    otherwise be saved together (or reach a database rule and end in a server error).
    Subclasses say when two rows overlap and how to say so.
    """

    def overlap(self, one, other):
        raise NotImplementedError

    def overlap_message(self, one, other):
        raise NotImplementedError

    def clean(self):
        super().clean()
        rows = [
            form.instance
            for form in self.forms
            if form.is_valid()
            and form.cleaned_data
            and not (self.can_delete and self._should_delete_form(form))
        ]
        for index, row in enumerate(rows):
            for other in rows[index + 1 :]:
                if self.overlap(row, other):
                    raise ValidationError(self.overlap_message(row, other))


class WeeklyWindowFormSet(NoOverlapFormSet):
    def overlap(self, one, other):
        return (
            one.weekday == other.weekday
            and one.starts_at < other.ends_at
            and other.starts_at < one.ends_at
        )

    def overlap_message(self, one, other):
        return f"{one} overlaps {other}: windows of one person cannot overlap."


class WeeklyWindowInline(admin.TabularInline):
    """A person's weekly windows on their page. Subclasses set `model`."""

    formset = WeeklyWindowFormSet
    fields = ["weekday", "starts_at", "ends_at"]
    extra = 0


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written only by the services (histories, matches), to be read here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class StatusLogInline(admin.TabularInline):
    """A record's status history, read-only, at the foot of its page. Subclasses set `model`."""

    fields = ["changed_at", "from_status", "to_status", "changed_by", "note"]
    verbose_name_plural = "status history"
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("changed_by")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class StatusThroughActionsMixin:
    """A record whose status moves only through the list's actions (which call its service).

    The change page shows the status read-only, with `status_help` above it saying how to
    change it, and a collapsed "Record" section with the dates of the record.
    """

    status_help = ""
    record_fieldset = (
        "Record",
        {"fields": ["status_changed_at", "created_at", "updated_at"], "classes": ["collapse"]},
    )

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.fieldsets
        (name, options), *others = self.fieldsets
        return [(name, {**options, "description": self.status_help}), *others, self.record_fieldset]


class StateFilter(admin.SimpleListFilter):
    """A list filter whose first state applies when none is chosen: a page opens on what
    still needs someone. `states` lists (value, label, narrowing), where narrowing takes the
    queryset and returns the rows in that state (None: every row)."""

    title = "state"
    parameter_name = "state"
    states = ()

    def chosen(self):
        return self.value() or self.states[0][0]

    def lookups(self, request, model_admin):
        return [(value, label) for value, label, _ in self.states]

    def choices(self, changelist):
        for value, label in self.lookup_choices:
            yield {
                "selected": self.chosen() == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request, queryset):
        for value, _, narrowing in self.states:
            if value == self.chosen():
                return narrowing(queryset) if narrowing else queryset
        return queryset
