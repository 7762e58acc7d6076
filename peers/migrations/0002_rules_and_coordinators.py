from django.db import migrations

from community.coordinators import grant_to_coordinators
from community.overlap_sql import forbid_overlapping_windows


class Migration(migrations.Migration):
    """Preferred times never overlap; coordinators close a peer's record rather than delete it."""

    dependencies = [("peers", "0001_initial"), ("accounts", "0002_coordinators_group")]

    operations = [
        forbid_overlapping_windows(
            "peers", "PreferredTime", "peer_id", "preferred_time_no_overlap"
        ),
        grant_to_coordinators("peers", except_codenames=["delete_peer"]),
    ]
