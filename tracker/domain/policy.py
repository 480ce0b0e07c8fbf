"""Who may do what on a board: one table from each action to the board roles that may take
it. The route guard (tracker.web.access), the use cases (tracker.services) and the pages
(the `may` helper templates call) all ask here, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from tracker.domain.errors import NotAllowed
from tracker.domain.vocabulary import Role


class Action(StrEnum):
    """Something a person does on a board. The values are the names tracker.web.access.ROUTES
    gives a route's board permission."""

    VIEW_BOARD = "board.view"
    CHANGE_CARDS = "card.change"
    CHANGE_SETTINGS = "board.settings"
    # Support intake: file requests, comment on them, make and revoke status links.
    # COMMENT_ON_REQUEST is the comment on any card (services.conversation): members and
    # leads on every card, support staff on the requests they filed (may_act_on_request).
    FILE_REQUEST = "request.file"
    COMMENT_ON_REQUEST = "request.comment"
    SHARE_REQUEST = "request.link"
    VIEW_REPORT = "report.view"
    MANAGE_SPRINTS = "sprints.manage"
    # Set up the support rotation, edit its schedule, mark people away.
    MANAGE_ROTATION = "rotation.manage"
    # The board's audit log (site admins read every board's on /admin/audit).
    VIEW_AUDIT = "audit.view"
    # The board's integrations: alert tokens and their severities, outgoing webhooks.
    MANAGE_INTEGRATIONS = "integrations.manage"
    # The board's break-glass access grants, per period, with CSV (the auditors' list).
    VIEW_GRANTS = "grants.view"
    # The support desk: the Requests queue; setting "waiting for the requester" on a
    # request (support staff on the requests they filed); the board's response targets and
    # canned replies.
    VIEW_QUEUE = "desk.queue"
    WORK_REQUEST = "desk.work"
    MANAGE_DESK = "desk.settings"
    # Asked by the use cases only (no route is guarded by these):
    # be assigned cards, or pull one (services.common.assignable_ids),
    HOLD_CARDS = "card.hold"
    # go over any WIP limit with a written reason (domain.wip.authorise),
    OVERRIDE_LIMITS = "limit.override"
    # send the board's waiting and given-up mail again now (services.mail.retry_now),
    RETRY_MAIL = "mail.retry"
    # comment on and share requests someone else filed (support staff follow their own).
    ACT_ON_ANY_REQUEST = "request.any"


_GRANTS: dict[Action, frozenset[Role]] = {
    Action.VIEW_BOARD: frozenset({Role.LEAD, Role.MEMBER, Role.SUPPORT, Role.VIEWER}),
    Action.CHANGE_CARDS: frozenset({Role.LEAD, Role.MEMBER}),
    Action.CHANGE_SETTINGS: frozenset({Role.LEAD}),
    Action.FILE_REQUEST: frozenset({Role.LEAD, Role.MEMBER, Role.SUPPORT}),
    Action.COMMENT_ON_REQUEST: frozenset({Role.LEAD, Role.MEMBER, Role.SUPPORT}),
    Action.SHARE_REQUEST: frozenset({Role.LEAD, Role.MEMBER, Role.SUPPORT}),
    Action.VIEW_REPORT: frozenset({Role.LEAD, Role.MEMBER, Role.VIEWER}),
    Action.MANAGE_SPRINTS: frozenset({Role.LEAD}),
    Action.MANAGE_ROTATION: frozenset({Role.LEAD}),
    Action.VIEW_AUDIT: frozenset({Role.LEAD}),
    Action.MANAGE_INTEGRATIONS: frozenset({Role.LEAD}),
    Action.VIEW_GRANTS: frozenset({Role.LEAD}),
    Action.HOLD_CARDS: frozenset({Role.LEAD, Role.MEMBER}),
    Action.OVERRIDE_LIMITS: frozenset({Role.LEAD}),
    Action.RETRY_MAIL: frozenset({Role.LEAD}),
    Action.ACT_ON_ANY_REQUEST: frozenset({Role.LEAD, Role.MEMBER}),
    Action.VIEW_QUEUE: frozenset({Role.LEAD, Role.MEMBER, Role.SUPPORT}),
    Action.WORK_REQUEST: frozenset({Role.LEAD, Role.MEMBER, Role.SUPPORT}),
    Action.MANAGE_DESK: frozenset({Role.LEAD}),
}
# action -> the board roles that may take it (read-only).
GRANTS: Mapping[Action, frozenset[Role]] = MappingProxyType(_GRANTS)

# A site admin without a membership of the board reads it as a viewer.
ADMIN_ROLE = Role.VIEWER

READ_ONLY = "Your role on this board is read-only."
NOT_YOUR_ROLE = "Your role on this board does not allow this."
# What a person is told when the policy refuses them an action.
REFUSALS: Mapping[Action, str] = MappingProxyType(
    {
        Action.CHANGE_CARDS: READ_ONLY,
        Action.FILE_REQUEST: READ_ONLY,
        Action.COMMENT_ON_REQUEST: READ_ONLY,
        Action.SHARE_REQUEST: READ_ONLY,
        Action.WORK_REQUEST: READ_ONLY,
        Action.MANAGE_DESK: "Only a lead of this board can change its support desk settings.",
        Action.RETRY_MAIL: "Only a lead of this board can retry its mail.",
    }
)


def may(role: str | None, action: str) -> bool:
    """Whether a person with this role on the board (None: no role) may take the action."""
    return role is not None and role in GRANTS[action]


def require(role: str | None, action: str, refusal: str | None = None) -> None:
    """Refuse (NotAllowed) a person whose role does not allow the action, saying `refusal`
    or the action's own refusal."""
    if not may(role, action):
        raise NotAllowed(refusal or REFUSALS.get(action, NOT_YOUR_ROLE))


def board_role(membership_role: str | None, is_admin: bool) -> str | None:
    """The role a person acts in on a board: their membership's, else a viewer's for a site
    admin, else none (the board is not theirs to know of)."""
    if membership_role is None and is_admin:
        return ADMIN_ROLE
    return membership_role


def may_act_on_request(role: str | None, person_id: int, filed_by_id: int | None) -> bool:
    """Support staff comment on and share the requests they filed (DESIGN.md: they follow
    what they filed); members and leads act on every request of the board."""
    return may(role, Action.ACT_ON_ANY_REQUEST) or filed_by_id == person_id
