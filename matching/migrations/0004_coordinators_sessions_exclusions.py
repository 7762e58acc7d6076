from django.db import migrations

from community.coordinators import grant_to_coordinators


class Migration(migrations.Migration):
    """Coordinators schedule sessions and keep exclusions; sessions are cancelled, never
    deleted, so their history stays."""

    dependencies = [("matching", "0003_match_decisions_exclusions_sessions")]

    operations = [
        grant_to_coordinators("matching", except_codenames=["delete_match", "delete_session"])
    ]
