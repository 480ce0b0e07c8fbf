"""Background sending: one sender thread per app, process and outbox, started after a commit.

tracker.subscribers calls `kick` when a transaction that wrote mail commits (and
`kick(app, WEBHOOKS)`-style with another outbox's Job when it wrote webhook deliveries);
the thread runs the job's deliver function in its own app context and never makes the
change wait. A kick while the sender runs makes it go round once more instead of starting
a second one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from tracker.extensions import db
from tracker.services.mail import delivery

log = logging.getLogger("tracker.mail")

_THREAD_NAME = "weatherboard-mail"


@dataclass(frozen=True)
class Job:
    """An outbox's sending: its thread's name and what one round of sending calls."""

    name: str
    deliver: Callable[[], Any]
    # The log line when a round crashes, and its event name.
    crashed: str = "mail.delivery_crashed"
    event: str = "mail.crashed"


MAIL = Job(_THREAD_NAME, lambda: delivery.deliver_pending())


class App(Protocol):
    """What a sender needs of the app: a context to run in and a place to keep its state."""

    extensions: dict[str, Any]

    def app_context(self) -> Any: ...


class _Sender:
    """One background sender per app and process: a kick during a run makes it go again."""

    def __init__(self) -> None:
        self.running = threading.Lock()
        self.again = threading.Event()


def _sender(app: App, job: Job) -> _Sender:
    key = "weatherboard_mail" if job is MAIL else job.name
    return app.extensions.setdefault(key, _Sender())


def kick(app: App, job: Job = MAIL) -> threading.Thread:
    """Send what is due in a daemon thread, without waiting for it."""
    sender = _sender(app, job)
    sender.again.set()
    thread = threading.Thread(target=_drain, args=(app, sender, job), name=job.name, daemon=True)
    thread.start()
    return thread


def _drain(app: App, sender: _Sender, job: Job = MAIL) -> None:
    while sender.again.is_set():
        if not sender.running.acquire(blocking=False):
            return  # the running sender sees `again` and goes round once more
        try:
            while sender.again.is_set():
                sender.again.clear()
                with app.app_context():
                    try:
                        job.deliver()
                    except Exception:  # a daemon thread has no one to tell but the log
                        log.exception(job.crashed, extra={"event": job.event})
                    finally:
                        db.session.remove()
        finally:
            sender.running.release()


def background_senders(name: str = _THREAD_NAME) -> list[threading.Thread]:
    """The background sender threads of one outbox alive now (a test waits for them)."""
    return [t for t in threading.enumerate() if t.name == name]
