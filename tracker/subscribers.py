"""Every side effect that follows a change, subscribed in one place: this table.

Use cases change the database and commit; they do not call the log, the metrics, the
audit guard or the mail sender. Those listen here, to SQLAlchemy session events and to
Flask's and Flask-Login's signals, and to the store's "history event written" (events are
written with Core, where no flush sees them). (The outbox's "this transaction wrote mail"
rides on the session for the mail sender.) The app factory calls `register_subscribers` once per
app; the hooks are per process (one session registry, one set of signals), so a second
app adds nothing twice. Listeners of the same event run in the table's order.

Not side effects, so not here: the engine's connection set-up (tracker.database) and the
request hooks that time and name each request (tracker.observability.register).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, got_request_exception, has_app_context
from flask_login import user_logged_in, user_logged_out
from sqlalchemy import event
from sqlalchemy.orm import Session

from tracker import observability, store
from tracker.extensions import db
from tracker.services import audit, flow_weeks, notifications, watching, webhooks
from tracker.services.mail import background, outbox

# Where an event comes from.
APP_SESSION = "the app's session"  # Flask-SQLAlchemy's db.session, every transaction
EVERY_SESSION = "every session"  # any SQLAlchemy Session, the app's or a script's
LOGINS = "Flask-Login"  # signals sent when a person logs in or out
REQUESTS = "Flask"  # signals about requests
STORE = "tracker.store"  # the card store: a history event was written


def send_queued_mail(session: Session) -> None:
    """After a commit that wrote mail: start this process's background sender."""
    if outbox.written(session) and has_app_context():
        background.kick(current_app._get_current_object())


def forget_queued_mail(session: Session, _previous_transaction: Any = None) -> None:
    """After a rollback: the mail it wrote is gone, so there is nothing to send."""
    outbox.written(session)


WEBHOOKS = background.Job(
    webhooks.THREAD_NAME,
    lambda: webhooks.deliver_pending(),
    crashed="webhook.delivery_crashed",
    event="webhook.crashed",
)


def send_queued_webhooks(session: Session) -> None:
    """After a commit that wrote webhook deliveries: start this process's webhook sender."""
    if webhooks.written(session) and has_app_context():
        background.kick(current_app._get_current_object(), WEBHOOKS)


def forget_queued_webhooks(session: Session, _previous_transaction: Any = None) -> None:
    """After a rollback: the deliveries it wrote are gone."""
    webhooks.written(session)


@dataclass(frozen=True)
class Subscription:
    source: str
    event: str
    handler: Callable[..., Any]
    why: str


SUBSCRIPTIONS: tuple[Subscription, ...] = (
    Subscription(
        APP_SESSION,
        "after_flush",
        observability.collect_flushed,
        "note the rows a flush wrote, as plain values, for the log after the commit",
    ),
    Subscription(
        APP_SESSION,
        "after_commit",
        observability.report_committed,
        "log and count what the transaction committed (card events, new cards, rows)",
    ),
    Subscription(
        APP_SESSION,
        "after_transaction_end",
        observability.forget_uncommitted,
        "a rolled-back change is neither logged nor counted",
    ),
    Subscription(
        STORE,
        "event_written",
        observability.note_event,
        "log and count each card history event when its transaction commits",
    ),
    Subscription(
        STORE,
        "event_written",
        watching.watch_from_event,
        "a card's creator, its assignees, commenters and the members a comment mentions "
        "watch it: derived from each history event, in the event's own transaction",
    ),
    Subscription(
        STORE,
        "event_written",
        notifications.note_event,
        "tell the people a card event concerns (in-app, and mail through the outbox), in the "
        "event's own transaction: notifications come from history events only",
    ),
    Subscription(
        STORE,
        "event_written",
        webhooks.note_event,
        "write a delivery for each outgoing webhook that hears of a card event (created, "
        "moved, done, expedite opened, request filed), in the event's own transaction",
    ),
    Subscription(
        STORE,
        "event_written",
        flow_weeks.note_event,
        "an event that rewrites a board's past as flow reads it (a reopen, a move to another "
        "lane or component, a backdated event) spoils the stored flow weeks after it, in "
        "the event's own transaction",
    ),
    Subscription(
        EVERY_SESSION,
        "before_flush",
        audit.refuse_changes,
        "audit rows are append-only: refuse editing or deleting one",
    ),
    Subscription(
        EVERY_SESSION,
        "do_orm_execute",
        audit.refuse_bulk_changes,
        "audit rows are append-only: refuse bulk UPDATE or DELETE statements on them",
    ),
    Subscription(
        APP_SESSION,
        "after_commit",
        send_queued_mail,
        "mail to requesters goes out in the background once the change that wrote it commits",
    ),
    Subscription(
        APP_SESSION,
        "after_soft_rollback",
        forget_queued_mail,
        "mail rolled back with its change is not looked for",
    ),
    Subscription(
        APP_SESSION,
        "after_commit",
        send_queued_webhooks,
        "outgoing webhooks are posted in the background once the change that wrote them commits",
    ),
    Subscription(
        APP_SESSION,
        "after_soft_rollback",
        forget_queued_webhooks,
        "webhook deliveries rolled back with their change are not looked for",
    ),
    Subscription(LOGINS, "user_logged_in", observability.logged_in, "a log line per login"),
    Subscription(LOGINS, "user_logged_out", observability.logged_out, "a log line per logout"),
    Subscription(
        REQUESTS,
        "got_request_exception",
        observability.remember_unhandled,
        "the error log line names the type of an exception no handler took",
    ),
)

_SIGNALS = {
    "user_logged_in": user_logged_in,
    "user_logged_out": user_logged_out,
    "got_request_exception": got_request_exception,
}


def register_subscribers(app: Flask) -> None:
    """Subscribe every handler of SUBSCRIPTIONS to its event (once per process)."""
    for subscription in SUBSCRIPTIONS:
        if subscription.source == STORE:
            store.on_event_written(subscription.handler)
            continue
        if subscription.source in (LOGINS, REQUESTS):
            _SIGNALS[subscription.event].connect(subscription.handler, weak=False)
            continue
        target = db.session if subscription.source == APP_SESSION else Session
        if not event.contains(target, subscription.event, subscription.handler):
            event.listen(target, subscription.event, subscription.handler)
