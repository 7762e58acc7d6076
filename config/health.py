"""GET (or HEAD) /health/: is the database answering, and the task queue's broker?"""

import logging

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_q.brokers import get_broker

logger = logging.getLogger(__name__)


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True, "engine": connection.vendor}


def _broker():
    broker = get_broker()
    broker.ping()
    return {"ok": True, "broker": broker.info(), "queued": broker.queue_size()}


@never_cache
@require_safe  # GET, and HEAD for load balancers' checks that read only the status
def health(request):
    checks = {}
    for name, check in (("database", _database), ("broker", _broker)):
        try:
            checks[name] = check()
        except Exception as error:  # a health check reports every failure, whatever it is
            logger.warning("Health check %s failed: %s", name, error)
            checks[name] = {"ok": False, "error": f"{type(error).__name__}: {error}"}
    healthy = all(check["ok"] for check in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", **checks}, status=200 if healthy else 503
    )
