from django.apps import apps
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from community.coordinators import COORDINATORS_GROUP
from community.phones import PhoneField
from community.plain_text import PlainText


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **fields):
        if not email:
            raise ValueError("Every user needs an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **fields):
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **fields)

    def create_superuser(self, email, password=None, **fields):
        fields["is_staff"] = True
        fields["is_superuser"] = True
        return self._create_user(email, password, **fields)

    def get_by_natural_key(self, email):
        return self.get(email__iexact=email)


class User(PlainText, AbstractBaseUser, PermissionsMixin):
    """A person who signs in: a coordinator, or a volunteer using the partner app.

    The email is the identifier for the web; the phone, when set, is the identifier for
    sign-in by SMS code.
    """

    email = models.EmailField("email address", unique=True)
    phone = PhoneField(blank=True, null=True, unique=True, help_text="Mobile, e.g. 07911 123456.")
    name = models.CharField(max_length=150, blank=True)
    is_staff = models.BooleanField(
        "staff status", default=False, help_text="Can sign in to the admin."
    )
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        ordering = ["email"]

    def __str__(self):
        return self.name or self.email

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()
        # An address signs in to one account: it may not be another account's added address
        # either (allauth's, which a coordinator could make their sign-in email).
        EmailAddress = apps.get_model("account", "EmailAddress")
        if EmailAddress.objects.filter(email__iexact=self.email).exclude(user_id=self.pk).exists():
            raise ValidationError(
                {"email": "Another account already has this address among its email addresses."}
            )

    def get_full_name(self):
        return self.name or self.email

    def get_short_name(self):
        return self.name.split(" ")[0] if self.name else self.email

    @property
    def is_coordinator(self):
        if not self.is_active:
            return False
        if self.is_superuser:
            return True
        return any(group.name == COORDINATORS_GROUP for group in self.groups.all())
