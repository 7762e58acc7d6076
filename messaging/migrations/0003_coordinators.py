from django.db import migrations

from community.coordinators import grant_to_coordinators


class Migration(migrations.Migration):
    """Coordinators read the message log and act on it (send again, mark handled: change),
    record and end opt-outs. Texts are never added or deleted by hand, opt-outs are ended
    rather than deleted, and the shared send slot is the workers' alone."""

    dependencies = [
        ("messaging", "0002_sweep_every_minute"),
        ("accounts", "0002_coordinators_group"),
    ]

    operations = [
        grant_to_coordinators(
            "messaging",
            except_codenames=[
                "add_message",
                "delete_message",
                "delete_optout",
                "add_sendslot",
                "change_sendslot",
                "delete_sendslot",
                "view_sendslot",
            ],
        )
    ]
