from django.db import migrations

from community.coordinators import grant_to_coordinators
from community.overlap_sql import forbid_overlapping_windows


class Migration(migrations.Migration):
    """Availability windows never overlap; coordinators never delete a volunteer (status “left”)."""

    dependencies = [("volunteers", "0002_courses"), ("accounts", "0002_coordinators_group")]

    operations = [
        forbid_overlapping_windows(
            "volunteers", "AvailabilityWindow", "volunteer_id", "availability_no_overlap"
        ),
        grant_to_coordinators("volunteers", except_codenames=["delete_volunteer"]),
    ]
