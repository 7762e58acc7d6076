from django.db import migrations

from community.coordinators import grant_to_coordinators


class Migration(migrations.Migration):
    """Coordinators create and look after accounts, but never delete them or grant superuser."""

    dependencies = [("accounts", "0001_initial")]

    operations = [grant_to_coordinators("accounts", except_codenames=["delete_user"])]
