"""The queue's entry points: thin wrappers over messaging.services."""

from django.conf import settings

from messaging import services


def deliver_message(message_id):
    return services.deliver(message_id, batch=settings.SMS_DELIVERY_BATCH)


def sweep():
    return services.sweep()
