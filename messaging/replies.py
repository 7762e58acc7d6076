"""Who reads the reply to a question: handlers that other apps register in AppConfig.ready.

A handler is called as `handler(question, reply)` with the two Message rows, inside the
transaction that stores the reply. It returns a `ReplyOutcome`: whether it understood the
reply, and the answer to text back (or None for no answer).
"""

from collections.abc import Callable
from typing import NamedTuple


class ReplyOutcome(NamedTuple):
    understood: bool
    answer: str | None = None


_handlers: dict[str, Callable] = {}


def register(name, handler):
    """Make `handler` the reader of replies to questions sent with reply_handler=name."""
    existing = _handlers.get(name)
    if existing is not None and existing is not handler:
        raise ValueError(f"A reply handler named {name!r} is already registered.")
    _handlers[name] = handler


def unregister(name):
    _handlers.pop(name, None)


def handler_for(name):
    try:
        return _handlers[name]
    except KeyError:
        raise LookupError(f"No reply handler is registered as {name!r}.") from None


def is_registered(name):
    return name in _handlers
