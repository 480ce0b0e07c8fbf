"""The API's bodies as pydantic models: what it takes (Create..., Move..., ...) and what it
answers (Board, Card, ...). Times are ISO 8601 in UTC. Field limits are the domain's."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    StringConstraints,
    field_validator,
)

from tracker.domain.conversation import COMMENT_LENGTH
from tracker.domain.vocabulary import (
    CardStatus,
    ColumnKind,
    LaneKind,
    LimitMode,
    Role,
    Severity,
    Visibility,
)
from tracker.web.params import ID_MAX, clean_text

Id = Annotated[int, Field(ge=1, le=ID_MAX)]
Text = Annotated[str, StringConstraints(max_length=10_000)]
Title = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"\S")]
Reason = Annotated[str, StringConstraints(max_length=500)]
Estimate = Annotated[int, Field(ge=0, le=1000)]


class Strict(BaseModel):
    """A request body: unknown fields are refused, so a typo is not silently ignored; text
    loses NUL and other control characters (tab and newlines stay), as every form's does."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _clean(cls, value: Any) -> Any:
        return clean_text(value)


class Answer(BaseModel):
    """An answer body."""

    model_config = ConfigDict(from_attributes=True)


# Errors ----------------------------------------------------------------------------------


class Limit(Answer):
    """One WIP limit a change would break."""

    scope: str = Field(description="lane, column or person")
    name: str
    count: int
    limit: int
    mode: LimitMode


class Error(Answer):
    """Every refusal: a code a program can test, and a message a person can act on."""

    error: str = Field(
        description="unauthorized, forbidden, not_found, invalid, wip_limit, stale_version, "
        "bad_request, method_not_allowed, rate_limited, refused"
    )
    message: str
    fields: dict[str, list[str]] | None = Field(
        None, description="invalid: the messages by field (a dotted path; '' the whole body)"
    )
    limits: list[Limit] | None = Field(None, description="wip_limit: the limits in the way")
    overridable: bool | None = Field(
        None, description="wip_limit: whether sending a reason would go over them"
    )
    card: Card | None = Field(None, description="stale_version: the card as it is now")


# Boards ----------------------------------------------------------------------------------


class LaneOut(Answer):
    id: int
    kind: LaneKind
    name: str
    prefix: str
    position: int
    wip_limit: int | None
    limit_mode: LimitMode


class ColumnOut(Answer):
    id: int
    kind: ColumnKind
    name: str
    position: int
    wip_limit: int | None


class BoardOut(Answer):
    id: int
    name: str
    timezone: str
    version: int = Field(description="Goes up with every change to the board's cards.")
    role: Role = Field(description="Your role on the board.")


class BoardDetail(BoardOut):
    lanes: list[LaneOut]
    columns: list[ColumnOut]


class BoardList(Answer):
    items: list[BoardOut]


class LaneList(Answer):
    items: list[LaneOut]


class ColumnList(Answer):
    items: list[ColumnOut]


# Cards -----------------------------------------------------------------------------------


class LabelOut(Answer):
    id: int
    name: str
    colour: str


class Person(Answer):
    id: int
    name: str
    username: str


class CardSummary(Answer):
    """A card as the board lists it."""

    id: int
    ref: str
    title: str
    lane_id: int
    column_id: int
    assignee: Person | None
    severity: Severity | None
    blocked: bool
    blocked_reason: str
    column_entered_at: datetime
    labels: list[LabelOut]


class CardPage(Answer):
    items: list[CardSummary]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null: last.")


class Card(Answer):
    """A card's fields. `version` goes with an edit (If the card changed since: 409)."""

    id: int
    board_id: int
    ref: str
    title: str
    description: str
    lane_id: int
    column_id: int
    assignee: Person | None
    estimate: int | None
    severity: Severity | None
    component: str
    requester: str
    blocked: bool
    blocked_reason: str
    status: CardStatus
    close_reason: str
    created_at: datetime
    started_at: datetime | None
    done_at: datetime | None
    closed_at: datetime | None
    column_entered_at: datetime
    version: int


class EventOut(Answer):
    id: int
    kind: str
    at: datetime
    actor: Person | None
    from_column_id: int | None
    to_column_id: int | None
    reason: str
    changes: dict[str, Any]


class CommentOut(Answer):
    id: int
    author: Person | None
    at: datetime
    edited_at: datetime | None
    body: str
    visibility: Visibility


class CardDetail(Card):
    history: list[EventOut]
    comments: list[CommentOut]


class CreateCard(Strict):
    lane_id: Id
    title: Title
    description: Text = ""
    estimate: Estimate | None = None
    severity: Severity | None = None


class EditCard(Strict):
    """The fields to change (those left out keep their value), and the version you read."""

    version: int = Field(ge=0, le=ID_MAX)
    title: Title | None = None
    description: Text | None = None
    estimate: Estimate | None = None
    severity: Severity | None = None
    component: Annotated[str, StringConstraints(max_length=80)] | None = None
    requester: Annotated[str, StringConstraints(max_length=200)] | None = None
    labels: list[Id] | None = Field(None, max_length=50)


class MoveCard(Strict):
    lane_id: Id
    column_id: Id
    after: int | None = Field(
        None, ge=0, le=ID_MAX, description="Place after this card's id; 0 the top; none: bottom."
    )
    reason: Reason | None = Field(None, description="Why go over a WIP limit (when allowed).")


class AssignCard(Strict):
    assignee_id: Id | None = Field(description="A member or lead of the board; null: nobody.")
    reason: Reason | None = None


class BlockCard(Strict):
    blocked: bool
    reason: Reason = Field("", description="What it waits for (needed to block).")


class CloseCard(Strict):
    why: str = Field(description="wont_do or duplicate")
    note: Reason


class ReopenCard(Strict):
    why: Reason


class NewComment(Strict):
    body: Annotated[str, StringConstraints(min_length=1, max_length=COMMENT_LENGTH)]
    visibility: Visibility = Visibility.INTERNAL


class Pulled(Answer):
    card: Card | None = Field(description="The card pulled; null when nothing could be.")
    reasons: list[str] = Field(description="Why each lane gave nothing (when it did not).")


class CardQuery(Strict):
    """The board's filter (as its address carries it) and a page."""

    q: Annotated[str, StringConstraints(max_length=100)] | None = Field(
        None, description="Search text (the board's search language)."
    )
    lane: list[LaneKind] = Field(default_factory=list)
    who: list[Annotated[str, StringConstraints(pattern=r"^(me|nobody|[1-9][0-9]{0,9})$")]] = Field(
        default_factory=list, description="me, nobody or a person's id"
    )
    sev: list[Severity] = Field(default_factory=list)
    blocked: bool | None = None
    age: int | None = Field(None, ge=0, le=3650, description="More than this many days in column")
    label: list[Id] = Field(default_factory=list)
    limit: int = Field(50, ge=1, le=200)
    cursor: Annotated[str, StringConstraints(max_length=64)] | None = None


# Requests and rotation --------------------------------------------------------------------


class FileRequest(Strict):
    title: Annotated[str, StringConstraints(max_length=200)]
    description: Text
    requester: Annotated[str, StringConstraints(max_length=200)]
    requester_email: Annotated[str, StringConstraints(max_length=254)] = ""
    severity: Severity
    component: Annotated[str, StringConstraints(max_length=80)] = ""
    environment: Annotated[str, StringConstraints(max_length=200)] = ""
    key: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{32,64}$")] | None = Field(
        None, description="A one-time key of yours: the same key again files nothing new."
    )


class RequestOut(Answer):
    card: CardDetail
    status: str = Field(description="received, working, review, done or closed")
    status_label: str


class Filed(Answer):
    card: Card
    created: bool = Field(description="False: this key filed it before.")


class Reply(Strict):
    body: Annotated[str, StringConstraints(min_length=1, max_length=COMMENT_LENGTH)]


class Term(Answer):
    """A term of support duty: its seat, first and last day, who holds it ("" nobody)."""

    id: int
    seat: int
    start: date
    end: date
    person_id: int | None
    name: str
    state: str = Field(description="past, running or coming")


class RotationOut(Answer):
    enabled: bool
    on_duty: list[Term]
    next: list[Term]
    terms: list[Term]


# Incidents ---------------------------------------------------------------------------------


class StageOut(Answer):
    """A stage of an incident reached: opened, acknowledged, mitigated or resolved."""

    stage: str = Field(description="opened, acknowledged, mitigated or resolved")
    at: datetime
    by_id: int | None = Field(description="Who reached it (null: nobody recorded).")
    by: str = Field(description='Their name ("" when nobody was recorded).')
    note: str = Field(description='The mitigation\'s note; "" for the other stages.')


class GrantOut(Answer):
    """A break-glass access grant: who held what, why, with whom, from when until when."""

    id: int
    holder_id: int
    holder: str
    target: str
    why: str
    buddy: str
    granted_at: datetime
    expected_end: datetime
    ended_at: datetime | None
    confirmed_revoked_by: str = Field(description='Who confirmed it was revoked ("": open).')
    left_open_reason: str
    open: bool
    overdue: bool = Field(description="Still open past its expected end or 24 hours.")


class ReviewOut(Answer):
    """The incident's post-incident review: its card in the Support lane, written or not."""

    card_id: int
    written: bool
    written_at: datetime | None


class FollowUpOut(Answer):
    id: int
    ref: str
    title: str
    status: CardStatus
    lane_id: int
    column_id: int


class IncidentOut(Answer):
    """An Expedite card's incident: its stages from its history, its grants, its review
    and follow-ups."""

    card: Card
    drill: bool
    stage: str = Field(description="The last stage reached.")
    stages: list[StageOut]
    grants: list[GrantOut]
    review: ReviewOut | None
    follow_ups: list[FollowUpOut]


class IncidentSummary(Answer):
    card_id: int
    ref: str
    title: str
    drill: bool
    stage: str
    opened_at: datetime
    acknowledged_at: datetime | None
    mitigated_at: datetime | None
    resolved_at: datetime | None
    open_grants: int


class IncidentPage(Answer):
    items: list[IncidentSummary]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null: last.")


class IncidentQuery(Strict):
    """The days (the board's own, both included) the incidents were opened in, and a page."""

    since: date | None = Field(None, description="First day; default: 90 days before until.")
    until: date | None = Field(None, description="Last day; default: today on the board.")
    limit: int = Field(50, ge=1, le=200)
    cursor: Annotated[str, StringConstraints(max_length=64)] | None = None


class Document(RootModel[dict[str, Any]]):
    """An OpenAPI 3.1 document."""


Error.model_rebuild()


# Alerts from monitoring (tracker.web.alerts) ----------------------------------------------
# What the document says of Alertmanager's webhook payload (version 4); the receiver reads
# and checks the payload itself (tracker.domain.alerts.parse_payload), more strictly.


class AlertmanagerAlert(BaseModel):
    """One alert of the payload: firing or resolved, with its labels and annotations."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    status: str = Field(description="firing or resolved")
    labels: dict[str, str] = Field(description="alertname, severity (critical: S1), ...")
    annotations: dict[str, str] = Field(
        default_factory=dict, description="summary (the card's title), description, ..."
    )
    starts_at: datetime | None = Field(None, alias="startsAt")
    ends_at: datetime | None = Field(None, alias="endsAt")
    generator_url: str = Field("", alias="generatorURL")
    fingerprint: str = Field(description="Alertmanager's id of the alert (hexadecimal)")


class AlertmanagerPayload(BaseModel):
    """Alertmanager's webhook payload, version 4 (its receiver's `webhook_configs`)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    version: str = Field(description='"4"')
    status: str = Field("firing", description="firing or resolved (the group's)")
    receiver: str = ""
    alerts: list[AlertmanagerAlert] = Field(description="at least one, at most 200")
    truncated_alerts: int = Field(0, alias="truncatedAlerts", ge=0)


class AlertsReceived(Answer):
    """What one payload did: the references of the cards it opened and of those it added a
    note to, and how many alerts changed nothing (a repeat, or a resolution with no card)."""

    opened: list[str]
    noted: list[str]
    unchanged: int
    truncated: int = Field(description="alerts Alertmanager left out of the payload")
