from django.db import migrations

from community.coordinators import grant_to_coordinators


class Migration(migrations.Migration):
    dependencies = [("matching", "0001_initial"), ("accounts", "0002_coordinators_group")]

    operations = [grant_to_coordinators("matching", except_codenames=["delete_match"])]
