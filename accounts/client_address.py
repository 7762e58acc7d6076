"""Which address a request comes from, read one way for every limit that counts per client.

With TRUSTED_PROXIES = 0 (the default) nothing in the request is believed but the connection
itself: X-Forwarded-For is the client's own words and would let it pick a fresh address for
every request. Behind N proxies, each appends the address it saw, so the Nth entry from the
right is the one the outermost trusted proxy saw: anything to its left the client wrote.
A header with fewer entries than that did not come through every proxy, so the connection's
address is used.
"""

import ipaddress

from django.conf import settings


def client_ip(request):
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXIES
    forwarded = request.headers.get("X-Forwarded-For", "")
    if proxies > 0 and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",")]
        if len(hops) >= proxies:
            return _address(hops[-proxies]) or remote
    return remote


def _address(text):
    """The address in canonical form, or None when the text is not one."""
    text = text.strip("[]")
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None
