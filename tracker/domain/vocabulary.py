"""The words Weatherboard stores and compares: lane and column kinds, roles, severities,
card event kinds and statuses, as `StrEnum`s.

A member *is* its string (`Role.LEAD == "lead"`, and it is stored as "lead"), so the
database, the migrations and every form post keep the words they had; the enums only give
each word one place where it is spelled. Code outside this module names a member, never
the bare string: tests/test_vocabulary.py scans tracker/ and templates/ for the strings.
"""

from __future__ import annotations

from enum import StrEnum


class LaneKind(StrEnum):
    """A board's swimlanes (one of each): emergencies, support requests, planned work."""

    EXPEDITE = "expedite"
    SUPPORT = "support"
    FEATURE = "feature"


class ColumnKind(StrEnum):
    """A column waits (queue: Ready), is worked in (active: In progress, Review) or holds
    what was delivered (done)."""

    QUEUE = "queue"
    ACTIVE = "active"
    DONE = "done"


class LimitMode(StrEnum):
    """How a lane's WIP limit holds: only a lead may go over it (strict), or anyone who
    writes why (with reason)."""

    STRICT = "strict"
    WITH_REASON = "reason"

    @property
    def label(self) -> str:
        return "strict" if self is LimitMode.STRICT else "with reason"


class Role(StrEnum):
    """A person's role on one board (Membership.role). Site admins are a flag on the person
    (User.is_admin), not a board role: without a membership they read boards as a viewer."""

    LEAD = "lead"
    MEMBER = "member"
    SUPPORT = "support"
    VIEWER = "viewer"


class Severity(StrEnum):
    """How bad a support request is, most urgent first. S1 pre-empts everything."""

    S1 = "S1"
    S2 = "S2"
    S3 = "S3"
    S4 = "S4"

    @property
    def label(self) -> str:
        """The severity in words: "production down", "major", ..."""
        return _SEVERITY_LABELS[self]


_SEVERITY_LABELS = {
    Severity.S1: "production down",
    Severity.S2: "major",
    Severity.S3: "minor",
    Severity.S4: "question",
}


class CardStatus(StrEnum):
    """Open (on the board), done (delivered) or closed (won't do, duplicate: not delivered)."""

    OPEN = "open"
    DONE = "done"
    CLOSED = "closed"


class EventKind(StrEnum):
    """What one card event (CardEvent.kind) records."""

    CREATED = "created"
    MOVED = "moved"
    PULLED = "pulled"
    ASSIGNED = "assigned"
    EDITED = "edited"
    ESCALATED = "escalated"
    DEESCALATED = "deescalated"
    BLOCKED = "blocked"
    UNBLOCKED = "unblocked"
    CLOSED = "closed"
    REORDERED = "reordered"
    COMMENTED = "commented"
    # A comment's author changed or removed it (the history keeps that, never the text).
    COMMENT_EDITED = "comment_edited"
    COMMENT_DELETED = "comment_deleted"
    WIP_OVERRIDE = "wip_override"
    REOPENED = "reopened"
    # A support card taken into work by someone off support duty (services.rotation).
    INTERRUPTED = "interrupted"
    # Incidents (services.incidents): a responder recorded the emergency mitigated (with a
    # note), wrote a line of its log, marked it a drill (or not: changes {"drill": [old,
    # new]}), recorded break-glass access, confirmed it revoked, or left it open on resolving.
    MITIGATED = "mitigated"
    INCIDENT_LOG = "incident_log"
    DRILL = "drill_marked"
    GRANT_OPENED = "grant_opened"
    GRANT_ENDED = "grant_ended"
    GRANT_LEFT_OPEN = "grant_left_open"
    # The support desk (services.desk): the team asked the requester something and waits
    # for their answer; the waiting ended (the requester answered, or the team took it back).
    AWAITING = "awaiting"
    RESUMED = "resumed"


class Visibility(StrEnum):
    """Who sees a comment: the team only (internal) or the requester too (reply)."""

    INTERNAL = "internal"
    REPLY = "reply"


class RequestStatus(StrEnum):
    """A support request's status in a requester's words (tracker.domain.intake.plain_status)."""

    RECEIVED = "received"
    WORKING = "working"
    REVIEW = "review"
    DONE = "done"
    CLOSED = "closed"
    # Set by the team when they asked the requester something; the requester's reply ends
    # it (the status is then again where the card sits). Kept as RequestWait rows.
    WAITING = "waiting"

    @property
    def label(self) -> str:
        """The status as the requester reads it."""
        return _REQUEST_STATUS_LABELS[self]


_REQUEST_STATUS_LABELS = {
    RequestStatus.RECEIVED: "received",
    RequestStatus.WORKING: "being worked on",
    RequestStatus.REVIEW: "in review",
    RequestStatus.DONE: "done",
    RequestStatus.CLOSED: "closed",
    RequestStatus.WAITING: "waiting for the requester",
}


class TargetKind(StrEnum):
    """A support desk response target (tracker.domain.targets): the first reply to the
    requester, or the request's resolution (done or closed)."""

    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"

    @property
    def label(self) -> str:
        return "first response" if self is TargetKind.FIRST_RESPONSE else "resolution"


class MailStatus(StrEnum):
    """An outbound mail: pending (to send, or to retry), sent, failed (given up after the
    last attempt) or erased (cancelled by an erasure: never sent, never retried)."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    ERASED = "erased"


class MailKind(StrEnum):
    """Which change a mail to a requester tells of."""

    FILED = "filed"
    REPLY = "reply"
    DONE = "done"
    CLOSED = "closed"
    REOPENED = "reopened"
    # To a team member, not a requester (services.notifications): one notification, and
    # the day's digest of them.
    NOTICE = "notice"
    DIGEST = "digest"
    # To whoever emailed a reply with attachments (services.inbound): not filed, say so.
    BOUNCE = "bounce"

    @classmethod
    def label_of(cls, kind: str) -> str:
        """What the request page calls a mail of this kind (an unknown kind as it is)."""
        return _MAIL_KIND_LABELS.get(kind, kind)


_MAIL_KIND_LABELS = {
    MailKind.FILED: "Filed, with the status link",
    MailKind.REPLY: "Reply",
    MailKind.DONE: "Done",
    MailKind.CLOSED: "Closed",
    MailKind.REOPENED: "Reopened",
    MailKind.NOTICE: "Notification",
    MailKind.DIGEST: "Daily digest",
    MailKind.BOUNCE: "Reply by email refused (attachments)",
}


class InboundOutcome(StrEnum):
    """What `flask fetch-replies` did with one mail (InboundMail.outcome): filed it as the
    requester's reply, refused it with a polite answer (attachments), or left it (no valid
    reply address, nothing written in it)."""

    FILED = "filed"
    BOUNCED = "bounced"
    UNMATCHED = "unmatched"
    EMPTY = "empty"


class NoticeKind(StrEnum):
    """Why a person hears of a card event (tracker.domain.notifications): a notification's
    kind, and what a person sets their mail for."""

    ASSIGNED = "assigned"
    MENTIONED = "mentioned"
    WATCHING = "watching"
    S1_FILED = "s1_filed"
    BLOCKED = "blocked"
    WIP_OVERRIDE = "wip_override"
    # An S1 or S2 filed, or a card escalated to Expedite, while you are on support duty.
    ON_DUTY = "on_duty"

    @property
    def label(self) -> str:
        """What the account page calls notifications of this kind."""
        return _NOTICE_KIND_LABELS[self]


_NOTICE_KIND_LABELS = {
    NoticeKind.ASSIGNED: "A card is assigned to you",
    NoticeKind.MENTIONED: "Someone mentions you in a comment",
    NoticeKind.WATCHING: "A comment on or a move of a card you watch",
    NoticeKind.S1_FILED: "An S1 (production down) is filed on your board",
    NoticeKind.BLOCKED: "Your card is blocked or unblocked",
    NoticeKind.WIP_OVERRIDE: "Your card goes over a WIP limit",
    NoticeKind.ON_DUTY: "An S1 or S2 comes in while you are on support duty",
}


class MailMode(StrEnum):
    """When a person gets mail of a kind of notification: never, at once, or in the day's
    digest."""

    OFF = "never"
    NOW = "instant"
    DIGEST = "daily"

    @property
    def label(self) -> str:
        return _MAIL_MODE_LABELS[self]


_MAIL_MODE_LABELS = {
    MailMode.OFF: "No email",
    MailMode.NOW: "Email at once",
    MailMode.DIGEST: "In the daily digest",
}


class Measure(StrEnum):
    """What the capacity report counts work in."""

    PERSON_DAYS = "person_days"
    POINTS = "points"
    CARDS = "cards"

    @property
    def unit(self) -> str:
        """The measure's unit as a page writes it: person-days, points, cards."""
        return self.value.replace("_", "-")


class AlertStatus(StrEnum):
    """An Alertmanager alert's state in a webhook payload (tracker.domain.alerts). Not in
    ALL: no template needs it, and "resolved" is also an incident stage's word
    (tracker.domain.incidents), which the bare-word test would then refuse there."""

    FIRING = "firing"
    RESOLVED = "resolved"


class WebhookEvent(StrEnum):
    """What an outgoing webhook tells of (tracker.domain.webhooks): the `event` field of
    its JSON body, and what a lead subscribes a hook to. PING is the "send test event"
    button's, sent to one hook whatever it subscribes to."""

    CARD_CREATED = "card.created"
    CARD_MOVED = "card.moved"
    CARD_DONE = "card.done"
    EXPEDITE_OPENED = "expedite.opened"
    # Hook point for incident mitigation (services.webhooks.queue_event): nothing in this
    # module's callers sends it yet.
    EXPEDITE_MITIGATED = "expedite.mitigated"
    REQUEST_FILED = "request.filed"
    PING = "ping"

    @property
    def label(self) -> str:
        """What the settings page calls the event."""
        return _WEBHOOK_EVENT_LABELS[self]


_WEBHOOK_EVENT_LABELS = {
    WebhookEvent.CARD_CREATED: "A card is created",
    WebhookEvent.CARD_MOVED: "A card moves to another column or lane",
    WebhookEvent.CARD_DONE: "A card is done",
    WebhookEvent.EXPEDITE_OPENED: "An Expedite card is opened (filed, alerted or escalated)",
    WebhookEvent.EXPEDITE_MITIGATED: "An Expedite incident is mitigated",
    WebhookEvent.REQUEST_FILED: "A support request is filed",
    WebhookEvent.PING: "Test event",
}


class TokenScope(StrEnum):
    """What a personal access token may do (tracker.domain.tokens): read only, or read and
    write. Either way never more than its person's role on the board allows."""

    READ = "read"
    READ_WRITE = "read-write"


# Every vocabulary, by the name templates know it under (tracker.web.presenters).
ALL: dict[str, type[StrEnum]] = {
    "LaneKind": LaneKind,
    "ColumnKind": ColumnKind,
    "LimitMode": LimitMode,
    "Role": Role,
    "Severity": Severity,
    "CardStatus": CardStatus,
    "EventKind": EventKind,
    "Visibility": Visibility,
    "RequestStatus": RequestStatus,
    "MailStatus": MailStatus,
    "MailKind": MailKind,
    "NoticeKind": NoticeKind,
    "MailMode": MailMode,
    "Measure": Measure,
    "WebhookEvent": WebhookEvent,
    "TokenScope": TokenScope,
    "TargetKind": TargetKind,
    "InboundOutcome": InboundOutcome,
}
