"""The queue's entry points: thin wrappers over messaging.services."""

from messaging import services


def deliver_message(message_id):
    return services.deliver(message_id)


def sweep():
    return services.sweep()
