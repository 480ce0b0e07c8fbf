"""Alerts from monitoring: a board's alert tokens, its severity mapping, and Alertmanager's
alerts made into Expedite cards.

A firing alert opens one Expedite card through intake's path (services.intake.place_in_queue
under the board lock): the card is an S1 or S2 like one filed at the intake form, so the
emergency banner, the on-duty notification and the webhooks follow from its history event
as they do for a filed request. While that card is open, the alert's fingerprint adds to
it instead: nothing for a plain repeat, a one-line note when its labels changed, "alert
resolved at …" when it resolves (the card stays open: people close it). One transaction
per alert, each under the board lock, so two posts of the same alert at once open one card.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from tracker import clock
from tracker.domain import alerts as rules
from tracker.domain import policy
from tracker.domain.errors import InvalidRequest, NotFound
from tracker.domain.policy import Action
from tracker.domain.vocabulary import AlertStatus, CardStatus, LaneKind, Role, Severity
from tracker.extensions import db
from tracker.models import AlertCard, AlertSetting, AlertToken, Card
from tracker.services import audit, conversation, intake
from tracker.services.common import Actor
from tracker.store import bump_version, load_locked

TOKEN_PREFIX = "wba_"  # noqa: S105 - the public prefix of every alert token, no secret
TOKEN = re.compile(r"wba_[A-Za-z0-9_-]{40,60}")
NAME_LENGTH = 100
# Who the history names for what an alert does: no person (the events' actor is empty),
# acting with a member's rights on the board whose token was used.
ALERTMANAGER = "Alertmanager"


def alert_actor(address: str = "") -> Actor:
    """The acting party of an alert's changes: no person (id None: history shows no one,
    nobody is made a watcher), a member's rights on the token's board."""
    return Actor(None, ALERTMANAGER, Role.MEMBER, address)  # type: ignore[arg-type]


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _require(actor: Actor) -> None:
    policy.require(
        actor.role,
        Action.MANAGE_INTEGRATIONS,
        "Only a lead of this board can change its alerts and webhooks.",
    )


# Tokens ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewToken:
    """A token just made: shown this once; only its hash is kept."""

    row: AlertToken
    token: str


def create_token(board_id: int, actor: Actor, name: str) -> NewToken:
    """A lead makes an alert token for the board (named, e.g. after the Alertmanager)."""
    _require(actor)
    name = " ".join((name or "").split())
    if not name:
        raise InvalidRequest("Name the token, e.g. after the Alertmanager that uses it.")
    if len(name) > NAME_LENGTH:
        raise InvalidRequest(f"Keep the name to {NAME_LENGTH} characters or fewer.")
    token = TOKEN_PREFIX + secrets.token_urlsafe(36)
    row = AlertToken(
        board_id=board_id,
        name=name,
        token_hash=_hash(token),
        hint=token[:10],
        created_at=clock.now(),
        created_by_id=actor.id,
    )
    db.session.add(row)
    db.session.flush()
    audit.record(
        "alert_token.created",
        actor_id=actor.id,
        address=actor.address,
        board_id=board_id,
        target_type="alert_token",
        target_id=row.id,
        detail={"name": name},
    )
    db.session.commit()
    return NewToken(row, token)


def revoke_token(board_id: int, actor: Actor, token_id: int) -> AlertToken:
    """A lead revokes one of the board's alert tokens: it stops working at once."""
    _require(actor)
    row = db.session.get(AlertToken, token_id)
    if row is None or row.board_id != board_id:
        raise NotFound("That alert token is not on this board.")
    if row.revoked_at is None:
        row.revoked_at = clock.now()
        audit.record(
            "alert_token.revoked",
            actor_id=actor.id,
            address=actor.address,
            board_id=board_id,
            target_type="alert_token",
            target_id=row.id,
            detail={"name": row.name},
        )
    db.session.commit()
    return row


def tokens(board_id: int) -> list[AlertToken]:
    """The board's alert tokens, newest first, revoked ones included."""
    return list(
        db.session.execute(
            select(AlertToken).where(AlertToken.board_id == board_id).order_by(AlertToken.id.desc())
        ).scalars()
    )


def token_in_use(token: str) -> AlertToken | None:
    """The live alert token with this value (None: unknown, malformed or revoked). Looked up
    by the token's SHA-256, never the token itself."""
    if not TOKEN.fullmatch(token or ""):
        return None
    row = db.session.execute(
        select(AlertToken).where(AlertToken.token_hash == _hash(token))
    ).scalar_one_or_none()
    db.session.commit()  # end the read: each alert is a write transaction of its own
    return row if row is not None and row.revoked_at is None else None


# Severities -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SeverityMap:
    mapping: dict[str, str]
    default: str

    @property
    def text(self) -> str:
        return rules.format_severity_map(self.mapping)


def severity_map(board_id: int) -> SeverityMap:
    """The board's mapping from the `severity` label to a card severity."""
    row = db.session.get(AlertSetting, board_id)
    if row is None:
        return SeverityMap(dict(rules.DEFAULT_MAP), rules.DEFAULT_SEVERITY)
    return SeverityMap(dict(row.severity_map), row.default_severity)


def save_severity_map(board_id: int, actor: Actor, text: str, default: str) -> SeverityMap:
    """A lead sets which `severity` label values make which card severity, and the rest's."""
    _require(actor)
    mapping = rules.parse_severity_map(text)
    if default not in rules.ALERT_SEVERITIES:
        raise InvalidRequest("Choose S1 to S4 for the other alerts.")
    row = db.session.get(AlertSetting, board_id)
    if row is None:
        row = AlertSetting(board_id=board_id)
        db.session.add(row)
    row.severity_map = {k: str(v) for k, v in mapping.items()}
    row.default_severity = str(Severity(default))
    audit.record(
        "alert_settings.changed",
        actor_id=actor.id,
        address=actor.address,
        board_id=board_id,
        target_type="board",
        target_id=board_id,
        detail={"severities": row.severity_map, "otherwise": row.default_severity},
    )
    db.session.commit()
    return SeverityMap(row.severity_map, row.default_severity)


# Receiving ------------------------------------------------------------------------------


@dataclass
class Received:
    """What one payload did: the cards it opened and noted (references), and how many alerts
    changed nothing (a repeat, a resolution of an alert with no open card)."""

    opened: list[str] = field(default_factory=list)
    noted: list[str] = field(default_factory=list)
    unchanged: int = 0

    def as_json(self, truncated: int) -> dict[str, Any]:
        return {
            "opened": self.opened,
            "noted": self.noted,
            "unchanged": self.unchanged,
            "truncated": truncated,
        }


def _open_link(board_id: int, fingerprint: str) -> AlertCard | None:
    """The alert's card while it is open (done or closed: a new firing opens a new one)."""
    return db.session.execute(
        select(AlertCard)
        .join(Card, Card.id == AlertCard.card_id)
        .where(
            AlertCard.board_id == board_id,
            AlertCard.fingerprint == fingerprint,
            Card.status == CardStatus.OPEN,
        )
        .order_by(AlertCard.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def receive(board_id: int, token_id: int, payload: rules.Payload, address: str = "") -> Received:
    """Make each alert of a checked payload into its card's change, one transaction each."""
    actor = alert_actor(address)
    severities = severity_map(board_id)
    db.session.commit()
    result = Received()
    for alert in payload.alerts:
        now = clock.now()
        if alert.status == AlertStatus.FIRING:
            _fire(board_id, actor, alert, severities, now, result)
        else:
            _resolve(board_id, actor, alert, now, result)
    db.session.execute(
        update(AlertToken).where(AlertToken.id == token_id).values(last_used_at=clock.now())
    )
    db.session.commit()
    return result


def _note(board_id: int, actor: Actor, link: AlertCard, text: str, result: Received) -> None:
    """Add the note (an internal comment: services.conversation) and commit with the link's
    change, still under the board lock taken by load_locked."""
    comment = conversation.add_comment(board_id, actor, link.card_id, text)
    result.noted.append(db.session.get(Card, comment.card_id).ref)


def _fire(
    board_id: int,
    actor: Actor,
    alert: rules.Alert,
    severities: SeverityMap,
    now: datetime,
    result: Received,
) -> None:
    state = load_locked(board_id)
    link = _open_link(board_id, alert.fingerprint)
    if link is None:
        lane = state.lane_of_kind(LaneKind.EXPEDITE)
        if lane is None:
            db.session.rollback()
            raise InvalidRequest("This board has no Expedite lane for alerts.")
        fields = {
            "title": rules.title(alert),
            "description": rules.description(alert),
            "severity": rules.severity(alert.labels, severities.mapping, severities.default),
            "requester": ALERTMANAGER,
        }
        card = intake.place_in_queue(state, actor, lane, fields)
        db.session.add(
            AlertCard(
                board_id=board_id,
                card_id=card.id,
                fingerprint=alert.fingerprint,
                labels=alert.labels,
                opened_at=now,
            )
        )
        bump_version(state.board)  # as every card change does: open boards see it at once
        db.session.commit()
        result.opened.append(card.ref)
        return
    notes = []
    if link.resolved_at is not None:
        notes.append(rules.refired_note(alert))
        link.resolved_at = None
    changed = rules.labels_changed_note(link.labels, alert.labels)
    if changed:
        notes.append(changed)
        link.labels = dict(alert.labels)
    if not notes:
        db.session.rollback()
        result.unchanged += 1
        return
    _note(board_id, actor, link, " ".join(notes), result)


def _resolve(
    board_id: int, actor: Actor, alert: rules.Alert, now: datetime, result: Received
) -> None:
    load_locked(board_id)
    link = _open_link(board_id, alert.fingerprint)
    if link is None or link.resolved_at is not None:
        db.session.rollback()  # no open card, or its resolution is noted already
        result.unchanged += 1
        return
    link.resolved_at = alert.ends_at or now
    _note(board_id, actor, link, rules.resolved_note(alert, now), result)


def card_alert(card_id: int) -> AlertCard | None:
    """The alert that opened a card, if one did."""
    return db.session.execute(
        select(AlertCard).where(AlertCard.card_id == card_id)
    ).scalar_one_or_none()


def require_token(token: str) -> AlertToken:
    """The live token, or NotFound (the web layer answers 401)."""
    row = token_in_use(token)
    if row is None:
        raise NotFound("Unknown or revoked alert token.")
    return row
