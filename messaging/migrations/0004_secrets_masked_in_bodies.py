"""Texts still waiting with a sign-in code in their body keep only its mask there: the code
stays in the context, from which the backend puts it back as the text is sent."""

from django.db import migrations

SECRET = "secret"


def mask_secrets(apps, schema_editor):
    Message = apps.get_model("messaging", "Message")
    for message in Message.objects.filter(context__has_key=SECRET).iterator():
        secret = message.context[SECRET]
        if isinstance(secret, str) and secret and secret in message.body:
            message.body = message.body.replace(secret, "•" * len(secret))
            message.save(update_fields=["body"])


class Migration(migrations.Migration):
    dependencies = [("messaging", "0003_coordinators")]

    operations = [migrations.RunPython(mask_secrets, migrations.RunPython.noop)]
