import csv
from pathlib import Path

from django.db import migrations
from django.utils.text import slugify

AREAS_CSV = Path(__file__).resolve().parent.parent / "data" / "lanarkshire_areas.csv"

LANGUAGES = [
    ("en", "English"),
    ("pl", "Polish"),
    ("ur", "Urdu"),
    ("pa", "Punjabi"),
    ("ar", "Arabic"),
    ("ro", "Romanian"),
    ("lt", "Lithuanian"),
    ("zh", "Mandarin Chinese"),
    ("gd", "Scottish Gaelic"),
    ("bsl", "British Sign Language"),
]

FOCUSES = [
    ("alcohol", "Alcohol", "Recovery from problematic alcohol use."),
    ("drugs", "Drugs", "Recovery from problematic drug use."),
    ("family", "Family member affected", "A family member or friend affected by someone's use."),
    ("mental-health", "Mental health", "Recovery alongside mental health difficulties."),
    ("justice", "Justice and prison release", "Leaving prison or involved with justice services."),
    ("homelessness", "Homelessness", "Recovery while homeless or insecurely housed."),
    ("parenting", "Parenting in recovery", "Parents and carers in recovery."),
    ("bereavement", "Bereavement", "Loss of someone, including to drugs or alcohol."),
]


def load(apps, schema_editor):
    Area = apps.get_model("community", "Area")
    Language = apps.get_model("community", "Language")
    Focus = apps.get_model("community", "Focus")
    with AREAS_CSV.open(newline="", encoding="utf-8") as rows:
        for row in csv.DictReader(rows):
            Area.objects.update_or_create(
                slug=slugify(row["name"]),
                defaults={
                    "name": row["name"],
                    "council": row["council"],
                    "latitude": row["latitude"],
                    "longitude": row["longitude"],
                    "postcode_districts": row["postcode_districts"],
                },
            )
    for code, name in LANGUAGES:
        Language.objects.update_or_create(code=code, defaults={"name": name})
    for slug, name, description in FOCUSES:
        Focus.objects.update_or_create(
            slug=slug, defaults={"name": name, "description": description}
        )


class Migration(migrations.Migration):
    dependencies = [("community", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
