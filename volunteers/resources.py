"""Volunteers and their training records in and out of spreadsheets (CSV and XLSX).

A file is imported whole or not at all: if one row cannot be imported, nothing in the file is
saved, and the import page lists each such row by number (counted from the first row under the
headings) with the reason in words.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db.models import Q
from import_export import resources, widgets
from import_export.fields import Field

from community.models import Area, Focus, Gender, Language
from community.phones import phone_problem, to_phone
from volunteers.models import Course, TrainingRecord, Volunteer
from volunteers.services import change_volunteer_status


class PhoneWidget(widgets.Widget):
    """A phone number in any common UK form, stored in E.164.

    Exports write the international form, "+44 7700 900123": unambiguous, and kept as text
    by spreadsheet programs, which turn a bare "+447700900123" into a rounded number.
    """

    def clean(self, value, row=None, **kwargs):
        text = _cell_text(value)
        if not text:
            return None
        problem = phone_problem(text)
        if problem:
            raise ValueError(problem)
        return to_phone(text).as_e164

    def render(self, value, obj=None, **kwargs):
        return to_phone(value).as_international if value else ""


class VolunteerByPhoneWidget(PhoneWidget):
    """The volunteer who has this phone number."""

    def clean(self, value, row=None, **kwargs):
        phone = super().clean(value, row, **kwargs)
        if phone is None:
            return None
        volunteer = Volunteer.objects.filter(phone=phone).first()
        if volunteer is None:
            raise ValueError(f"There is no volunteer with the phone number “{_cell_text(value)}”.")
        return volunteer

    def render(self, value, obj=None, **kwargs):
        return super().render(value.phone if value else None)


class LookupWidget(widgets.ForeignKeyWidget):
    """A related record found by one of its fields, ignoring case, and refused in words."""

    def __init__(self, model, field, missing):
        super().__init__(model, field)
        self.missing = missing

    def clean(self, value, row=None, **kwargs):
        text = _cell_text(value)
        if not text:
            return None
        found = self.model.objects.filter(**{f"{self.field}__iexact": text}).first()
        if found is None:
            raise ValueError(self.missing.format(text))
        return found


class NamesOrCodesWidget(widgets.ManyToManyWidget):
    """Several records by name or code, separated by semicolons: "English; pl"."""

    def __init__(self, model, code_field, noun):
        super().__init__(model, separator=";", field="name")
        self.code_field = code_field
        self.noun = noun

    def clean(self, value, row=None, **kwargs):
        items = [item.strip() for item in _cell_text(value).split(self.separator)]
        items = [item for item in items if item]
        if not items:
            return []
        known = {}
        for record in self.model.objects.all():
            known[record.name.lower()] = record
            known[getattr(record, self.code_field).lower()] = record
        unknown = [item for item in items if item.lower() not in known]
        if unknown:
            listed = ", ".join(f"“{item}”" for item in unknown)
            raise ValueError(
                f"There is no {self.noun} called {listed}. Give names or codes from the "
                f"{self.model._meta.verbose_name_plural} list, separated by semicolons."
            )
        return list(dict.fromkeys(known[item.lower()] for item in items))

    def render(self, value, obj=None, **kwargs):
        return "; ".join(record.name for record in value.all()) if value is not None else ""


class ChoiceWidget(widgets.Widget):
    """One of a field's choices, by its value or its label in any case ("In training")."""

    def __init__(self, choices, noun):
        super().__init__()
        self.choices = choices
        self.noun = noun

    def clean(self, value, row=None, **kwargs):
        text = _cell_text(value)
        if not text:
            return None
        for choice in self.choices:
            if text.lower() in (choice.value.lower(), choice.label.lower()):
                return choice.value
        options = ", ".join(choice.label for choice in self.choices)
        raise ValueError(f"“{text}” is not a {self.noun}. Choose one of: {options}.")

    def render(self, value, obj=None, **kwargs):
        return self.choices(value).label if value else ""


class YesNoWidget(widgets.Widget):
    """Yes or no. (The library's own boolean widget reads "yes" as no.)"""

    YES = {"yes", "y", "true", "1"}
    NO = {"no", "n", "false", "0"}

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, bool):
            return value
        text = _cell_text(value).lower()
        if not text:
            return None
        if text in self.YES:
            return True
        if text in self.NO:
            return False
        raise ValueError(f"“{_cell_text(value)}” is not yes or no.")

    def render(self, value, obj=None, **kwargs):
        if kwargs.get("force_native_type"):
            return value
        return "" if value is None else ("yes" if value else "no")


class DayWidget(widgets.Widget):
    """A day, written the British way (23/11/2026) or as 2026-11-23; never month first."""

    FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d %B %Y", "%d %b %Y")

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        text = _cell_text(value)
        if not text:
            return None
        for day_format in self.FORMATS:
            try:
                return datetime.datetime.strptime(text, day_format).date()
            except ValueError:
                continue
        raise ValueError(f"“{text}” is not a date: write it as 23/11/2026 or 2026-11-23.")

    def render(self, value, obj=None, **kwargs):
        if kwargs.get("force_native_type"):
            return value
        return value.isoformat() if value else ""


def _cell_text(value):
    """A spreadsheet cell as text; a whole number typed into a number cell loses its ".0"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


class AllOrNothingResource(resources.ModelResource):
    """A resource whose import saves every row or none."""

    def import_data(self, dataset, **kwargs):
        # The library rolls back on errors but keeps the valid rows of a file that has
        # invalid ones unless told otherwise.
        kwargs["rollback_on_validation_errors"] = True
        return super().import_data(dataset, **kwargs)

    def import_instance(self, instance, row, **kwargs):
        """Check the many-to-many columns with the others, so that their mistakes are
        reported on the row like any other (the library only reads them after saving)."""
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as invalid:
            errors = invalid.update_error_dict(errors)
        for field in self.get_import_fields():
            if isinstance(field.widget, widgets.ManyToManyWidget) and field.column_name in row:
                try:
                    field.clean(row)
                except ValueError as mistake:
                    errors[field.attribute] = ValidationError(str(mistake))
        if errors:
            raise ValidationError(errors)


class VolunteerResource(AllOrNothingResource):
    """Volunteers, one a row.

    Which volunteer a row is: the one with the row's phone number, written in any UK form.
    A row whose phone is empty, or not yet on anyone's record, is the volunteer with the same
    full name and email (ignoring case) who has no phone on record; failing that, a new
    volunteer. The file needs a `phone` column, which may be empty on some rows.

    The area is given by name; languages and lived experience (`focuses`) by name or code,
    separated by semicolons; status and gender by value or label ("in_training" or
    "In training"); yes/no columns as yes or no. An empty status, gender, number or yes/no
    cell keeps what is on record (a new volunteer gets the usual default); an empty text,
    languages or focuses cell clears it. A column left out of the file changes nothing.

    Status: a new volunteer starts with the status in the file (applicant when empty). For a
    volunteer already on record, a different status is a status change: it is made through
    `change_volunteer_status`, so it is checked against the allowed moves and logged under the
    person importing, and a move that is not allowed is an error on that row (and so nothing
    in the file is imported).
    """

    phone = Field(attribute="phone", column_name="phone", widget=PhoneWidget())
    area = Field(
        attribute="area",
        column_name="area",
        widget=LookupWidget(Area, "name", "There is no area called “{}”."),
    )
    status = Field(
        attribute="status",
        column_name="status",
        widget=ChoiceWidget(Volunteer.Status, "status"),
        saves_null_values=False,
    )
    gender = Field(
        attribute="gender",
        column_name="gender",
        widget=ChoiceWidget(Gender, "gender"),
        saves_null_values=False,
    )
    languages = Field(
        attribute="languages",
        column_name="languages",
        widget=NamesOrCodesWidget(Language, "code", "language"),
    )
    focuses = Field(
        attribute="focuses",
        column_name="focuses",
        widget=NamesOrCodesWidget(Focus, "slug", "focus"),
    )
    max_active_matches = Field(
        attribute="max_active_matches",
        column_name="max_active_matches",
        widget=widgets.IntegerWidget(),
        saves_null_values=False,
    )
    travel_radius_km = Field(
        attribute="travel_radius_km",
        column_name="travel_radius_km",
        widget=widgets.IntegerWidget(),
        saves_null_values=False,
    )
    meets_in_person = Field(
        attribute="meets_in_person",
        column_name="meets_in_person",
        widget=YesNoWidget(),
        saves_null_values=False,
    )
    meets_by_phone = Field(
        attribute="meets_by_phone",
        column_name="meets_by_phone",
        widget=YesNoWidget(),
        saves_null_values=False,
    )
    meets_by_video = Field(
        attribute="meets_by_video",
        column_name="meets_by_video",
        widget=YesNoWidget(),
        saves_null_values=False,
    )
    sms_consent = Field(
        attribute="sms_consent",
        column_name="agreed_to_texts",
        widget=YesNoWidget(),
        saves_null_values=False,
    )
    wellbeing_opt_in = Field(
        attribute="wellbeing_opt_in",
        column_name="wellbeing_check_in",
        widget=YesNoWidget(),
        saves_null_values=False,
    )

    class Meta:
        model = Volunteer
        fields = [
            "preferred_name",
            "full_name",
            "phone",
            "email",
            "area",
            "status",
            "gender",
            "languages",
            "focuses",
            "max_active_matches",
            "travel_radius_km",
            "meets_in_person",
            "meets_by_phone",
            "meets_by_video",
            "sms_consent",
            "wellbeing_opt_in",
            "notes",
        ]
        import_id_fields = ["phone"]
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True

    def get_instance(self, instance_loader, row):
        phone = _cell_text(row.get("phone"))
        if phone and phone_problem(phone) is None:
            found = Volunteer.objects.filter(phone=to_phone(phone).as_e164).first()
            if found:
                return found
        full_name = _cell_text(row.get("full_name"))
        if not full_name:
            return None
        same_person = Volunteer.objects.filter(
            Q(phone__isnull=True) | Q(phone=""),
            full_name__iexact=full_name,
            email__iexact=_cell_text(row.get("email")),
        )[:2]
        if len(same_person) > 1:
            raise ValidationError(
                f"More than one volunteer called “{full_name}” with this email has no phone on "
                "record, so the row could be either: give a phone number in the file and on "
                "one of their records."
            )
        return same_person[0] if same_person else None

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("area").prefetch_related("languages", "focuses")

    def before_save_instance(self, instance, row, **kwargs):
        # A status change of someone on record goes through the service, after the save.
        self._status_wanted = None
        if instance.pk is not None:
            stored = Volunteer.objects.values_list("status", flat=True).get(pk=instance.pk)
            if instance.status != stored:
                self._status_wanted, instance.status = instance.status, stored

    def after_save_instance(self, instance, row, **kwargs):
        if self._status_wanted is None:
            return
        try:
            change_volunteer_status(
                volunteer=instance,
                to=self._status_wanted,
                by=kwargs.get("user"),
                note="Imported from a file.",
            )
        except ValidationError as refusal:
            raise ValidationError({"status": refusal.messages}) from refusal
        instance.status = self._status_wanted


class TrainingRecordResource(AllOrNothingResource):
    """Training records, one completed course a row.

    The volunteer is found by phone number (any UK form) and the course by its code. The
    `completed_on` and optional `expires_on` days are written as 23/11/2026 or 2026-11-23;
    an empty `expires_on` follows from the course's validity. A row for a volunteer, course
    and completion day already on record updates that record (its expiry and notes), so a
    file imported twice adds nothing. The volunteer's name and the course's name are
    exported for reading and ignored on import.
    """

    volunteer = Field(
        attribute="volunteer", column_name="volunteer_phone", widget=VolunteerByPhoneWidget()
    )
    volunteer_name = Field(
        attribute="volunteer__full_name", column_name="volunteer_name", readonly=True
    )
    course = Field(
        attribute="course",
        column_name="course",
        widget=LookupWidget(Course, "code", "There is no course with the code “{}”."),
    )
    course_name = Field(attribute="course__name", column_name="course_name", readonly=True)
    completed_on = Field(attribute="completed_on", column_name="completed_on", widget=DayWidget())
    expires_on = Field(attribute="expires_on", column_name="expires_on", widget=DayWidget())

    class Meta:
        model = TrainingRecord
        fields = [
            "volunteer",
            "volunteer_name",
            "course",
            "course_name",
            "completed_on",
            "expires_on",
            "notes",
        ]
        import_id_fields = ["volunteer", "course", "completed_on"]
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True

    def get_instance(self, instance_loader, row):
        try:
            return super().get_instance(instance_loader, row)
        except ValueError:
            return None  # the row's own columns then report what is wrong with them

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("volunteer", "course")
