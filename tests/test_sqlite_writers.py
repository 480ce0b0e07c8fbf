"""Many people writing at once on the default database, a SQLite file: nobody gets a 5xx.

SQLite has one writer at a time. A transaction that read first and then writes cannot wait
for the write lock when another writer committed in between (its snapshot is stale), so
every transaction that may write takes the lock when it starts (BEGIN IMMEDIATE) and the
others queue on the busy timeout. Each POST route family gets a scenario here: N people
send it at the same moment, several times over; every answer is below 500 and every
write that was answered as done is in the database.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.helpers import PASSWORD, REQUEST, Auth, make_board, make_user, serve_app
from tests.helpers import app_config as config_for
from tracker.domain.vocabulary import EventKind, MailMode, NoticeKind, TokenScope
from tracker.extensions import db
from tracker.models import (
    AlertCard,
    BoardColumn,
    BreakGlassGrant,
    CannedReply,
    Card,
    CardEvent,
    Comment,
    Component,
    Lane,
    RequestWait,
    RotationAway,
    Sprint,
    User,
    Webhook,
)
from tracker.models import AuditEvent as Audit
from tracker.services import alerts, cards, intake, tokens
from tracker.services.common import Actor

PEOPLE = 8  # threads sending at the same moment
ROUNDS = 3  # requests each, one after the other
# One connection per thread, so the requests wait on SQLite's lock, not on the pool.
ENGINE = {"pool_size": PEOPLE + 4, "max_overflow": 4}
STRONG = "Quartz lantern 47 frost"


@dataclass
class World:
    board_id: int
    request_ids: list[int]
    lane_ids: list[int]
    column_ids: list[int]
    lead_ids: list[int]
    member_ids: list[int]
    incident_id: int  # an S1 in the Expedite lane, for the incident scenarios
    tokens: list[str]  # a status link of each request
    alert_token: str = ""


@pytest.fixture
def file_app(tmp_path):
    url = "sqlite:///" + str(tmp_path / "writers.sqlite3")
    yield from serve_app(config_for(url, SQLALCHEMY_ENGINE_OPTIONS=ENGINE))


def build_world(app) -> World:
    """A board with leads, members, support staff and admins (one each per thread), and
    one filed request per thread to comment on."""
    with app.app_context():
        board = make_board()
        lead_ids, member_ids = [], []
        for i in range(PEOPLE):
            lead_ids.append(make_user(f"lead{i}", board=board, role="lead").id)
            member_ids.append(make_user(f"member{i}", board=board, role="member").id)
            make_user(f"support{i}", board=board, role="support")
            make_user(f"admin{i}", admin=True)
        filer = Actor(member_ids[0], "Member0 Person", "member")
        request_ids = [
            intake.file_request(
                board.id, filer, REQUEST | {"title": f"Request {i}"}, intake.new_intake_key()
            ).card.id
            for i in range(PEOPLE)
        ]
        lane_ids = list(
            db.session.execute(
                select(Lane.id).where(Lane.board_id == board.id).order_by(Lane.position)
            ).scalars()
        )
        column_ids = list(
            db.session.execute(
                select(BoardColumn.id)
                .where(BoardColumn.board_id == board.id)
                .order_by(BoardColumn.position)
            ).scalars()
        )
        lead = Actor(lead_ids[0], "Lead0 Person", "lead")
        token = alerts.create_token(board.id, lead, "prom").token
        s1 = {"title": "Checkout is down", "severity": "S1"}
        incident_id = cards.create_card(board.id, filer, lane_ids[0], s1).id
        tokens = [
            intake.create_status_link(board.id, filer, card_id).token for card_id in request_ids
        ]
        return World(
            board.id,
            request_ids,
            lane_ids,
            column_ids,
            lead_ids,
            member_ids,
            incident_id,
            tokens,
            token,
        )


# A scenario: who sends (a username prefix, or None for the login scenario's own logins),
# and what person i sends in round r: (path, form data).
Send = Callable[[World, int, int], tuple[str, dict]]


def login_send(world: World, i: int, r: int) -> tuple[str, dict]:
    # Half the people type a wrong password: failed logins write to the audit log too.
    password = PASSWORD if i % 2 == 0 else "not the password at all"
    return "/login", {"username": f"member{i}", "password": password}


def comment_send(world: World, i: int, r: int) -> tuple[str, dict]:
    card_id = world.request_ids[(i + r) % PEOPLE]
    path = f"/b/{world.board_id}/requests/{card_id}/comments"
    return path, {"body": f"Note {i}.{r}", "visibility": "internal" if i % 2 else "reply"}


def card_comment_send(world: World, i: int, r: int) -> tuple[str, dict]:
    """A comment on a card that mentions the next member, who starts watching it."""
    card_id = world.request_ids[(i + r) % PEOPLE]
    body = f"Card note {i}.{r} for @member{(i + 1) % PEOPLE}"
    return f"/b/{world.board_id}/cards/{card_id}/comments", {"body": body}


def watch_send(world: World, i: int, r: int) -> tuple[str, dict]:
    card_id = world.request_ids[r % PEOPLE]  # everyone on the same card each round
    return f"/b/{world.board_id}/cards/{card_id}/watch", {"watch": "1" if (i + r) % 2 else "0"}


def incident_log_send(world: World, i: int, r: int) -> tuple[str, dict]:
    """Everyone writes in the one incident's log at once."""
    return f"/b/{world.board_id}/cards/{world.incident_id}/log", {"text": f"Log {i}.{r}"}


def grant_send(world: World, i: int, r: int) -> tuple[str, dict]:
    """Everyone records break-glass access on the one incident at once."""
    return f"/b/{world.board_id}/cards/{world.incident_id}/grants", {
        "holder": str(world.member_ids[i]),
        "target": f"db {i}.{r}",
        "why": "fix",
        "buddy_name": "Ops Olga",
        "expected_end": (datetime.now(UTC) + timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M"),
    }


def intake_send(world: World, i: int, r: int) -> tuple[str, dict]:
    return f"/b/{world.board_id}/intake", {
        "title": f"Filed by {i} in round {r}",
        "description": "The page is blank.",
        "requester": "Ria Requester",
        "requester_email": "ria@example.org",
        "severity": ("S2", "S3", "S4")[(i + r) % 3],
        "component": "Other",
        "environment": "production",
        "intake_key": f"key-{i:02d}-{r:02d}-" + "x" * 28,
    }


def settings_send(world: World, i: int, r: int) -> tuple[str, dict]:
    data = {
        **{
            f"columns-{n}-column_id": str(column_id) for n, column_id in enumerate(world.column_ids)
        },
        **{f"columns-{n}-wip_limit": "" for n in range(len(world.column_ids))},
        "timezone": "Europe/Berlin",
        "per_person_limit": "",
        "pull_order": "support,feature",
        **{f"lanes-{n}-lane_id": str(lane_id) for n, lane_id in enumerate(world.lane_ids)},
        **{f"lanes-{n}-name": f"Lane {n}" for n in range(len(world.lane_ids))},
        **{f"lanes-{n}-wip_limit": str(3 + (i + r) % 4) for n in range(len(world.lane_ids))},
        **{f"lanes-{n}-mode": "strict" for n in range(len(world.lane_ids))},
    }
    return f"/b/{world.board_id}/settings", data


def component_send(world: World, i: int, r: int) -> tuple[str, dict]:
    return f"/b/{world.board_id}/settings/components", {"name": f"Part {i}-{r}"}


def sprint_send(world: World, i: int, r: int) -> tuple[str, dict]:
    day = 1 + i * ROUNDS + r  # every sprint its own days
    return f"/b/{world.board_id}/sprints", {
        "name": f"Sprint {i}.{r}",
        "start_on": f"2026-{1 + day // 28:02d}-{1 + day % 28:02d}",
        "end_on": f"2026-{1 + day // 28:02d}-{1 + day % 28:02d}",
        "capacity_days": "10",
        "capacity_points": "",
    }


def admin_send(world: World, i: int, r: int) -> tuple[str, dict]:
    return "/admin/people", {
        "name": f"New Person {i} {r}",
        "username": f"new-{i}-{r}",
        "email": "",
        "password": STRONG,
    }


def membership_send(world: World, i: int, r: int) -> tuple[str, dict]:
    role = ("viewer", "support", "member")[r]
    return "/admin/memberships", {
        "board_id": str(world.board_id),
        "user_id": str(world.member_ids[i]),
        "role": role,
    }


def new_card_send(world: World, i: int, r: int) -> tuple[str, dict]:
    return f"/b/{world.board_id}/cards/new", {
        "title": f"Card {i}.{r}",
        "lane_id": str(world.lane_ids[2]),
    }


FINGERPRINTS = 4  # alerts the people post, each several times over, at once


def alert_send(world: World, i: int, r: int) -> tuple[str, dict]:
    """Alertmanager posts (JSON, the board's bearer token): several people send the same
    fingerprint at once, so only one card per fingerprint may open."""
    fingerprint = f"{(i + r) % FINGERPRINTS:016x}"
    alert = {
        "status": "firing",
        "labels": {"alertname": f"Alert{fingerprint[-1]}", "severity": "critical"},
        "annotations": {},
        "startsAt": "2026-11-30T09:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "",
        "fingerprint": fingerprint,
    }
    return "/api/v1/alerts/alertmanager", {"version": "4", "alerts": [alert]}


def webhook_send(world: World, i: int, r: int) -> tuple[str, dict]:
    # A public address written as a number: nothing is looked up, nothing is sent.
    return f"/b/{world.board_id}/settings/integrations/hooks", {
        "url": f"https://93.184.215.14/hooks/{i}/{r}",
        "events": ["card.created"],
    }


def close_reopen_send(world: World, i: int, r: int) -> tuple[str, dict]:
    """Each person closes their own request, reopens it, closes it again."""
    path = f"/b/{world.board_id}/cards/{world.request_ids[i]}"
    if r % 2 == 0:
        return path + "/close", {"why": "duplicate", "note": f"Round {r}"}
    return path + "/reopen", {"why": f"Round {r}"}


def rotation_send(world: World, i: int, r: int) -> tuple[str, dict]:
    """Each lead sets the rotation up (the same pool: all members), then marks a member away
    twice; every save generates the coming terms again."""
    path = f"/b/{world.board_id}/rotation"
    if r == 0:
        pool = [str(uid) for uid in world.member_ids]
        return path, {
            "enabled": "y",
            "on_duty": "2",
            "term_periods": "2",
            "staggered": "y",
            "pool": pool,
        }
    day = 1 + 7 * i + 3 * r
    return path + "/away", {
        "person": str(world.member_ids[i]),
        "start_on": f"2027-01-{day:02d}" if day <= 28 else f"2027-02-{day - 28:02d}",
        "end_on": f"2027-01-{day:02d}" if day <= 28 else f"2027-02-{day - 28:02d}",
    }


def away_answers(statuses: list[int]) -> int:
    """The answers to rotation_send's away rounds (each person's first round sets it up)."""
    return sum(1 for k, status in enumerate(statuses) if k % ROUNDS and status in (200, 302, 303))


def board_create_send(world: World, i: int, r: int) -> tuple[str, dict]:
    return "/boards", {"name": f"Board {i}.{r}", "timezone": "UTC"}


def password_send(world: World, i: int, r: int) -> tuple[str, dict]:
    old, new = (PASSWORD, STRONG) if r % 2 == 0 else (STRONG, PASSWORD)
    return "/account/password", {"current": old, "new": new, "confirm": new}


def notifications_send(world: World, i: int, r: int) -> tuple[str, dict]:
    """Mark all read, and save one's notification mail choices (two writes to one's row)."""
    if r % 2 == 0:
        return "/notifications/read-all", {}
    modes = {kind.value: MailMode.DIGEST.value for kind in NoticeKind}
    return "/account/notifications", modes


def waiting_send(world: World, i: int, r: int) -> tuple[str, dict]:
    """Each member sets their request to wait for its requester, stops, waits again."""
    path = f"/b/{world.board_id}/requests/{world.request_ids[i]}/waiting"
    return path, {"action": "wait" if r % 2 == 0 else "resume"}


def waits_started(statuses: list[int]) -> int:
    """The answers to waiting_send's "wait" rounds (rounds 0 and 2 of each person)."""
    return sum(
        1 for k, status in enumerate(statuses) if k % ROUNDS % 2 == 0 and status in (302, 303)
    )


def requester_reply_send(world: World, i: int, r: int) -> tuple[str, dict]:
    """Requesters answer on their status pages, all at once (no login: the link is it)."""
    return f"/status/{world.tokens[(i + r) % PEOPLE]}/reply", {"body": f"Answer {i}.{r}"}


def canned_send(world: World, i: int, r: int) -> tuple[str, dict]:
    return f"/b/{world.board_id}/settings/desk/canned", {
        "title": f"Canned {i}.{r}",
        "body": "Could you send the logs?",
    }


@dataclass
class Scenario:
    family: str  # the blueprint whose POST routes it stands for
    sender: str | None  # username prefix of the people sending (None: not logged in)
    send: Send
    # What the database holds afterwards: (a count query, how many of the answers were writes).
    count: Callable[[World], int] | None
    expected: Callable[[World, list[int]], int] | None
    # Sent as JSON with a bearer token: a board's alert token (the alerts API, sender
    # None) or each sender's own API token (tracker.web.api).
    bearer: bool = False


def answered_ok(statuses: list[int]) -> int:
    return sum(1 for status in statuses if status in (200, 201, 302, 303))


def api_send(world: World, i: int, r: int) -> tuple[str, dict]:
    """Through the API: add a card, move one's own request, comment on it (in turn)."""
    base = f"/api/v1/boards/{world.board_id}"
    if r == 0:
        return base + "/cards", {"lane_id": world.lane_ids[2], "title": f"API card {i}"}
    if r == 1:
        target = {"lane_id": world.lane_ids[1], "column_id": world.column_ids[1 + i % 2]}
        return f"{base}/cards/{world.request_ids[i]}/move", target | {"reason": "all at once"}
    return f"{base}/cards/{world.request_ids[i]}/comments", {"body": f"API note {i}"}


def count(model, *where) -> int:
    return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


SCENARIOS = {
    "desk waiting": Scenario(
        "desk",
        "member",
        waiting_send,
        lambda w: count(RequestWait),
        lambda w, statuses: waits_started(statuses),
    ),
    "requester replies": Scenario(
        "desk",
        None,
        requester_reply_send,
        lambda w: count(Comment, Comment.from_requester.is_(True)),
        lambda w, statuses: answered_ok(statuses),
    ),
    "canned replies": Scenario(
        "desk",
        "lead",
        canned_send,
        lambda w: count(CannedReply),
        lambda w, statuses: answered_ok(statuses),
    ),
    "login": Scenario(
        "auth",
        None,
        login_send,
        lambda w: count(Audit, Audit.action.in_(("login", "login_failed"))),
        lambda w, statuses: len(statuses),
    ),
    "comment": Scenario(
        "intake",
        "member",
        comment_send,
        lambda w: count(Comment),
        lambda w, statuses: answered_ok(statuses),
    ),
    "card comments": Scenario(
        "conversation",
        "member",
        card_comment_send,
        lambda w: count(Comment, Comment.body.like("Card note %")),
        lambda w, statuses: answered_ok(statuses),
    ),
    "watching": Scenario(
        "conversation",
        "member",
        watch_send,
        # Watching is a choice, not a count: the answers are what is checked.
        None,
        None,
    ),
    "incident log": Scenario(
        "incidents",
        "member",
        incident_log_send,
        lambda w: count(CardEvent, CardEvent.kind == EventKind.INCIDENT_LOG),
        lambda w, statuses: answered_ok(statuses),
    ),
    "break-glass grants": Scenario(
        "incidents",
        "member",
        grant_send,
        lambda w: count(BreakGlassGrant),
        lambda w, statuses: answered_ok(statuses),
    ),
    "intake": Scenario(
        "intake",
        "support",
        intake_send,
        lambda w: count(Card, Card.board_id == w.board_id) - PEOPLE - 1,
        lambda w, statuses: answered_ok(statuses),
    ),
    "settings": Scenario(
        "settings",
        "lead",
        settings_send,
        # Saving the values already there audits nothing: count the answers only.
        None,
        None,
    ),
    "components": Scenario(
        "settings",
        "lead",
        component_send,
        lambda w: count(Component, Component.board_id == w.board_id),
        lambda w, statuses: answered_ok(statuses),
    ),
    "sprints": Scenario(
        "reports",
        "lead",
        sprint_send,
        lambda w: count(Sprint, Sprint.board_id == w.board_id),
        lambda w, statuses: answered_ok(statuses),
    ),
    "admin people": Scenario(
        "admin",
        "admin",
        admin_send,
        lambda w: count(User, User.username.like("new-%")),
        lambda w, statuses: answered_ok(statuses),
    ),
    "admin memberships": Scenario(
        "admin",
        "admin",
        membership_send,
        lambda w: count(Audit, Audit.action.like("membership.%")),
        lambda w, statuses: answered_ok(statuses),
    ),
    "cards": Scenario(
        "board",
        "member",
        new_card_send,
        lambda w: count(Card, Card.board_id == w.board_id, Card.title.like("Card %")),
        lambda w, statuses: answered_ok(statuses),
    ),
    "close and reopen": Scenario(
        "board",
        "member",
        close_reopen_send,
        lambda w: count(
            CardEvent,
            CardEvent.board_id == w.board_id,
            CardEvent.kind.in_((EventKind.CLOSED, EventKind.REOPENED)),
        ),
        lambda w, statuses: answered_ok(statuses),
    ),
    "rotation": Scenario(
        "rotation",
        "lead",
        rotation_send,
        lambda w: count(RotationAway, RotationAway.board_id == w.board_id),
        lambda w, statuses: away_answers(statuses),
    ),
    "boards": Scenario(
        "boards",
        "admin",
        board_create_send,
        lambda w: count(Audit, Audit.action == "board.created") - 1,
        lambda w, statuses: answered_ok(statuses),
    ),
    "notifications": Scenario(
        "notifications",
        "lead",
        notifications_send,
        lambda w: count(User, User.notice_mail.is_not(None)),
        lambda w, statuses: PEOPLE,  # each person's choices, saved once or more
    ),
    "alerts": Scenario(
        "alerts",
        None,
        alert_send,
        lambda w: count(AlertCard, AlertCard.board_id == w.board_id),
        lambda w, statuses: FINGERPRINTS,
        bearer=True,
    ),
    "webhooks": Scenario(
        "webhooks",
        "lead",
        webhook_send,
        lambda w: count(Webhook, Webhook.board_id == w.board_id),
        lambda w, statuses: answered_ok(statuses),
    ),
    "api": Scenario(
        "api",
        "lead",
        api_send,
        lambda w: (
            count(Card, Card.title.like("API card %"))
            + count(CardEvent, CardEvent.board_id == w.board_id, CardEvent.kind == EventKind.MOVED)
            + count(Comment, Comment.body.like("API note %"))
        ),
        lambda w, statuses: answered_ok(statuses),
        bearer=True,
    ),
    "account": Scenario(
        "account",
        "member",
        password_send,
        lambda w: count(Audit, Audit.action == "person.password_changed"),
        lambda w, statuses: answered_ok(statuses),
    ),
}


def run_at_once(app, world: World, scenario: Scenario) -> list[int]:
    """PEOPLE clients, each logged in first, send ROUNDS requests each, starting together."""
    clients = []
    for i in range(PEOPLE):
        client = app.test_client()
        if scenario.bearer and scenario.sender is not None:
            with app.app_context():
                who = f"{scenario.sender}{i}"
                user = db.session.execute(select(User).filter_by(username=who)).scalar_one()
                secret = tokens.create_token(user, "writers", TokenScope.READ_WRITE, None).secret
            client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
        elif scenario.sender is not None:
            assert Auth(client).login(f"{scenario.sender}{i}").status_code == 302
        clients.append(client)
    barrier = threading.Barrier(PEOPLE)
    statuses: list[list[int]] = [[] for _ in range(PEOPLE)]
    errors: list[BaseException] = []

    def person(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            for r in range(ROUNDS):
                path, data = scenario.send(world, i, r)
                # Each login from a browser of its own: a logged-in one is sent onwards.
                client = clients[i] if scenario.sender else app.test_client()
                if scenario.bearer and scenario.sender is None:
                    headers = {"Authorization": f"Bearer {world.alert_token}"}
                    answer = client.post(path, json=data, headers=headers)
                elif scenario.bearer:  # the client bears its person's API token
                    answer = client.post(path, json=data)
                else:
                    answer = client.post(path, data=data)
                statuses[i].append(answer.status_code)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=person, args=(i,)) for i in range(PEOPLE)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return [status for answers in statuses for status in answers]


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_people_writing_at_once_on_a_sqlite_file_get_no_5xx(file_app, name):
    scenario = SCENARIOS[name]
    world = build_world(file_app)
    with file_app.app_context():
        before = scenario.count(world) if scenario.count else 0
    statuses = run_at_once(file_app, world, scenario)
    assert len(statuses) == PEOPLE * ROUNDS
    assert [s for s in statuses if s >= 500] == [], statuses
    assert answered_ok(statuses) or name == "login", statuses  # the writes were not refused
    if scenario.count is None or scenario.expected is None:
        return
    with file_app.app_context():
        written = scenario.count(world) - before
    assert written == scenario.expected(world, statuses), (written, statuses)


def test_every_post_route_family_has_a_scenario(file_app):
    """A new blueprint with POST routes needs a scenario above."""
    families = {
        rule.endpoint.split(".")[0]
        for rule in file_app.url_map.iter_rules()
        if "POST" in (rule.methods or ()) and rule.endpoint != "static"
    }
    assert families <= {s.family for s in SCENARIOS.values()}, families


@pytest.mark.slow
def test_a_page_that_writes_takes_the_write_lock_first(file_app):
    """Every GET route as every identity: a statement that writes runs only in a transaction
    that holds SQLite's write lock from its start (else it fails as soon as another writer
    commits between its read and its write)."""
    from sqlalchemy import event

    from tests.helpers import IDENTITIES, build_world, url_for_rule
    from tracker import database

    with file_app.app_context():
        world = build_world()
        engine = db.engine
    unlocked: list[str] = []

    def check(conn, cursor, statement, parameters, context, executemany):
        verb = statement.lstrip().split(None, 1)[0].upper()
        if verb in ("INSERT", "UPDATE", "DELETE") and not database.holds_write_lock(conn):
            unlocked.append(statement.split("\n")[0][:80])

    with file_app.app_context():
        urls = [
            url_for_rule(world, rule)
            for rule in file_app.url_map.iter_rules()
            if "GET" in (rule.methods or ()) and rule.endpoint != "static"
        ]
    event.listen(engine, "before_cursor_execute", check)
    try:
        for identity in (None, *IDENTITIES):
            client = file_app.test_client()
            if identity:
                Auth(client).login(identity)
                with file_app.app_context():  # the API's reads: a token's use is noted
                    user = db.session.execute(
                        select(User).filter_by(username=identity)
                    ).scalar_one()
                    made = tokens.create_token(user, "reads", TokenScope.READ, None)
                client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {made.secret}"
            for url in urls:
                unlocked.clear()
                status = client.get(url).status_code
                assert status < 500, (identity, url, status)
                assert unlocked == [], (identity, url, unlocked)
    finally:
        event.remove(engine, "before_cursor_execute", check)
