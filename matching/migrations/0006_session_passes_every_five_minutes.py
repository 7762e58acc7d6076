from django.db import migrations

PASSES = "matching.tasks.session_passes"


def schedule_passes(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name="Send due session reminders and flag unconfirmed sessions",
        defaults={"func": PASSES, "schedule_type": "I", "minutes": 5, "repeats": -1},
    )


def unschedule_passes(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(func=PASSES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("matching", "0005_session_reminders_and_at_risk"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(schedule_passes, unschedule_passes)]
