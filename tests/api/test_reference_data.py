"""/api/v1/courses/, areas/, languages/ and focuses/: read by anyone signed in, changed by
coordinators, never deleted while in use."""

import factory
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from community.models import Area, Focus, Language
from tests.factories import (
    PeerFactory,
    TrainingRecordFactory,
    UserFactory,
    VolunteerFactory,
    area,
    course,
    focus,
    language,
)
from volunteers.models import Course

pytestmark = pytest.mark.django_db


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course

    code = factory.Sequence(lambda n: f"COURSE-{n}")
    name = factory.Sequence(lambda n: f"Course number {n}")
    valid_for_months = 12


class AreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Area

    name = factory.Sequence(lambda n: f"Village {n}")
    slug = factory.Sequence(lambda n: f"village-{n}")
    council = "North Lanarkshire"
    latitude = 55.8
    longitude = -3.9


class LanguageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Language

    code = factory.Sequence(lambda n: f"x{n}")
    name = factory.Sequence(lambda n: f"Language {n}")


class FocusFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Focus

    slug = factory.Sequence(lambda n: f"focus-{n}")
    name = factory.Sequence(lambda n: f"Focus {n}")


# url, the model, a factory, and a new record as a coordinator would send it.
RESOURCES = {
    "courses": (
        "/api/v1/courses/",
        Course,
        CourseFactory,
        {"code": "TRAUMA", "name": "Trauma-informed practice", "valid_for_months": 36},
    ),
    "areas": (
        "/api/v1/areas/",
        Area,
        AreaFactory,
        {
            "slug": "salsburgh",
            "name": "Salsburgh",
            "council": "North Lanarkshire",
            "latitude": 55.8625,
            "longitude": -3.8734,
        },
    ),
    "languages": (
        "/api/v1/languages/",
        Language,
        LanguageFactory,
        {"code": "so", "name": "Somali"},
    ),
    "focuses": (
        "/api/v1/focuses/",
        Focus,
        FocusFactory,
        {"slug": "gambling", "name": "Gambling"},
    ),
}
KINDS = list(RESOURCES)


@pytest.fixture
def volunteer_client():
    """Someone signed in who is not a coordinator (a volunteer using the app)."""
    client = APIClient()
    client.force_login(UserFactory())
    return client


def names(response):
    assert response.status_code == 200, response.json()
    return [row["name"] for row in response.json()["results"]]


class TestWhoMayDoWhat:
    @pytest.mark.parametrize("kind", KINDS)
    def test_anyone_signed_in_reads_reference_data(self, volunteer_client, kind):
        url, model, _, _ = RESOURCES[kind]

        response = volunteer_client.get(url, {"page_size": 100})

        assert response.status_code == 200
        assert response.json()["count"] == model.objects.count() > 0

    @pytest.mark.parametrize(
        ("kind", "key"),
        [("courses", "NALOXONE"), ("areas", "hamilton"), ("languages", "pl"), ("focuses", "drugs")],
    )
    def test_anyone_signed_in_reads_one_item(self, volunteer_client, kind, key):
        url = RESOURCES[kind][0]

        response = volunteer_client.get(f"{url}{key}/")

        assert response.status_code == 200
        assert key in response.json().values()

    @pytest.mark.parametrize("kind", KINDS)
    def test_only_coordinators_add_reference_data(self, volunteer_client, kind):
        url, model, _, new = RESOURCES[kind]
        before = model.objects.count()

        response = volunteer_client.post(url, new, format="json")

        assert response.status_code == 403
        assert response.json()["detail"] == "Only coordinators may use this part of the API."
        assert model.objects.count() == before

    def test_only_coordinators_change_or_delete_reference_data(self, volunteer_client):
        changed = volunteer_client.patch("/api/v1/focuses/drugs/", {"name": "X"}, format="json")
        deleted = volunteer_client.delete("/api/v1/languages/pl/")

        assert changed.status_code == deleted.status_code == 403
        assert focus("drugs").name == "Drugs"
        assert Language.objects.filter(code="pl").exists()

    @pytest.mark.parametrize("kind", KINDS)
    def test_someone_not_signed_in_is_asked_to_sign_in(self, kind):
        response = APIClient().get(RESOURCES[kind][0])

        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"


class TestCoordinatorsChangeReferenceData:
    @pytest.mark.parametrize("kind", KINDS)
    def test_a_coordinator_adds_changes_and_deletes_an_unused_item(self, api, kind):
        url, model, _, new = RESOURCES[kind]
        key = new.get("code") or new["slug"]

        added = api.post(url, new, format="json")
        assert added.status_code == 201, added.json()
        assert added.json()["name"] == new["name"]

        changed = api.patch(f"{url}{key}/", {"name": "Renamed"}, format="json")
        assert changed.status_code == 200, changed.json()
        assert model.objects.filter(name="Renamed").count() == 1

        deleted = api.delete(f"{url}{key}/")
        assert deleted.status_code == 204
        assert not model.objects.filter(name="Renamed").exists()

    def test_a_course_is_found_by_its_code_in_any_case(self, api):
        response = api.get("/api/v1/courses/naloxone/")

        assert response.status_code == 200
        assert response.json()["code"] == "NALOXONE"
        assert response.json()["valid_for_months"] == 12

    def test_an_unknown_code_is_not_found_and_says_so(self, api):
        response = api.get("/api/v1/courses/BASKET-WEAVING/")

        assert response.status_code == 404
        assert response.json()["detail"] == "There is no course with the code “BASKET-WEAVING”."

    def test_an_area_has_its_centre_as_numbers(self, api):
        response = api.get("/api/v1/areas/coatbridge/")

        assert response.status_code == 200
        body = response.json()
        assert body["latitude"] == pytest.approx(55.8622)
        assert body["longitude"] == pytest.approx(-4.0266)
        assert body["council"] == "North Lanarkshire"

    def test_an_unknown_field_is_refused(self, api):
        response = api.post(
            "/api/v1/languages/", {"code": "so", "name": "Somali", "script": "Latin"}, format="json"
        )

        assert response.status_code == 400
        assert response.json()["errors"]["script"][0].startswith("Unknown field.")
        assert not Language.objects.filter(code="so").exists()

    def test_a_code_already_taken_is_refused(self, api):
        response = api.post(
            "/api/v1/courses/", {"code": "PVG", "name": "Another PVG"}, format="json"
        )

        assert response.status_code == 400
        assert "code" in response.json()["errors"]
        assert Course.objects.filter(code="PVG").count() == 1

    def test_a_course_cannot_be_valid_for_zero_months(self, api):
        response = api.patch("/api/v1/courses/MHFA/", {"valid_for_months": 0}, format="json")

        assert response.status_code == 400
        assert "valid_for_months" in response.json()["errors"]
        assert course("MHFA").valid_for_months == 36

    def test_an_area_off_the_map_is_refused(self, api):
        response = api.patch("/api/v1/areas/wishaw/", {"latitude": 95}, format="json")

        assert response.status_code == 400
        assert "latitude" in response.json()["errors"]


class TestNothingInUseIsDeleted:
    def test_an_area_where_peers_live_is_not_deleted(self, api):
        PeerFactory(area=area("Coatbridge"))
        PeerFactory(area=area("Coatbridge"))

        response = api.delete("/api/v1/areas/coatbridge/")

        assert response.status_code == 409
        body = response.json()
        assert body["code"] == "in_use"
        assert body["type"] == "urn:peerpath:problem:in-use"
        assert body["detail"] == "Coatbridge is still used by 2 peers; change those records first."
        assert Area.objects.filter(slug="coatbridge").exists()

    def test_a_course_with_training_records_is_not_deleted(self, api):
        TrainingRecordFactory(course=course("MHFA"))
        TrainingRecordFactory(course=course("MHFA"))
        TrainingRecordFactory(course=course("MHFA"))

        response = api.delete("/api/v1/courses/MHFA/")

        assert response.status_code == 409
        assert "3 training records" in response.json()["detail"]
        assert Course.objects.filter(code="MHFA").exists()

    def test_a_language_people_speak_is_not_deleted(self, api):
        VolunteerFactory().languages.set([language("pl")])
        for _ in range(2):
            PeerFactory().languages.set([language("pl")])

        response = api.delete("/api/v1/languages/pl/")

        assert response.status_code == 409
        assert "2 peers" in response.json()["detail"]
        assert Language.objects.filter(code="pl").exists()
        assert language("pl").peers.count() == 2

    def test_a_focus_peers_want_support_with_is_not_deleted(self, api):
        PeerFactory().focuses.set([focus("family")])
        PeerFactory().focuses.set([focus("family")])

        response = api.delete("/api/v1/focuses/family/")

        assert response.status_code == 409
        assert "2 peers" in response.json()["detail"]
        assert Focus.objects.filter(slug="family").exists()


class TestListing:
    def test_courses_filter_by_kind_and_whether_required(self, api):
        checks = api.get("/api/v1/courses/", {"kind": "check"})
        optional = api.get("/api/v1/courses/", {"required_for_matching": "false"})
        required = api.get("/api/v1/courses/", {"required_for_matching": "true", "page_size": 100})

        assert names(checks) == ["PVG scheme membership (Disclosure Scotland)"]
        assert names(optional) == ["Mental health first aid"]
        assert len(names(required)) == Course.objects.filter(required_for_matching=True).count()

    @pytest.mark.parametrize(
        ("url", "query"),
        [
            ("/api/v1/courses/", {"kind": "exam"}),
            ("/api/v1/courses/", {"required_for_matching": "maybe"}),
            ("/api/v1/areas/", {"region": "Fife"}),
            ("/api/v1/languages/", {"council": "North Lanarkshire"}),
        ],
    )
    def test_a_filter_value_or_parameter_it_does_not_know_is_refused(self, api, url, query):
        response = api.get(url, query)

        assert response.status_code == 400
        assert set(response.json()["errors"]) == set(query)

    def test_areas_filter_by_council_in_any_case(self, api):
        response = api.get("/api/v1/areas/", {"council": "south lanarkshire", "page_size": 100})

        listed = names(response)
        assert "Hamilton" in listed and "Coatbridge" not in listed
        assert len(listed) == Area.objects.filter(council="South Lanarkshire").count()

    def test_lists_are_in_name_order_unless_asked_otherwise(self, api):
        by_name = names(api.get("/api/v1/languages/", {"page_size": 100}))
        by_code = api.get("/api/v1/languages/", {"ordering": "-code", "page_size": 100})

        assert by_name == sorted(by_name)
        codes = [row["code"] for row in by_code.json()["results"]]
        assert codes == sorted(codes, reverse=True)

    @pytest.mark.parametrize(
        ("url", "term", "found"),
        [
            ("/api/v1/courses/", "naloxone", ["Naloxone administration"]),
            ("/api/v1/areas/", "east kil", ["East Kilbride"]),
            ("/api/v1/areas/", "G67", ["Cumbernauld"]),
            ("/api/v1/languages/", "polish", ["Polish"]),
            ("/api/v1/focuses/", "homeless", ["Homelessness"]),
        ],
    )
    def test_search_finds_by_name(self, api, url, term, found):
        assert names(api.get(url, {"search": term})) == found

    @pytest.mark.parametrize("kind", KINDS)
    def test_the_number_of_queries_does_not_grow_with_the_number_of_items(self, api, kind):
        url, model, make, _ = RESOURCES[kind]
        model.objects.all().delete()
        make()
        with CaptureQueriesContext(connection) as one:
            first = api.get(url, {"page_size": 100})
        make.create_batch(49)
        with CaptureQueriesContext(connection) as fifty:
            second = api.get(url, {"page_size": 100})

        assert first.json()["count"] == 1 and len(second.json()["results"]) == 50
        assert len(fifty.captured_queries) == len(one.captured_queries)
