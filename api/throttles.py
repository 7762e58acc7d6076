"""The API's rate limits, counting per client address as every limit in PeerPath does."""

from rest_framework import throttling

from accounts.client_address import client_ip


class ClientAddress:
    def get_ident(self, request):
        return client_ip(request)


class AnonRateThrottle(ClientAddress, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(ClientAddress, throttling.UserRateThrottle):
    pass
