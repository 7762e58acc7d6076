import csv
from pathlib import Path

import pytest

from community.geography import distance_km
from community.models import Area, Focus, Language
from volunteers.models import Course

DATA = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_every_lanarkshire_locality_is_loaded_with_its_centre():
    with (DATA / "community" / "data" / "lanarkshire_areas.csv").open() as rows:
        expected = {row["name"]: row for row in csv.DictReader(rows)}
    assert Area.objects.count() == len(expected) == 33
    hamilton = Area.objects.get(slug="hamilton")
    assert hamilton.council == "South Lanarkshire"
    assert float(hamilton.latitude) == pytest.approx(55.7772)
    assert Area.objects.get(name="Cumbernauld").postcode_districts == "G67 G68"


@pytest.mark.django_db
def test_default_courses_are_loaded_with_validity_and_requirement():
    naloxone = Course.objects.get(code="NALOXONE")
    assert naloxone.required_for_matching and naloxone.valid_for_months == 12
    assert Course.objects.get(code="PVG").kind == Course.Kind.CHECK
    assert Course.objects.get(code="ROSC").valid_for_months is None
    assert not Course.objects.get(code="MHFA").required_for_matching
    assert Course.objects.filter(required_for_matching=True).count() == 7


@pytest.mark.django_db
def test_languages_and_focuses_have_editable_defaults():
    assert Focus.objects.filter(slug__in=["alcohol", "drugs", "family"]).count() == 3
    assert Language.objects.filter(code="en").exists()


def test_great_circle_distance_between_two_points():
    # Coatbridge to Hamilton is about 10 km as the crow flies.
    assert distance_km(55.8622, -4.0266, 55.7772, -4.0397) == pytest.approx(9.5, abs=0.3)
    assert distance_km(55.8622, -4.0266, 55.8622, -4.0266) == 0


@pytest.mark.django_db
def test_area_distance_is_symmetric():
    coatbridge, wishaw = Area.objects.get(name="Coatbridge"), Area.objects.get(name="Wishaw")
    assert coatbridge.distance_km(wishaw) == pytest.approx(wishaw.distance_km(coatbridge))
    assert 10 < coatbridge.distance_km(wishaw) < 14
