"""Outgoing webhooks: a lead's hooks, the events written to their outbox, and sending.

A card history event the store writes (tracker.subscribers: "event_written") becomes a
WebhookDelivery row per hook that hears of it, in the event's own transaction: the change
and its deliveries commit together or not at all. After the commit a background sender
(services.mail.background, the mail's, with this outbox's Job) posts them, claimed,
leased and retried with services.queue as mail is. Each post is signed
(domain.webhooks.signature) and goes only to the addresses the hook's host resolves to
right then, each checked (SSRF, DNS rebinding): the connection is made to the checked
address, never to a name resolved a second time.

`queue_event` is the hook point for events that are not card history: the "send test
event" button, and expedite.mitigated once incidents record mitigation.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import json
import logging
import secrets
import socket
import ssl
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Select, bindparam, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.util import identity_key

from tracker import clock
from tracker.domain import policy
from tracker.domain import webhooks as rules
from tracker.domain.errors import InvalidRequest, NotFound
from tracker.domain.policy import Action
from tracker.domain.vocabulary import MailStatus, WebhookEvent
from tracker.extensions import db
from tracker.models import (
    Board,
    BoardColumn,
    Card,
    Lane,
    User,
    Webhook,
    WebhookDelivery,
)
from tracker.services import audit, host, queue
from tracker.store import lock_board

log = logging.getLogger("tracker.webhooks")

THREAD_NAME = "weatherboard-webhooks"
BATCH = 50
LOG_SIZE = 20  # deliveries shown per hook
MAX_HOOKS = 20  # per board
RESPONSE_KEPT = 200  # characters of a failed answer kept as its error
_WRITTEN = "weatherboard_webhooks_queued"  # session.info flag: this transaction wrote some


def _require(actor: Any) -> None:
    policy.require(
        actor.role,
        Action.MANAGE_INTEGRATIONS,
        "Only a lead of this board can change its alerts and webhooks.",
    )


def allow_private() -> bool:
    """Whether the admin lets hooks reach private addresses (TRACKER_WEBHOOK_ALLOW_PRIVATE)."""
    return bool(host.config().get("WEBHOOK_ALLOW_PRIVATE"))


# Resolving, checked ------------------------------------------------------------------------


def resolve(hostname: str, port: int) -> list[str]:
    """Every address the host name resolves to now (RefusedAddress when it resolves to none)."""
    try:
        found = socket.getaddrinfo(hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise rules.Unresolved(f"{hostname} cannot be found ({error}).") from None
    return [str(info[4][0]) for info in found]


def checked_addresses(url: str) -> tuple[list[str], int, bool]:
    """The addresses to connect to for this URL, each allowed, with the port and TLS flag."""
    hostname, port, tls = rules.host_and_port(url)
    addresses = rules.check_addresses(hostname, resolve(hostname, port), allow_private())
    return addresses, port, tls


# Hooks ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewHook:
    """A hook just added: its secret is shown to the lead this once (kept to sign with)."""

    hook: Webhook
    secret: str


def add_hook(board_id: int, actor: Any, url: str, events: list[str]) -> NewHook:
    """A lead registers an address for some of the board's events. Refused: a URL that is
    not http(s), and a host that resolves to an internal address (unless allowed); a host
    that cannot be resolved yet is kept, and checked again at every send."""
    _require(actor)
    url = rules.check_url(url)
    chosen = rules.check_events(events)
    with contextlib.suppress(rules.Unresolved):  # not in the DNS yet: checked at every post
        checked_addresses(url)
    board = lock_board(board_id)  # the count below holds with several leads adding at once
    if len(hooks(board_id)) >= MAX_HOOKS:
        raise InvalidRequest(f"A board can have at most {MAX_HOOKS} webhooks.")
    secret = secrets.token_hex(32)
    hook = Webhook(
        board_id=board_id,
        url=url,
        events=[str(e) for e in chosen],
        secret=secret,
        created_at=clock.now(),
        created_by_id=actor.id,
    )
    db.session.add(hook)
    board.webhook_count = len(hooks(board_id))
    audit.record(
        "webhook.added",
        actor_id=actor.id,
        address=actor.address,
        board_id=board_id,
        target_type="webhook",
        target_id=hook.id,
        detail={"host": urlsplit(url).hostname, "events": hook.events},
    )
    db.session.commit()
    return NewHook(hook, secret)


def get_hook(board_id: int, hook_id: Any) -> Webhook:
    """The board's live hook of this id, or NotFound (another board's too)."""
    hook = db.session.get(Webhook, hook_id)
    if hook is None or hook.board_id != board_id or hook.removed_at is not None:
        raise NotFound("That webhook is not on this board.")
    return hook


def remove_hook(board_id: int, actor: Any, hook_id: Any) -> Webhook:
    """A lead removes a hook: nothing more is sent to it (what waits is given up)."""
    _require(actor)
    board = lock_board(board_id)
    hook = get_hook(board_id, hook_id)
    hook.removed_at = clock.now()
    board.webhook_count = len(hooks(board_id))
    audit.record(
        "webhook.removed",
        actor_id=actor.id,
        address=actor.address,
        board_id=board_id,
        target_type="webhook",
        target_id=hook.id,
        detail={"host": urlsplit(hook.url).hostname},
    )
    db.session.commit()
    return hook


def hooks(board_id: int) -> list[Webhook]:
    """The board's live hooks, oldest first."""
    return list(
        db.session.execute(
            select(Webhook)
            .where(Webhook.board_id == board_id, Webhook.removed_at.is_(None))
            .order_by(Webhook.id)
        ).scalars()
    )


def deliveries(hook_id: int, limit: int = LOG_SIZE) -> list[WebhookDelivery]:
    """A hook's delivery log, newest first."""
    return list(
        db.session.execute(
            select(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == hook_id)
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        ).scalars()
    )


def send_test(board_id: int, actor: Any, hook_id: Any) -> WebhookDelivery:
    """The "send test event" button: one ping to this hook, sent after the commit."""
    _require(actor)
    hook = get_hook(board_id, hook_id)
    board = db.session.get(Board, board_id)
    data = {"board": {"id": board.id, "name": board.name}, "message": "A test from Weatherboard."}
    (row,) = _write(db.session(), [(hook.id, board_id)], WebhookEvent.PING, data)
    db.session.commit()
    return row


# Writing to the outbox ----------------------------------------------------------------------


def mark_written(session: Session) -> None:
    session.info[_WRITTEN] = True


def written(session: Session) -> bool:
    """Whether the transaction that just ended wrote deliveries (and forget the note)."""
    return bool(session.info.pop(_WRITTEN, False))


def _body(uid: str, event: str, at: datetime, data: Mapping[str, Any]) -> str:
    return json.dumps(
        {"id": uid, "event": event, "occurred_at": _iso(at), **data},
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )


def _iso(at: datetime | None) -> str | None:
    return at.isoformat().replace("+00:00", "Z") if at is not None else None


def _write(
    session: Session,
    targets: list[tuple[int, int]],
    event: str,
    data: Mapping[str, Any],
    at: datetime | None = None,
) -> list[WebhookDelivery]:
    """One delivery row per (hook id, board id), added to the session's transaction."""
    now = clock.now()
    rows = []
    for hook_id, board_id in targets:
        uid = str(uuid.uuid4())
        row = WebhookDelivery(
            webhook_id=hook_id,
            board_id=board_id,
            uid=uid,
            event=str(event),
            body=_body(uid, event, at or now, data),
            status=MailStatus.PENDING,
            created_at=now,
            attempts=0,
            next_attempt_at=now,
            last_error="",
        )
        session.add(row)
        rows.append(row)
    if rows:
        mark_written(session)
    return rows


@functools.cache
def _hooks_statement() -> Select:
    return select(Webhook.id, Webhook.events).where(
        Webhook.board_id == bindparam("board_id"), Webhook.removed_at.is_(None)
    )


def _listening(session: Session, board_id: int) -> list[tuple[int, list[str]]]:
    """The board's live hooks and what each hears of. Nothing is read when the board, as
    this transaction loaded it (a card change holds it under the lock), has none: card
    changes on boards without webhooks send no statement more (bench: move_ms, pull_ms)."""
    board = session.identity_map.get(identity_key(Board, board_id))
    if board is not None and sa_inspect(board).dict.get("webhook_count", 1) == 0:
        return []
    rows = session.connection().execute(_hooks_statement(), {"board_id": board_id}).all()
    return [(row.id, list(row.events or ())) for row in rows]


def queue_event(
    board_id: int, event: WebhookEvent, data: Mapping[str, Any], *, session: Session | None = None
) -> int:
    """The hook point for an event that is not a card history event (expedite.mitigated,
    once incidents record mitigation): a delivery for each of the board's hooks that hears
    of it, in the caller's transaction (the caller commits). `data` is the JSON body's
    fields besides id, event and occurred_at, e.g. {"board": ..., "card": card_data(...)}.
    Returns how many deliveries were written."""
    session = session or db.session()
    targets = [(hid, board_id) for hid, events in _listening(session, board_id) if event in events]
    return len(_write(session, targets, event, data))


@functools.cache
def _card_statement() -> Select:
    actor = aliased(User)
    return (
        select(
            Board.name.label("board_name"),
            Card.id,
            Card.ref,
            Card.title,
            Card.severity,
            Card.status,
            Card.filed_by_id,
            Card.assignee_id,
            Lane.kind.label("lane_kind"),
            Lane.name.label("lane_name"),
            BoardColumn.kind.label("column_kind"),
            BoardColumn.name.label("column_name"),
            actor.name.label("actor_name"),
        )
        .join(Board, Board.id == Card.board_id)
        .join(Lane, Lane.id == Card.lane_id)
        .join(BoardColumn, BoardColumn.id == Card.column_id)
        .outerjoin(actor, actor.id == bindparam("actor_id"))
        .where(Card.id == bindparam("card_id"))
    )


def card_data(row: Any, board_id: int, actor_id: int | None) -> dict[str, Any]:
    """The JSON body's board, card and actor for a card event (row: _card_statement's)."""
    return {
        "board": {"id": board_id, "name": row.board_name},
        "card": {
            "id": row.id,
            "ref": row.ref,
            "title": row.title,
            "severity": row.severity,
            "status": row.status,
            "lane": {"kind": row.lane_kind, "name": row.lane_name},
            "column": {"kind": row.column_kind, "name": row.column_name},
            "assignee_id": row.assignee_id,
        },
        "actor": {"id": actor_id, "name": row.actor_name} if actor_id else None,
    }


def queue_card_event(
    board_id: int,
    event: WebhookEvent,
    card_id: int,
    actor_id: int | None,
    *,
    session: Session | None = None,
    **extra: Any,
) -> int:
    """queue_event for an event about one card, with the card's usual JSON (card_data) and
    `extra` fields. The hook point for incident mitigation: in the use case that records it,
    before its commit, `webhooks.queue_card_event(board_id, WebhookEvent.EXPEDITE_MITIGATED,
    card.id, actor.id)`."""
    session = session or db.session()
    if not any(event in heard for _, heard in _listening(session, board_id)):
        return 0
    params = {"card_id": card_id, "actor_id": actor_id}
    row = session.connection().execute(_card_statement(), params).one()
    data = card_data(row, board_id, actor_id) | extra
    return queue_event(board_id, event, data, session=session)


def note_event(session: Session, _event_id: int, values: Mapping[str, Any]) -> None:
    """The store wrote a card history event: a delivery for each hook that hears of what it
    made (domain.webhooks.events_for), in the event's own transaction. Reads the board's
    hooks only for an event that may make one, and the card only when a hook listens."""
    kind = values["kind"]
    if not rules.may_matter(kind):
        return
    listening = _listening(session, values["board_id"])
    if not listening:
        return
    params = {"card_id": values["card_id"], "actor_id": values.get("actor_id")}
    row = session.connection().execute(_card_statement(), params).one_or_none()
    if row is None:
        return
    events = rules.events_for(
        kind,
        values.get("changes") or {},
        lane_kind=row.lane_kind,
        filed=row.filed_by_id is not None,
    )
    data = card_data(row, values["board_id"], values.get("actor_id"))
    for event in events:
        targets = [(hid, values["board_id"]) for hid, heard in listening if event in heard]
        _write(session, targets, event, data, values["at"])


# Sending ----------------------------------------------------------------------------------


class _PinnedHTTP(http.client.HTTPConnection):
    """HTTP to one checked address, whatever the name resolves to by now."""

    def __init__(self, hostname: str, port: int, address: str, timeout: float) -> None:
        super().__init__(hostname, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to one checked address; the certificate is checked against the host name."""

    def __init__(self, hostname: str, port: int, address: str, timeout: float) -> None:
        super().__init__(hostname, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


@dataclass(frozen=True)
class Answer:
    status: int
    text: str


def post(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> Answer:
    """POST the body to the URL's checked address (the first that connects); no redirects
    are followed. RefusedAddress for an address not allowed; OSError when none answers."""
    addresses, port, tls = checked_addresses(url)
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection_type = _PinnedHTTPS if tls else _PinnedHTTP
    error: OSError | None = None
    for address in addresses:
        connection = connection_type(parts.hostname or "", port, address, timeout)
        try:
            connection.request("POST", path, body=body, headers=dict(headers))
            response = connection.getresponse()
            text = response.read(RESPONSE_KEPT).decode("utf-8", "replace")
            return Answer(response.status, text)
        except (OSError, http.client.HTTPException) as failed:
            error = failed if isinstance(failed, OSError) else OSError(str(failed))
            if not isinstance(failed, ConnectionRefusedError | socket.gaierror):
                break  # it connected (or timed out): another address would post it twice
        finally:
            connection.close()
    raise error or OSError("no address answered")


@dataclass
class Delivery:
    """What one deliver_pending run did."""

    sent: int = 0
    retrying: int = 0
    given_up: int = 0


_COLUMNS = (
    WebhookDelivery.id,
    WebhookDelivery.uid,
    WebhookDelivery.event,
    WebhookDelivery.body,
    WebhookDelivery.attempts,
    Webhook.url,
    Webhook.secret,
    Webhook.removed_at,
)


def headers_for(secret: str, uid: str, event: str, body: bytes, timestamp: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "Weatherboard-Webhooks/1",
        rules.EVENT_HEADER: event,
        rules.DELIVERY_HEADER: uid,
        rules.TIMESTAMP_HEADER: str(timestamp),
        rules.SIGNATURE_HEADER: rules.signature(secret, timestamp, body),
    }


def _failed(
    row: Any, now: datetime, error: str, code: int | None, result: Delivery, *, final: bool
) -> None:
    again = None if final else queue.retry_at(row.attempts, now)
    if again is None:
        queue.settle(
            WebhookDelivery,
            row.id,
            status=MailStatus.FAILED,
            given_up_at=now,
            last_error=error[:1000],
            last_status_code=code,
        )
        result.given_up += 1
    else:
        queue.settle(
            WebhookDelivery,
            row.id,
            next_attempt_at=again,
            last_error=error[:1000],
            last_status_code=code,
        )
        result.retrying += 1
    log.warning(
        "webhook.failed",
        extra={
            "event": "webhook.failed",
            "ids": {"delivery_id": row.id, "attempts": row.attempts, "given_up": again is None},
        },
    )


def deliver_pending(limit: int = BATCH) -> Delivery:
    """Post the deliveries that are due, oldest first, at most `limit`; record each answer
    (a 2xx is delivered; anything else, a timeout or a refused connection is retried with
    the queue's pauses, then given up; a refused address is given up at once)."""
    result = Delivery()
    timeout = float(host.config().get("WEBHOOK_TIMEOUT") or 10)
    for delivery_id in queue.due_ids(WebhookDelivery, limit, clock.now()):
        row = _claim_joined(delivery_id)
        if row is None:
            continue  # another sender has it
        if row.removed_at is not None:
            _failed(row, clock.now(), "The webhook was removed.", None, result, final=True)
            continue
        body = row.body.encode("utf-8")
        timestamp = int(clock.now().timestamp())
        headers = headers_for(row.secret, row.uid, row.event, body, timestamp)
        try:
            answer = post(row.url, body, headers, timeout)
        except rules.RefusedAddress as refusal:
            _failed(row, clock.now(), refusal.message, None, result, final=True)
            continue
        except OSError as error:
            _failed(row, clock.now(), f"{type(error).__name__}: {error}", None, result, final=False)
            continue
        if rules.succeeded(answer.status):
            queue.settle(
                WebhookDelivery,
                row.id,
                status=MailStatus.SENT,
                sent_at=clock.now(),
                last_status_code=answer.status,
                last_error="",
            )
            result.sent += 1
        else:
            text = f"HTTP {answer.status}: {' '.join(answer.text.split())}"
            _failed(row, clock.now(), text, answer.status, result, final=False)
    return result


def _claim_joined(delivery_id: int) -> Any | None:
    """Claim a due delivery (services.queue) and read it with its hook's address and secret."""
    return queue.claim(
        WebhookDelivery,
        delivery_id,
        _COLUMNS,
        join=(Webhook, Webhook.id == WebhookDelivery.webhook_id),
    )


def board_deliveries(board_id: int) -> dict[int, list[WebhookDelivery]]:
    """Each live hook's delivery log, by hook id (the settings page)."""
    return {hook.id: deliveries(hook.id) for hook in hooks(board_id)}
