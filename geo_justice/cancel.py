"""Cooperative cancellation: long work calls `checkpoint()` between steps; whoever started it (a server whose
client went away or that is shutting down) sets the event bound with `cancel_on`, and the work stops there."""
from __future__ import annotations

import threading
from contextvars import ContextVar

_EVENT: ContextVar[threading.Event | None] = ContextVar("geo_justice_cancel", default=None)


class Cancelled(Exception):
    """The work was cancelled by whoever asked for it."""


def cancel_on(event: threading.Event):
    """Bind `event` to the current context (and the threads started from it); returns the token to reset."""
    return _EVENT.set(event)


def reset(token) -> None:
    _EVENT.reset(token)


def checkpoint() -> None:
    """Raise Cancelled when the current work has been cancelled; otherwise nothing."""
    event = _EVENT.get()
    if event is not None and event.is_set():
        raise Cancelled("the work was cancelled (client gone or server stopping)")
