"""Background sending: one sender thread per app and process, started after a commit.

tracker.subscribers calls `kick` when a transaction that wrote mail commits; the thread
runs delivery.deliver_pending in its own app context and never makes the change wait. A
kick while the sender runs makes it go round once more instead of starting a second one.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Protocol

from tracker.extensions import db
from tracker.services.mail import delivery

log = logging.getLogger("tracker.mail")

_THREAD_NAME = "weatherboard-mail"


class App(Protocol):
    """What a sender needs of the app: a context to run in and a place to keep its state."""

    extensions: dict[str, Any]

    def app_context(self) -> Any: ...


class _Sender:
    """One background sender per app and process: a kick during a run makes it go again."""

    def __init__(self) -> None:
        self.running = threading.Lock()
        self.again = threading.Event()


def _sender(app: App) -> _Sender:
    return app.extensions.setdefault("weatherboard_mail", _Sender())


def kick(app: App) -> threading.Thread:
    """Send what is due in a daemon thread, without waiting for it."""
    sender = _sender(app)
    sender.again.set()
    thread = threading.Thread(target=_drain, args=(app, sender), name=_THREAD_NAME, daemon=True)
    thread.start()
    return thread


def _drain(app: App, sender: _Sender) -> None:
    while sender.again.is_set():
        if not sender.running.acquire(blocking=False):
            return  # the running sender sees `again` and goes round once more
        try:
            while sender.again.is_set():
                sender.again.clear()
                with app.app_context():
                    try:
                        delivery.deliver_pending()
                    except Exception:  # a daemon thread has no one to tell but the log
                        log.exception("mail.delivery_crashed", extra={"event": "mail.crashed"})
                    finally:
                        db.session.remove()
        finally:
            sender.running.release()


def background_senders() -> list[threading.Thread]:
    """The background sender threads alive now (a test waits for them)."""
    return [t for t in threading.enumerate() if t.name == _THREAD_NAME]
