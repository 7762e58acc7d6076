import csv
from pathlib import Path

from django.db import migrations

COURSES_CSV = Path(__file__).resolve().parent.parent / "data" / "courses.csv"


def load(apps, schema_editor):
    Course = apps.get_model("volunteers", "Course")
    with COURSES_CSV.open(newline="", encoding="utf-8") as rows:
        for row in csv.DictReader(rows):
            Course.objects.update_or_create(
                code=row["code"],
                defaults={
                    "name": row["name"],
                    "kind": row["kind"],
                    "required_for_matching": row["required_for_matching"].strip() == "yes",
                    "valid_for_months": int(row["valid_for_months"])
                    if row["valid_for_months"].strip()
                    else None,
                    "notes": row["notes"],
                },
            )


class Migration(migrations.Migration):
    dependencies = [("volunteers", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
