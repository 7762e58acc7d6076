from django.db import migrations

from community.coordinators import grant_to_coordinators


class Migration(migrations.Migration):
    dependencies = [("community", "0002_reference_data"), ("accounts", "0002_coordinators_group")]

    operations = [grant_to_coordinators("community")]
