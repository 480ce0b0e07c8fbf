"""Every route's access rule (ROUTES), the guard that applies it, and the loader every board
view uses. Who may do what on a board is the domain's policy (tracker.domain.policy)."""

from __future__ import annotations

import functools

from flask import abort, g, request
from flask_login import current_user
from sqlalchemy import Select, and_, bindparam, select

from tracker.domain import policy, tokens
from tracker.domain.policy import Action
from tracker.extensions import db, login_manager
from tracker.models import Board, Membership, User
from tracker.services import tokens as token_service
from tracker.services import users
from tracker.services.common import Actor

# permission (a policy action) -> the board roles that have it: the domain's policy table.
# Admins without a membership read boards only (policy.board_role).
PERMISSIONS = policy.GRANTS
ADMIN_ROLE = policy.ADMIN_ROLE

# Every route's access rule, by endpoint name. A NEW ROUTE NEEDS A ROW HERE: the guard in
# `guard_request` refuses (403) any endpoint missing from this table, and
# tests/test_permissions.py walks the whole URL map and fails on a missing row.
#   "public"  anyone, signed in or not
#   "login"   any signed-in person
#   "admin"   site admins only
#   "bearer"  no session: the view checks a bearer token of its own (Alertmanager's board
#             alert token); without a valid one it answers 401
#   an Action: a signed-in person whose role on the board may take it (tracker.domain.policy)
#             (checked by load_board once the board is known; no membership -> 404)
PUBLIC, LOGIN, ADMIN, BEARER = "public", "login", "admin", "bearer"
ROUTES: dict[str, str] = {  # endpoint -> PUBLIC, LOGIN, ADMIN or a policy Action
    "static": PUBLIC,
    "ops.healthz": PUBLIC,
    "ops.readyz": PUBLIC,
    "ops.favicon": PUBLIC,
    # /metrics has its own access rules (token or address) in tracker/observability.py.
    "observability.show_metrics": PUBLIC,
    "auth.login": PUBLIC,
    "auth.logout": LOGIN,
    "intake.status": PUBLIC,
    # The requester's reply through a status link (the link is the credential).
    "desk.requester_reply": PUBLIC,
    "boards.index": LOGIN,
    "boards.create": ADMIN,
    "board.show": Action.VIEW_BOARD,
    "board.live": Action.VIEW_BOARD,
    "board.show_card": Action.VIEW_BOARD,
    "board.archive": Action.VIEW_BOARD,
    "board.pull": Action.CHANGE_CARDS,
    "board.new_card": Action.CHANGE_CARDS,
    "board.edit_card": Action.CHANGE_CARDS,
    "board.move_card": Action.CHANGE_CARDS,
    "board.reorder_card": Action.CHANGE_CARDS,
    "board.assign_card": Action.CHANGE_CARDS,
    "board.block_card": Action.CHANGE_CARDS,
    "board.unblock_card": Action.CHANGE_CARDS,
    "board.close_card": Action.CHANGE_CARDS,
    "board.reopen_card": Action.CHANGE_CARDS,
    "board.undo_card": Action.CHANGE_CARDS,
    "emergency.check": Action.VIEW_BOARD,
    # Conversation on every card (tracker.web.conversation): who comments on which card
    # (support staff: the requests they filed) and whose comment may change, the service.
    "conversation.add_comment": Action.COMMENT_ON_REQUEST,
    "conversation.edit_comment": Action.COMMENT_ON_REQUEST,
    "conversation.delete_comment": Action.COMMENT_ON_REQUEST,
    "conversation.mentions": Action.COMMENT_ON_REQUEST,
    "conversation.watch": Action.VIEW_BOARD,
    # Incidents on Expedite cards (tracker.web.incidents): responders are those who change cards.
    "incidents.mitigate": Action.CHANGE_CARDS,
    "incidents.add_log_entry": Action.CHANGE_CARDS,
    "incidents.set_drill": Action.CHANGE_CARDS,
    "incidents.record_grant": Action.CHANGE_CARDS,
    "incidents.end_grant": Action.CHANGE_CARDS,
    "incidents.leave_open": Action.CHANGE_CARDS,
    "incidents.start_review": Action.CHANGE_CARDS,
    "incidents.show_review": Action.VIEW_BOARD,
    "incidents.save_review": Action.CHANGE_CARDS,
    "incidents.export_review": Action.VIEW_BOARD,
    "incidents.add_follow_up": Action.CHANGE_CARDS,
    "incidents.grants": Action.VIEW_GRANTS,
    "incidents.export_grants": Action.VIEW_GRANTS,
    "settings.show": Action.CHANGE_SETTINGS,
    "settings.save": Action.CHANGE_SETTINGS,
    "settings.save_columns": Action.CHANGE_SETTINGS,
    "settings.add_component": Action.CHANGE_SETTINGS,
    "settings.remove_component": Action.CHANGE_SETTINGS,
    "settings.retry_mail": Action.CHANGE_SETTINGS,
    "settings.add_label": Action.CHANGE_SETTINGS,
    "settings.edit_label": Action.CHANGE_SETTINGS,
    "settings.remove_label": Action.CHANGE_SETTINGS,
    "intake.file": Action.FILE_REQUEST,
    "intake.my_requests": Action.VIEW_BOARD,
    "intake.show": Action.VIEW_BOARD,
    "intake.comment": Action.COMMENT_ON_REQUEST,
    "intake.status_link": Action.SHARE_REQUEST,
    # The support desk (tracker.web.desk): support staff set waiting on the requests they
    # filed (the service checks which).
    "desk.queue": Action.VIEW_QUEUE,
    "desk.set_waiting": Action.WORK_REQUEST,
    "desk.settings": Action.MANAGE_DESK,
    "desk.save_target": Action.MANAGE_DESK,
    "desk.add_canned": Action.MANAGE_DESK,
    "desk.remove_canned": Action.MANAGE_DESK,
    "reports.show": Action.VIEW_REPORT,
    "reports.export": Action.VIEW_REPORT,
    "flow.show": Action.VIEW_REPORT,
    "flow.export": Action.VIEW_REPORT,
    "reports.save_settings": Action.MANAGE_SPRINTS,
    "reports.sprints": Action.MANAGE_SPRINTS,
    "reports.add_sprint": Action.MANAGE_SPRINTS,
    "reports.edit_sprint": Action.MANAGE_SPRINTS,
    "reports.delete_sprint": Action.MANAGE_SPRINTS,
    "rotation.show": Action.VIEW_BOARD,
    "rotation.save": Action.MANAGE_ROTATION,
    "rotation.regenerate": Action.MANAGE_ROTATION,
    "rotation.swap": Action.MANAGE_ROTATION,
    "rotation.replace": Action.MANAGE_ROTATION,
    "rotation.add_away": Action.MANAGE_ROTATION,
    "rotation.remove_away": Action.MANAGE_ROTATION,
    # People, erasure and the audit log (tracker.web.admin, tracker.web.account, tracker.web.audit)
    "account.edit_password": LOGIN,
    "account.change_password": LOGIN,
    "account.save_notice_mail": LOGIN,
    # A person's notifications (tracker.web.notifications); the unsubscribe link in their
    # mail works without a login (its signed token is the proof).
    "notifications.show": LOGIN,
    "notifications.mark_read": LOGIN,
    "notifications.mark_all_read": LOGIN,
    "notifications.unsubscribe": PUBLIC,
    "notifications.confirm_unsubscribe": PUBLIC,
    "admin.list_people": ADMIN,
    "admin.new_person": ADMIN,
    "admin.create_person": ADMIN,
    "admin.show_person": ADMIN,
    "admin.set_admin": ADMIN,
    "admin.deactivate": ADMIN,
    "admin.reactivate": ADMIN,
    "admin.reset_password": ADMIN,
    "admin.set_membership": ADMIN,
    "admin.show_board_people": ADMIN,
    "admin.find_requester": ADMIN,
    "admin.erase_requester": ADMIN,
    "audit.show_all": ADMIN,
    "audit.export_all": ADMIN,
    "audit.show_board": Action.VIEW_AUDIT,
    "audit.export_board": Action.VIEW_AUDIT,
    # Alerts and webhooks (tracker.web.webhooks): a lead's integrations page.
    "webhooks.show": Action.MANAGE_INTEGRATIONS,
    "webhooks.create_token": Action.MANAGE_INTEGRATIONS,
    "webhooks.revoke_token": Action.MANAGE_INTEGRATIONS,
    "webhooks.save_severities": Action.MANAGE_INTEGRATIONS,
    "webhooks.add_hook": Action.MANAGE_INTEGRATIONS,
    "webhooks.remove_hook": Action.MANAGE_INTEGRATIONS,
    "webhooks.test_hook": Action.MANAGE_INTEGRATIONS,
    # Alertmanager's receiver (tracker.web.alerts) checks its own bearer token (a board's
    # alert token); no session is read or needed.
    "alerts.alertmanager": BEARER,
    # A person's API tokens (tracker.web.account).
    "account.create_token": LOGIN,
    "account.revoke_token": LOGIN,
    # The JSON API (tracker.web.api): bearer tokens only, never the session cookie (see
    # guard_token); a token's scope narrows its person's role (tracker.domain.tokens).
    "api.openapi": PUBLIC,
    "api.list_boards": LOGIN,
    "api.show_board": Action.VIEW_BOARD,
    "api.list_lanes": Action.VIEW_BOARD,
    "api.list_columns": Action.VIEW_BOARD,
    "api.list_cards": Action.VIEW_BOARD,
    "api.show_card": Action.VIEW_BOARD,
    "api.create_card": Action.CHANGE_CARDS,
    "api.edit_card": Action.CHANGE_CARDS,
    "api.move_card": Action.CHANGE_CARDS,
    "api.assign_card": Action.CHANGE_CARDS,
    "api.block_card": Action.CHANGE_CARDS,
    "api.close_card": Action.CHANGE_CARDS,
    "api.reopen_card": Action.CHANGE_CARDS,
    "api.comment_card": Action.COMMENT_ON_REQUEST,
    "api.pull": Action.CHANGE_CARDS,
    "api.file_request": Action.FILE_REQUEST,
    "api.show_request": Action.VIEW_BOARD,
    "api.reply_request": Action.COMMENT_ON_REQUEST,
    "api.show_rotation": Action.VIEW_BOARD,
    "api.list_incidents": Action.VIEW_BOARD,
    "api.show_incident": Action.VIEW_BOARD,
}

# Endpoints whose callers prove who they are with a bearer token (tracker.web.api), not a
# session: their blueprints are exempt from CSRF, which a cookie would need.
BEARER_BLUEPRINTS = ("api",)

# GET endpoints that answer no page a person could land on after logging in. FRAGMENT_ONLY:
# the board page's polls, which answer a fragment or 204 (a person asking one while logged
# out is sent back to the board page instead). The rest answer machines, files or the login
# itself. tests/test_login_redirects.py walks the URL map: every other GET endpoint answers
# a whole page (or a download) and every one listed here does not.
FRAGMENT_ONLY = frozenset({"board.live", "emergency.check", "conversation.mentions"})
NOT_PAGES = (
    FRAGMENT_ONLY
    | frozenset(
        {
            "static",
            "ops.healthz",
            "ops.readyz",
            "ops.favicon",
            "observability.show_metrics",
            "auth.login",
        }
    )
    | frozenset(
        {  # the API's reads answer JSON to programs, never a page to land on
            "api.openapi",
            "api.list_boards",
            "api.show_board",
            "api.list_lanes",
            "api.list_columns",
            "api.list_cards",
            "api.show_card",
            "api.show_request",
            "api.show_rotation",
            "api.list_incidents",
            "api.show_incident",
        }
    )
)


@functools.cache
def _board_and_role() -> Select:
    """The board and the person's membership role (NULL without one), in one statement."""
    membership = and_(Membership.board_id == Board.id, Membership.user_id == bindparam("user_id"))
    return (
        select(Board, Membership.role)
        .outerjoin(Membership, membership)
        .where(Board.id == bindparam("board_id"))
    )


def guard_request():
    """Apply the ROUTES row of the endpoint about to run: the one access check every request
    passes (registered as a before_request hook by the app factory).

    No endpoint means no URL rule matched: routing answers 404/405 itself. An endpoint without
    a row is refused (fail closed). Anonymous people get the login manager's answer (a redirect
    to the login page; 401 with HX-Redirect for htmx). A board permission is checked here
    too, so a view cannot forget it: the board and actor wait in `g` for the view's own
    load_board call, which costs no second query.
    """
    endpoint = request.endpoint
    if endpoint is None:
        return None
    rule = ROUTES.get(endpoint)
    if rule is None:
        abort(403)
    if request.blueprint in BEARER_BLUEPRINTS:
        return guard_token(rule)
    if rule in (PUBLIC, BEARER):
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if rule == LOGIN:
        return None
    if rule == ADMIN:
        if not current_user.is_admin:
            abort(403)
        return None
    board_id = _board_of_request()
    if board_id is None:
        abort(403)
    load_board(board_id)
    return None


def bearer_secret() -> str | None:
    """The token of an `Authorization: Bearer <token>` header, else None."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    return secret.strip() if scheme.lower() == "bearer" and secret.strip() else None


def guard_token(rule: str):
    """The ROUTES row of an API endpoint, for the person whose token the request bears: the
    session cookie is never read (so no cross-site form can act through it), and the
    token's scope narrows the person's role (load_board asks tracker.domain.tokens)."""
    if rule == PUBLIC:
        return None
    secret = bearer_secret()
    board_id = _board_of_request()
    found = token_service.authenticate(secret, board_id) if secret else None
    if found is None:
        abort(401)
    person = found.person
    g._login_user = person  # Flask-Login's current_user for this request; no session
    g.token_scope = found.token.scope
    g.token_id = found.token.id
    if rule == ADMIN and not person.is_admin:
        abort(403)
    if rule in (LOGIN, ADMIN):
        return None
    if board_id is None:
        abort(403)
    g.person_board = (person.id, board_id, found.board, found.role)  # for load_board
    load_board(board_id)
    return None


def _board_of_request() -> int | None:
    """The board the request acts on: its URL's board id when the endpoint's ROUTES row is
    a board permission, else None."""
    board_id = (request.view_args or {}).get("board_id")
    if ROUTES.get(request.endpoint or "") not in PERMISSIONS or not isinstance(board_id, int):
        return None
    return board_id


def load_person(token: str) -> User | None:
    """The person a session token belongs to (the login manager's user loader). On a board
    route the board and the person's role on it come in the same statement, kept in `g`
    for load_board: one statement instead of two on every board request."""
    board_id = _board_of_request()
    if board_id is None:
        return users.person_by_session_token(token)
    person, board, role = users.person_and_board(token, board_id)
    if person is not None:
        g.person_board = (person.id, board_id, board, role)
    return person


def route_permission(endpoint: str | None) -> str:
    """The board permission ROUTES names for an endpoint (a view of another kind has none)."""
    rule = ROUTES.get(endpoint or "")
    if rule not in PERMISSIONS:
        raise LookupError(f"ROUTES gives {endpoint!r} no board permission (it says {rule!r})")
    return rule


def load_board(board_id: int, permission: str | None = None) -> tuple[Board, Actor]:
    """The board and the acting person, or 404 (no access at all) / 403 (role too low).

    The permission is the current endpoint's row in ROUTES; pass one only for a second,
    stricter check. The board and actor are kept in `g` so the error handler can re-render
    the board, and so the view's call after guard_request reads nothing again. The board and
    the role are read in one statement: every board request, the emergency poll included,
    starts here.
    """
    permission = permission or route_permission(request.endpoint)
    board, actor = g.get("board"), g.get("actor")
    if board is None or board.id != board_id or actor is None or actor.id != current_user.id:
        board, actor = _load(board_id)
    if not may_here(actor.role, permission):
        abort(403)
    return board, actor


def may_here(role: str | None, permission: str) -> bool:
    """Whether this request may take the action: the person's role, narrowed by the scope of
    the token it bears (an API request)."""
    scope = g.get("token_scope")
    if scope is not None:
        return tokens.may(scope, role, permission)
    return policy.may(role, permission)


def _load(board_id: int) -> tuple[Board, Actor]:
    read = g.pop("person_board", None)  # read with the person (load_person)
    if read is not None and read[:2] == (current_user.id, board_id):
        board, role = read[2:]
    else:
        params = {"board_id": board_id, "user_id": current_user.id}
        board, role = db.session.execute(_board_and_role(), params).one_or_none() or (None, None)
    if board is not None:
        role = policy.board_role(role, current_user.is_admin)
    if board is None or role is None:
        abort(404)
    actor = Actor(current_user.id, current_user.name, role, client_address())
    g.board, g.actor = board, actor
    return board, actor


def client_address() -> str:
    """The request's client address, as the audit log records it ("" when unknown)."""
    return request.remote_addr or ""


def acting_person() -> Actor:
    """The person logged in, acting on no board in particular (admin pages, new boards)."""
    return Actor(current_user.id, current_user.name, "", client_address())


def can(actor: Actor, permission: str) -> bool:
    """Whether the acting person's role allows this policy action."""
    return policy.may(actor.role, permission)
