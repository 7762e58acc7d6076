"""The Coordinators group: who the coordinators are, and what they may change.

Each app grants the group its own models' permissions from a migration, with
`grant_to_coordinators`, so a fresh database and an old one end the same.
"""

COORDINATORS_GROUP = "Coordinators"


def grant_to_coordinators(app_label, *, except_codenames=()):
    """A migration operation giving the Coordinators group every permission of an app."""
    from django.contrib.auth.management import create_permissions
    from django.db import migrations

    def forwards(apps, schema_editor):
        app_config = apps.get_app_config(app_label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        Group = apps.get_model("auth", "Group")
        Permission = apps.get_model("auth", "Permission")
        group, _ = Group.objects.get_or_create(name=COORDINATORS_GROUP)
        permissions = Permission.objects.filter(content_type__app_label=app_label).exclude(
            codename__in=except_codenames
        )
        group.permissions.add(*permissions)

    def backwards(apps, schema_editor):
        Group = apps.get_model("auth", "Group")
        Permission = apps.get_model("auth", "Permission")
        group = Group.objects.filter(name=COORDINATORS_GROUP).first()
        if group:
            group.permissions.remove(*Permission.objects.filter(content_type__app_label=app_label))

    return migrations.RunPython(forwards, backwards)
