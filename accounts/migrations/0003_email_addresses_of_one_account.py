from django.db import migrations
from django.db.models.functions import Lower


def remove_addresses_of_other_accounts(apps, schema_editor):
    """An address signs in to one account. allauth once let a person add another account's
    email as an address of their own (and, on making it primary, left it marked primary while
    their account kept its own email): those addresses go, and the account's own email is its
    primary address again."""
    User = apps.get_model("accounts", "User")
    EmailAddress = apps.get_model("account", "EmailAddress")
    owner_of = {email: pk for pk, email in User.objects.values_list("pk", Lower("email"))}
    taken = [
        address.pk
        for address in EmailAddress.objects.annotate(lower=Lower("email"))
        if owner_of.get(address.lower, address.user_id) != address.user_id
    ]
    EmailAddress.objects.filter(pk__in=taken).delete()
    for user in User.objects.exclude(emailaddress__primary=True):
        own = EmailAddress.objects.filter(user=user, email__iexact=user.email).first()
        if own is not None:
            own.primary = True
            own.save(update_fields=["primary"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_coordinators_group"),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]

    operations = [
        migrations.RunPython(remove_addresses_of_other_accounts, migrations.RunPython.noop)
    ]
