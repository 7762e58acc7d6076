"""Where PeerPath's sign-in API differs from allauth's own.

allauth's request for a sign-in code takes a phone or an email, both optional when both are
sign-in methods, and does not refuse a body giving neither: `{}` or `{"phone": ""}` reached
the view, which failed with a 500 looking for the account the form never looked up. Here
that body is a 400 like any other missing field.
"""

from allauth.headless.account.inputs import RequestLoginCodeInput
from allauth.headless.account.views import RequestLoginCodeView
from allauth.headless.constants import Client
from django.core.exceptions import ValidationError
from django.urls import path


class SignInCodeRequest(RequestLoginCodeInput):
    def clean(self):
        cleaned = super().clean()
        if not self.errors and not cleaned.get("phone") and not cleaned.get("email"):
            raise ValidationError(
                "Give the mobile number the office registered for you.", code="required"
            )
        return cleaned


class RequestSignInCodeView(RequestLoginCodeView):
    input_class = SignInCodeRequest


# Listed before allauth's own URLs, which they take the place of.
urlpatterns = [
    path(
        f"_allauth/{client.value}/v1/auth/code/request",
        RequestSignInCodeView.as_api_view(client=client),
    )
    for client in Client
]
