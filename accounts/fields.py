"""The phone number a volunteer types to sign in: any common UK form, E.164 once cleaned."""

from allauth.account.fields import PhoneField

from community.phones import normalise_phone


class SignInPhoneField(PhoneField):
    """allauth's phone field, but "07700 900123" works as well as "+447700900123".

    allauth's own field insists on E.164; ours parses the way every other phone field in
    PeerPath does (default region GB) and says why a number cannot be read. The cleaned value
    is the E.164 string allauth expects (it keys its rate limits on it).
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("validators", [])
        kwargs.setdefault("help_text", "Your mobile number, e.g. 07700 900123.")
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value:
            value = normalise_phone(value)
        return value
