from django.db import migrations

from community.coordinators import grant_to_coordinators


class Migration(migrations.Migration):
    """Coordinators see and handle follow-ups and see wellbeing answers. Both are raised and
    recorded by PeerPath itself: nobody adds, edits or deletes them by hand."""

    dependencies = [("matching", "0007_follow_ups_wellbeing_and_check_ins")]

    operations = [
        grant_to_coordinators(
            "matching",
            except_codenames=[
                "delete_match",
                "delete_session",
                "add_followup",
                "delete_followup",
                "add_wellbeingcheckin",
                "change_wellbeingcheckin",
                "delete_wellbeingcheckin",
            ],
        )
    ]
