"""Per-client limits count per address, read one way for the API and sign-in alike."""

import pytest
from allauth.account.adapter import get_adapter
from django.test import RequestFactory
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from accounts.client_address import client_ip
from api.throttles import AnonRateThrottle

pytestmark = pytest.mark.django_db

URL = "/api/v1/volunteers/"
CODE_REQUEST = "/_allauth/app/v1/auth/code/request"
PROXY = "192.0.2.10"


def request_from(remote, forwarded=None):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **headers)


@pytest.mark.parametrize(
    ("proxies", "forwarded", "seen"),
    [
        (0, None, PROXY),
        (0, "10.0.0.7", PROXY),  # nobody is trusted: the header is the client's own words
        (1, None, PROXY),
        (1, "10.0.0.7", "10.0.0.7"),
        (1, "6.6.6.6, 10.0.0.7", "10.0.0.7"),  # the left entry was written by the client
        (2, "6.6.6.6, 10.0.0.7, 172.16.0.1", "10.0.0.7"),
        (2, "10.0.0.7", PROXY),  # fewer hops than proxies: not through every proxy
        (1, "not an address", PROXY),
        (1, "[2001:db8::1]", "2001:db8::1"),
    ],
)
def test_the_client_address_follows_the_number_of_trusted_proxies(
    settings, proxies, forwarded, seen
):
    settings.TRUSTED_PROXIES = proxies
    request = request_from(PROXY, forwarded)

    assert client_ip(request) == seen
    assert get_adapter().get_client_ip(request) == seen
    assert AnonRateThrottle().get_ident(request) == seen


@pytest.fixture
def two_a_minute(monkeypatch, settings):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "2/minute", "user": "2/m"})
    settings.ACCOUNT_RATE_LIMITS = {"request_login_code": "2/m/ip"}


def api_statuses(forwarded_for):
    client = APIClient(REMOTE_ADDR=PROXY)
    return [client.get(URL, HTTP_X_FORWARDED_FOR=ip).status_code for ip in forwarded_for]


def code_request_statuses(forwarded_for):
    client = APIClient(REMOTE_ADDR=PROXY)
    return [
        client.post(
            CODE_REQUEST, {"phone": "07700 900999"}, format="json", HTTP_X_FORWARDED_FOR=ip
        ).status_code
        for ip in forwarded_for
    ]


ROTATING = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"]


def test_with_no_trusted_proxy_a_made_up_forwarded_for_does_not_escape_the_limit(two_a_minute):
    assert api_statuses(ROTATING) == [401, 401, 429, 429]
    # allauth answers a sign-in request over its limit with its own 400 (too many attempts)
    assert code_request_statuses(ROTATING) == [401, 401, 400, 400]


def test_behind_a_trusted_proxy_each_client_has_its_own_count(two_a_minute, settings):
    settings.TRUSTED_PROXIES = 1

    assert api_statuses(ROTATING) == [401, 401, 401, 401]
    assert code_request_statuses(ROTATING) == [401, 401, 401, 401]
    # and one client behind the proxy is still limited, whatever it puts to the left
    repeated = [f"6.6.6.{n}, 10.0.0.9" for n in range(4)]
    assert api_statuses(repeated) == [401, 401, 429, 429]
    assert code_request_statuses(repeated) == [401, 401, 400, 400]
