import csv
import datetime
import io
import re

import openpyxl
import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from tests.factories import (
    TrainingRecordFactory,
    UserFactory,
    VolunteerFactory,
    area,
    course,
    drama_phone,
)
from volunteers.models import TrainingRecord, Volunteer, VolunteerStatusChange
from volunteers.resources import TrainingRecordResource, VolunteerResource

pytestmark = pytest.mark.django_db

VOLUNTEER_HEADERS = ["preferred_name", "full_name", "phone", "email", "area", "status"]
TRAINING_HEADERS = ["volunteer_phone", "course", "completed_on", "expires_on"]
CSV_FORMAT, XLSX_FORMAT = "0", "1"  # their places in the admin's list of formats


def national(phone):
    """A stored number as a coordinator would type it: "07700 900123"."""
    return f"0{phone[3:7]} {phone[7:]}"


def volunteer_rows(count=3):
    return [
        [f"Vol{n}", f"Volunteer Number{n}", national(drama_phone()), "", "Coatbridge", ""]
        for n in range(count)
    ]


def dataset(headers, rows):
    return tablib.Dataset(*rows, headers=headers)


def as_csv(headers, rows):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue().encode()


def import_volunteers(rows, headers=VOLUNTEER_HEADERS, **kwargs):
    return VolunteerResource().import_data(
        dataset(headers, rows), dry_run=False, raise_errors=False, **kwargs
    )


def import_training(rows, headers=TRAINING_HEADERS):
    return TrainingRecordResource().import_data(
        dataset(headers, rows), dry_run=False, raise_errors=False
    )


def row_errors(result):
    """Each refused row's number and its reasons, as the import page lists them."""
    return {
        row.number: [message for messages in row.error_dict.values() for message in messages]
        for row in result.invalid_rows
    }


class TestVolunteerImport:
    def test_one_bad_row_imports_nothing_and_names_the_row(self):
        rows = volunteer_rows(3)
        rows[1][2] = "0770"

        result = import_volunteers(rows)

        assert result.has_validation_errors()
        assert row_errors(result) == {
            2: ["“0770” is not a valid phone number: it is too short (is the area code missing?)."]
        }
        assert not Volunteer.objects.exists()

    def test_phones_in_any_uk_form_are_stored_in_e164(self):
        forms = ["07700 900311", "+44 7700 900312", "(07700) 900-313", "447700900314"]
        rows = [[f"V{n}", f"V{n} Ross", phone, "", "Airdrie", ""] for n, phone in enumerate(forms)]

        result = import_volunteers(rows)

        assert not result.has_errors() and not result.has_validation_errors()
        stored = sorted(str(phone) for phone in Volunteer.objects.values_list("phone", flat=True))
        assert stored == ["+447700900311", "+447700900312", "+447700900313", "+447700900314"]

    def test_area_languages_focuses_and_yes_no_columns_are_read_as_written(self):
        headers = [*VOLUNTEER_HEADERS, "languages", "focuses", "agreed_to_texts", "gender"]
        row = ["Senga", "Agnes Rennie", "07700 900321", "", "wishaw", "in training"]
        row += ["English; pl", "Alcohol;family", "Yes", "Female"]

        result = import_volunteers([row], headers)

        assert not result.has_validation_errors(), row_errors(result)
        senga = Volunteer.objects.get(full_name="Agnes Rennie")
        assert senga.area == area("Wishaw")
        assert senga.status == "in_training"
        assert sorted(senga.languages.values_list("name", flat=True)) == ["English", "Polish"]
        assert sorted(senga.focuses.values_list("slug", flat=True)) == ["alcohol", "family"]
        assert senga.sms_consent and senga.sms_consent_at is not None
        assert senga.gender == "female"

    def test_unknown_area_language_and_status_are_each_explained(self):
        headers = [*VOLUNTEER_HEADERS, "languages"]
        row = ["Senga", "Agnes Rennie", "07700 900321", "", "Atlantis", "retired", "Klingon"]

        result = import_volunteers([row], headers)

        reasons = row_errors(result)[1]
        assert "There is no area called “Atlantis”." in reasons
        assert (
            "“retired” is not a status. Choose one of: Applicant, In training, Active, Paused, "
            "Left." in reasons
        )
        assert any(
            reason.startswith("There is no language called “Klingon”.") for reason in reasons
        )
        assert not Volunteer.objects.exists()

    def test_a_volunteer_is_found_again_by_phone_however_it_is_written(self):
        volunteer = VolunteerFactory(full_name="Agnes Rennie", email="")
        row = ["Senga", "Agnes Rennie", national(str(volunteer.phone)), "senga@example.org"]

        import_volunteers([[*row, "Coatbridge", ""]])

        assert Volunteer.objects.count() == 1
        volunteer.refresh_from_db()
        assert (volunteer.preferred_name, volunteer.email) == ("Senga", "senga@example.org")

    def test_without_a_phone_a_volunteer_is_found_by_full_name_and_email(self):
        volunteer = VolunteerFactory(
            full_name="Agnes Rennie", email="senga@example.org", phone=None
        )

        import_volunteers([["Senga", "agnes rennie", "", "Senga@example.org", "Airdrie", ""]])

        assert Volunteer.objects.count() == 1
        volunteer.refresh_from_db()
        assert volunteer.area == area("Airdrie")

    def test_a_new_status_for_someone_on_record_is_a_logged_status_change(self, coordinator):
        volunteer = VolunteerFactory(status="active")
        row = [
            volunteer.preferred_name,
            volunteer.full_name,
            str(volunteer.phone),
            "",
            "Coatbridge",
        ]

        result = import_volunteers([[*row, "Paused"]], user=coordinator)

        assert not result.has_validation_errors(), row_errors(result)
        volunteer.refresh_from_db()
        assert volunteer.status == "paused"
        change = VolunteerStatusChange.objects.get(volunteer=volunteer)
        assert (change.from_status, change.to_status, change.changed_by) == (
            "active",
            "paused",
            coordinator,
        )

    def test_a_status_move_the_rules_forbid_is_refused_and_nothing_is_imported(self):
        volunteer = VolunteerFactory(preferred_name="Tam", status="applicant")
        row = ["Tam", volunteer.full_name, str(volunteer.phone), "tam@example.org", "Coatbridge"]
        good_row = volunteer_rows(1)[0]

        result = import_volunteers([good_row, [*row, "active"]])

        assert row_errors(result) == {
            2: [
                "Tam is applicant and cannot become active; from applicant they can become: "
                "in training, left."
            ]
        }
        volunteer.refresh_from_db()
        assert (volunteer.status, volunteer.email) == ("applicant", "")
        assert Volunteer.objects.count() == 1


class TestTrainingRecordImport:
    def test_records_find_the_volunteer_by_phone_and_expiry_follows_from_the_course(self):
        volunteer = VolunteerFactory()
        completed = timezone.localdate() - datetime.timedelta(days=10)

        result = import_training(
            [[national(str(volunteer.phone)), "naloxone", completed.strftime("%d/%m/%Y"), ""]]
        )

        assert not result.has_validation_errors(), row_errors(result)
        record = volunteer.training_records.get()
        assert record.course == course("NALOXONE")
        assert record.completed_on == completed
        assert record.expires_on == course("NALOXONE").expiry_for(completed)

    def test_an_unknown_course_code_gives_a_row_error_and_nothing_is_saved(self):
        volunteer = VolunteerFactory()
        phone = str(volunteer.phone)

        result = import_training(
            [[phone, "ROSC", "2026-01-05", ""], [phone, "XYZ", "2026-01-05", ""]]
        )

        assert row_errors(result) == {2: ["There is no course with the code “XYZ”."]}
        assert not TrainingRecord.objects.exists()

    def test_an_unknown_phone_and_a_month_first_date_are_explained(self):
        result = import_training([["07700 900777", "ROSC", "12/31/2025", ""]])

        reasons = row_errors(result)[1]
        assert "There is no volunteer with the phone number “07700 900777”." in reasons
        assert "“12/31/2025” is not a date: write it as 23/11/2026 or 2026-11-23." in reasons

    def test_importing_the_same_file_twice_adds_nothing(self):
        volunteer = VolunteerFactory()
        rows = [[str(volunteer.phone), "ROSC", "2026-01-05", ""]]

        import_training(rows)
        import_training(rows)

        assert volunteer.training_records.count() == 1


def upload(client, url, content, name, file_format):
    return client.post(
        url,
        {
            "resource": "0",
            "format": file_format,
            "import_file": SimpleUploadedFile(name, content),
        },
    )


def confirm(client, model_url, preview):
    confirm_form = preview.context["confirm_form"]
    return client.post(
        reverse(f"admin:{model_url}_process_import"),
        {name: confirm_form.initial[name] for name in confirm_form.fields},
        follow=True,
    )


class TestImportThroughTheAdmin:
    url = reverse("admin:volunteers_volunteer_import")

    def test_the_import_page_opens_for_a_coordinator(self, coordinator_client):
        page = coordinator_client.get(self.url).content.decode()

        assert "A file is imported whole or not at all" in page
        assert "preferred_name, full_name, phone" in page

    def test_a_file_with_one_bad_row_shows_the_row_and_reason_and_saves_nothing(
        self, coordinator_client
    ):
        rows = volunteer_rows(3)
        rows[2][4] = "Atlantis"

        response = upload(
            coordinator_client, self.url, as_csv(VOLUNTEER_HEADERS, rows), "v.csv", CSV_FORMAT
        )

        page = response.content.decode()
        assert "There is no area called “Atlantis”." in page
        assert re.search(r"<td>\s*3\s*</td>", page), "the bad row's number is shown"
        assert "confirm_form" not in response.context or not response.context["confirm_form"]
        assert not Volunteer.objects.exists()

    def test_a_good_csv_is_previewed_then_imported_on_confirmation(self, coordinator_client):
        rows = volunteer_rows(2)

        preview = upload(
            coordinator_client, self.url, as_csv(VOLUNTEER_HEADERS, rows), "v.csv", CSV_FORMAT
        )
        assert "Vol0" in preview.content.decode() and not Volunteer.objects.exists()
        done = confirm(coordinator_client, "volunteers_volunteer", preview)

        assert "Import finished: 2 new, 0 updated" in done.content.decode()
        assert sorted(Volunteer.objects.values_list("preferred_name", flat=True)) == [
            "Vol0",
            "Vol1",
        ]

    def test_a_good_xlsx_of_training_records_is_imported(self, coordinator_client):
        volunteer = VolunteerFactory()
        workbook = dataset(
            TRAINING_HEADERS,
            [
                [str(volunteer.phone), "ROSC", datetime.datetime(2026, 1, 5), None],
                [str(volunteer.phone), "PVG", "05/01/2026", "2030-01-05"],
            ],
        ).export("xlsx")
        url = reverse("admin:volunteers_trainingrecord_import")

        preview = upload(coordinator_client, url, workbook, "training.xlsx", XLSX_FORMAT)
        done = confirm(coordinator_client, "volunteers_trainingrecord", preview)

        assert "Import finished: 2 new" in done.content.decode()
        records = dict(volunteer.training_records.values_list("course__code", "expires_on"))
        assert records == {"ROSC": None, "PVG": datetime.date(2030, 1, 5)}


class TestExport:
    def export(self, client, model_url, resource, file_format):
        fields = {
            f"{resource.__name__.lower()}_{name}": "on" for name in resource().get_export_order()
        }
        return client.post(
            reverse(f"admin:{model_url}_export"),
            {"resource": "0", "format": file_format, **fields},
        )

    def test_volunteers_export_as_csv_with_their_rows(self, coordinator_client):
        senga = VolunteerFactory(preferred_name="Senga", area=area("Shotts"))
        VolunteerFactory(preferred_name="Tam")

        response = self.export(
            coordinator_client, "volunteers_volunteer", VolunteerResource, CSV_FORMAT
        )

        assert response["Content-Type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.content.decode())))
        assert [row["preferred_name"] for row in rows] == ["Senga", "Tam"]
        assert rows[0]["phone"] == senga.phone.as_international  # "+44 7700 900123"
        assert rows[0]["area"] == "Shotts"
        assert rows[0]["status"] == "Active"

    def test_training_records_export_as_xlsx_with_their_rows(self, coordinator_client):
        record = TrainingRecordFactory(course=course("NALOXONE"))

        response = self.export(
            coordinator_client, "volunteers_trainingrecord", TrainingRecordResource, XLSX_FORMAT
        )

        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        headers, row = [list(values) for values in sheet.iter_rows(values_only=True)]
        exported = dict(zip(headers, row, strict=True))
        assert exported["volunteer_phone"] == record.volunteer.phone.as_international
        assert exported["course"] == "NALOXONE"
        assert exported["course_name"] == "Naloxone administration"
        assert exported["completed_on"].date() == record.completed_on

    def test_an_export_imports_back_without_changing_anything(self):
        VolunteerFactory(preferred_name="Senga", email="senga@example.org")
        exported = VolunteerResource().export()

        result = VolunteerResource().import_data(exported, dry_run=False)

        assert not result.has_errors() and not result.has_validation_errors()
        assert [row.import_type for row in result.rows] == ["skip"]
        assert Volunteer.objects.count() == 1


@pytest.mark.parametrize("page", ["import", "export"])
def test_staff_without_the_coordinators_rights_can_neither_import_nor_export(client, page):
    client.force_login(UserFactory(is_staff=True))

    response = client.get(reverse(f"admin:volunteers_volunteer_{page}"))

    assert response.status_code == 403
