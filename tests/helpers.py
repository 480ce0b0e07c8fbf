"""Plain helpers for tests: people, boards and cards; the board a test module describes
(BoardSpec, build_board); a real SMTP server on loopback; the permission walk's world; the
domain's plain board. Test modules import from here (never from one another)."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import random
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller
from sqlalchemy import event, func, make_url, select, text
from werkzeug.routing import Rule

from tracker import clock, create_app
from tracker.domain.vocabulary import LaneKind, NoticeKind, TokenScope, WebhookEvent
from tracker.domain.wip import Column as WipColumn
from tracker.domain.wip import Lane as WipLane
from tracker.extensions import db
from tracker.models import (
    Board,
    BoardColumn,
    Card,
    Component,
    Lane,
    OutboundMail,
    RotationAway,
    RotationTerm,
    User,
    Webhook,
)
from tracker.services import (
    alerts,
    boards,
    cards,
    conversation,
    desk,
    incidents,
    intake,
    labels,
    notifications,
    reports,
    rotation,
    tokens,
    users,
    webhooks,
)
from tracker.services.common import Actor
from tracker.services.mail import background
from tracker.web.access import ADMIN, ADMIN_ROLE, BEARER, LOGIN, PERMISSIONS, PUBLIC, ROUTES

PASSWORD = "correct horse battery"
# A support request's fields as the intake form sends them (services.intake.file_request).
REQUEST = {
    "title": "Export is empty",
    "description": "The CSV has only a header.",
    "requester": "Dana",
    "requester_email": "",
    "severity": "S3",
    "component": "Other",
    "environment": "",
}

# What the run may use beyond SQLite (see tests/conftest.py for what runs without them).
PG_URL = os.environ.get("TRACKER_TEST_POSTGRES_URL", "").strip() or None
REDIS_URL = os.environ.get("TRACKER_TEST_REDIS_URL", "").strip() or None

CHROMIUM = "/usr/bin/chromium"  # Debian's; the browser tests never `playwright install`


def browser_required() -> bool:
    """TRACKER_REQUIRE_BROWSER=1: the browser tests must run (CI), so a missing browser fails."""
    return os.environ.get("TRACKER_REQUIRE_BROWSER", "").strip() == "1"


def missing_browser(config) -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[test]')"
    if not config.pluginmanager.has_plugin("playwright"):
        return "the pytest-playwright plugin is not loaded (pip install -e '.[test]')"
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    return None


# Each pytest-xdist worker (gw0, gw1, ...) takes ports from a block of its own, below the
# kernel's ephemeral range (32768 and up), so two workers never pick the same free port; it
# starts at a random place in its block, so two runs side by side seldom try the same one.
PORTS_FROM, PORTS_PER_WORKER = 20000, 600
_next_port = itertools.count(random.randrange(PORTS_PER_WORKER))


def worker_index() -> int:
    """This pytest-xdist worker's number (gw3 -> 3); 0 without xdist."""
    name = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(name.removeprefix("gw")) if name.removeprefix("gw").isdigit() else 0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now, from this worker's block."""
    first = PORTS_FROM + worker_index() * PORTS_PER_WORKER
    for _ in range(PORTS_PER_WORKER):
        port = first + next(_next_port) % PORTS_PER_WORKER
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError(f"no free port in {first}-{first + PORTS_PER_WORKER - 1}")


# Apps and their databases ---------------------------------------------------------------


def app_config(url: str, **extra) -> dict:
    """The app's configuration in tests: the given database, cheap hashing, no CSRF and no
    login rate limit unless a test turns them on."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
        # Tests log in far more often than a person; tests/test_rate_limit.py turns it on.
        "RATELIMIT_ENABLED": False,
        "SQLALCHEMY_DATABASE_URI": url,
        **extra,
    }


def postgres_database() -> tuple[str, Callable[[], None]]:
    """Create a throwaway PostgreSQL database; returns (url, drop function). Its name says
    which pytest-xdist worker made it, so one left behind by a killed run is easy to spot."""
    import psycopg

    base = make_url(PG_URL)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"wb_test_{worker}_{uuid.uuid4().hex[:10]}"
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return base.set(database=name).render_as_string(hide_password=False), drop


def serve_app(config: dict):
    """An app with its tables created, disposed of afterwards (a generator for fixtures)."""
    app = create_app(config)
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def wipe(app) -> None:
    """Empty every table (the database is this worker's own, so this is safe)."""
    with app.app_context():
        db.session.remove()
        tables = db.metadata.sorted_tables
        if db.engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):
                db.session.execute(table.delete())
        db.session.commit()
    # Board ids and versions start again: grids kept for the boards before are not theirs.
    app.extensions["tracker.grids"].clear()


_made: list = []


def new_app(config: dict | None = None):
    """An app of the test's own (from the environment when config is None); its database
    connections are closed after the test (tests/conftest.py's _close_apps)."""
    made = create_app(config)
    _made.append(made)
    return made


def close_new_apps() -> None:
    while _made:
        with _made.pop().app_context():
            db.session.remove()
            db.engine.dispose()


def make_user(
    username: str,
    *,
    board: Board | None = None,
    role: str | None = None,
    admin: bool = False,
    name: str | None = None,
    email: str | None = None,
) -> User:
    user = users.create_user(
        username, name or username.title() + " Person", PASSWORD, is_admin=admin, email=email
    )
    if board is not None and role is not None:
        boards.set_membership(board, user, role)
    return user


def make_board(name: str = "Team", **limits) -> Board:
    """A default board; keyword arguments set lane limits by kind, e.g. support=2."""
    board = boards.create_board(name)
    for lane in board.lanes:
        if lane.kind in limits:
            lane.wip_limit = limits[lane.kind]
    db.session.commit()
    return board


def actor(user: User, role: str = "member") -> Actor:
    return Actor(user.id, user.name, role)


def ann_and_lee(board: Board) -> tuple[Board, Actor, Actor]:
    """The card tests' team on a board: ann, a member, and lee, a lead, as actors."""
    ann = make_user("ann", board=board, role="member")
    lee = make_user("lee", board=board, role="lead")
    return board, actor(ann), actor(lee, "lead")


def lane(board: Board, kind: str) -> Lane:
    return db.session.execute(
        select(Lane).where(Lane.board_id == board.id, Lane.kind == kind)
    ).scalar_one()


def column(board: Board, name: str) -> BoardColumn:
    return db.session.execute(
        select(BoardColumn).where(BoardColumn.board_id == board.id, BoardColumn.name == name)
    ).scalar_one()


def make_card(
    board: Board,
    who: Actor,
    kind: str = "feature",
    title: str = "A card",
    at: str | None = None,
    **fields,
) -> Card:
    """A card in the lane's Ready column; `at` moves it to the named column."""
    card = cards.create_card(board.id, who, lane(board, kind).id, {"title": title, **fields})
    if at is not None and at != "Ready":
        card = cards.move_card(
            board.id,
            Actor(who.id, who.name, "lead"),
            card.id,
            lane_id=card.lane_id,
            column_id=column(board, at).id,
            reason="test setup",
        ).card
    return card


# The board a test module describes ------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """Someone on the test board: a board role (None: on no board), optionally a site admin,
    with a name and email of their own (default: "<Username> Person", no email)."""

    role: str | None
    admin: bool = False
    name: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class CardSpec:
    """A card on the test board: its key in the ids, lane kind, title, column (default
    Ready), who files it (as a member) and any other fields (severity=...)."""

    key: str | None
    kind: str
    title: str
    at: str | None = None
    by: str = "ann"
    fields: dict = field(default_factory=dict)


@dataclass(frozen=True)
class BoardSpec:
    """A test module's board: lane limits by kind, people by username (a role, "admin" for
    a site admin on no board, None for someone on no board, or a Person), the components
    intake offers, and the cards, made in order."""

    limits: dict[str, int | None] = field(default_factory=dict)
    people: dict[str, str | Person | None] = field(
        default_factory=lambda: {"ann": "member", "lee": "lead"}
    )
    components: tuple[str, ...] = ()
    cards: tuple[CardSpec, ...] = ()


def build_board(spec: BoardSpec, name: str = "Team") -> dict:
    """Make the board `spec` describes (inside an app context); returns its ids: "board",
    each person's username, "<kind>_lane" for each lane, each column's name, each card's
    key, and "lanes" and "columns" (the ids in board order)."""
    board = make_board(name, **spec.limits)
    ids: dict = {
        "board": board.id,
        "lanes": [lane.id for lane in board.lanes],
        "columns": [c.id for c in board.columns],
    }
    ids |= {f"{lane.kind}_lane": lane.id for lane in board.lanes}
    ids |= {c.name: c.id for c in board.columns}
    people = {}
    for username, who in spec.people.items():
        if not isinstance(who, Person):
            who = Person(None, admin=True) if who == "admin" else Person(who)
        people[username] = make_user(
            username, board=board, role=who.role, admin=who.admin, name=who.name, email=who.email
        )
        ids[username] = people[username].id
    for component in spec.components:
        db.session.add(Component(board_id=board.id, name=component))
    db.session.commit()
    for card in spec.cards:
        who = actor(people[card.by])
        made = make_card(board, who, card.kind, card.title, card.at, **card.fields)
        if card.key is not None:
            ids[card.key] = made.id
    db.session.remove()
    return ids


# Log in ----------------------------------------------------------------------------------


class Auth:
    """Log a test client in and out."""

    def __init__(self, client):
        self.client = client

    def login(self, username: str, password: str = PASSWORD):
        return self.client.post("/login", data={"username": username, "password": password})

    def logout(self):
        return self.client.post("/logout")


# The SQL a piece of work sends ------------------------------------------------------------


def statements_sent(
    app, work: Callable[[], object], *, endings: bool = False
) -> tuple[list[str], object]:
    """Run work(); the SQL statements the app's engine sent meanwhile (whitespace made
    single spaces), in order with "COMMIT" and "ROLLBACK" for each transaction's end when
    `endings`, and what work returned."""
    with app.app_context():
        engine = db.engine
    sent: list[str] = []
    hooks = {"before_cursor_execute": lambda _c, _cur, sql, *_a: sent.append(" ".join(sql.split()))}
    if endings:
        hooks |= {"commit": lambda _c: sent.append("COMMIT")}
        hooks |= {"rollback": lambda _c: sent.append("ROLLBACK")}
    for name, hook in hooks.items():
        event.listen(engine, name, hook)
    try:
        result = work()
    finally:
        for name, hook in hooks.items():
            event.remove(engine, name, hook)
    return sent, result


# What is in the database -----------------------------------------------------------------


def everything_in_the_database(app) -> str:
    """Every row of every table as text (lower case), for "is it anywhere?" checks."""
    with app.app_context():
        text = []
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(select(table)):
                text.append(json.dumps([str(value) for value in row]))
        db.session.remove()
    return "\n".join(text).lower()


# Left out of the "a refused request wrote nothing" fingerprint: the audit log records
# refusals too (a failed login is audited; append-only, with its own tests), and the report
# page re-rendered with a 422 fills its cache of computed periods (derived data).
# (api_token: a token's last use is noted as it is used, whatever the request asked.)
NOT_FINGERPRINTED = ("audit", "report_period_cache", "api_token", "flow_week_cache")


def fingerprint() -> str:
    """Every row of every table (bar NOT_FINGERPRINTED), hashed: the test database is small.
    The rows are read on the driver's own cursor, as it gives them, without the ORM's result
    processing (the fuzz test takes a fingerprint before each of its examples)."""
    digest = hashlib.sha256()
    connection = db.session.connection()
    cursor = connection.connection.cursor()
    try:
        for table in db.metadata.sorted_tables:
            if not table.name.startswith(NOT_FINGERPRINTED):
                cursor.execute(_every_row(table, connection.dialect))
                digest.update(repr((table.name, cursor.fetchall())).encode())
    finally:
        cursor.close()
    db.session.rollback()
    return digest.hexdigest()


_EVERY_ROW: dict[tuple[str, str], str] = {}


def _every_row(table, dialect) -> str:
    """SELECT every row of the table in primary-key order, in the dialect's SQL."""
    key = (table.name, dialect.name)
    if key not in _EVERY_ROW:
        statement = select(table).order_by(*table.primary_key.columns)
        _EVERY_ROW[key] = str(statement.compile(dialect=dialect))
    return _EVERY_ROW[key]


# Mail: a real SMTP server on loopback ----------------------------------------------------


class Inbox:
    """An aiosmtpd handler that keeps every message it is given. aiosmtpd stores a message
    (handle_DATA) before it answers the sender, so once a sender is done its mail is here."""

    def __init__(self) -> None:
        self.messages: list = []
        self.arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        with self.arrived:
            self.messages.append((envelope.rcpt_tos, parsed))
            self.arrived.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 10) -> list:
        """The messages once there are at least `count` (woken by each arrival)."""
        with self.arrived:
            if not self.arrived.wait_for(lambda: len(self.messages) >= count, timeout):
                raise AssertionError(f"expected {count} messages, got {len(self.messages)}")
            return list(self.messages)

    def texts(self) -> list[str]:
        return [m["Subject"] + "\n" + m.get_content() for _, m in self.messages]


class SmtpServer:
    """A real SMTP server on 127.0.0.1 that a test can stop and start again."""

    def __init__(self, **options) -> None:
        self.inbox = Inbox()
        self.port = free_port()
        self.options = options
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(
            self.inbox, hostname="127.0.0.1", port=self.port, **self.options
        )
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def join_senders() -> None:
    """Wait for every background sender of this process to finish: mail's and the
    outgoing webhooks' (a sender updates its outbox rows after the request that woke it)."""
    for name in (background.MAIL.name, webhooks.THREAD_NAME):
        for thread in background.background_senders(name):
            thread.join(timeout=20)
            assert not thread.is_alive()


def settled_mail(app, inbox: Inbox) -> list:
    """The inbox once mail has settled: every background sender finished and the outbox
    holds no mail still to send. Nothing can arrive after that (only a running sender sends,
    and aiosmtpd stores a message before the sender hears back), so a count checked on
    what this returns proves nothing more was sent, however slow the machine."""
    join_senders()
    with app.app_context():
        unsent = db.session.execute(
            select(OutboundMail.kind, OutboundMail.status).where(OutboundMail.status != "sent")
        ).all()
        sent = db.session.execute(
            select(func.count()).select_from(OutboundMail).where(OutboundMail.status == "sent")
        ).scalar_one()
        db.session.remove()
    assert unsent == [], f"mail left unsent: {unsent}"
    assert not background.background_senders()
    assert len(inbox.messages) == sent, (len(inbox.messages), sent)
    return list(inbox.messages)


def mail_config(port: int, **extra) -> dict:
    return {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": port,
        "SMTP_SENDER": "Weatherboard support <support@example.com>",
        "SMTP_TLS": "none",
        "PUBLIC_URL": "https://tracker.example.com",
        **extra,
    }


def mail_to(app, port: int, monkeypatch) -> None:
    """Set the app's mail up to the SMTP server on this port, for the test only."""
    for key, value in mail_config(port).items():
        monkeypatch.setitem(app.config, key, value)


# The permission walk's world: one person per role ----------------------------------------

ROLES = ("lead", "member", "support", "viewer")
# Signed-in identities: one per board role, a site admin without a membership, and an
# outsider who belongs to another board only. None stands for anonymous.
IDENTITIES = (*ROLES, "admin", "outsider")


@dataclass
class World:
    """One board with one person per role, plus an admin and an outsider (ids only)."""

    board_id: int
    other_board_id: int
    user_ids: dict[str, int]
    serial: itertools.count = field(default_factory=itertools.count)

    def person(self, name: str):
        user = db.session.get(User, self.user_ids[name])
        return actor(user, ADMIN_ROLE if name == "admin" else name)

    # Fresh objects for a URL's parameters: made per request target, so a delete or a
    # close on one route does not turn the next route's answer into a 404.
    def file_request(self, board_id: int | None = None, who: str = "support") -> int:
        board_id = board_id or self.board_id
        key = intake.new_intake_key()
        return intake.file_request(board_id, self.person(who), REQUEST, key).card.id

    def sprint(self, board_id: int | None = None) -> int:
        n = next(self.serial)
        start = date(2026, 1, 5) + timedelta(days=21 * n)
        data = reports.SprintInput(f"Sprint {n}", start, start + timedelta(days=13), 10, None)
        return reports.add_sprint(board_id or self.board_id, self.person("lead"), data).id

    def component(self, board_id: int | None = None) -> int:
        name = f"Component {next(self.serial)}"
        return intake.add_component(board_id or self.board_id, self.person("lead"), name).id

    def label(self, board_id: int | None = None) -> int:
        name = f"Label {next(self.serial)}"
        return labels.add_label(board_id or self.board_id, self.person("lead"), name, "blue").id

    def status_token(self, board_id: int | None = None) -> str:
        card_id = self.file_request(board_id)
        lead = self.person("lead")
        return intake.create_status_link(board_id or self.board_id, lead, card_id).token

    def rotation_term(self, board_id: int | None = None) -> int:
        board_id = board_id or self.board_id
        if not rotation.enabled(board_id):
            pool = [self.user_ids["lead"], self.user_ids["member"]]
            lead = self.person("lead")
            rotation.save_setup(
                board_id, lead, enabled=True, on_duty=1, term_periods=1, staggered=False, pool=pool
            )
        query = select(RotationTerm.id).where(RotationTerm.board_id == board_id)
        return db.session.execute(query.order_by(RotationTerm.start_on.desc())).scalars().first()

    def away(self, board_id: int | None = None) -> int:
        board_id = board_id or self.board_id
        self.rotation_term(board_id)
        n = next(self.serial)
        day = date(2027, 1, 4) + timedelta(days=7 * n)
        who = self.user_ids["member"]
        rotation.add_away(board_id, self.person("lead"), who, day, day + timedelta(days=2))
        query = select(RotationAway.id).where(RotationAway.board_id == board_id)
        return db.session.execute(query.order_by(RotationAway.id.desc())).scalars().first()

    def unsubscribe_token(self) -> str:
        """An unsubscribe link's token (a notification mail's), for the lead."""
        return notifications.unsubscribe_token(self.user_ids["lead"], NoticeKind.ASSIGNED)

    def comment(self, board_id: int | None = None) -> int:
        """A comment support staff wrote just now on a request they filed."""
        card_id = self.file_request(board_id)
        who = self.person("support")
        return conversation.add_comment(board_id or self.board_id, who, card_id, "Noted.").id

    def alert_token(self, board_id: int | None = None) -> int:
        """A live alert token of the board."""
        made = alerts.create_token(board_id or self.board_id, self.person("lead"), "prom")
        return made.row.id

    def webhook(self, board_id: int | None = None) -> int:
        """A hook of the board, to an address the sender refuses without any network (a
        loopback one, written here past add_hook's check): a test event is given up at once."""
        # It hears only the test event, so the walks' card changes queue no deliveries (a
        # background sender would write them while the next test runs).
        url = "http://127.0.0.1:9/hook"
        return add_webhook_row(board_id or self.board_id, url, (WebhookEvent.PING,)).id

    def grant(self, board_id: int | None = None) -> int:
        """Break-glass access just recorded on a fresh S1 incident, held by the lead."""
        board_id = board_id or self.board_id
        lead = self.person("lead")
        board = db.session.get(Board, board_id)
        expedite = next(lane.id for lane in board.lanes if lane.kind == LaneKind.EXPEDITE)
        title = f"Outage {next(self.serial)}"
        s1 = cards.create_card(board_id, lead, expedite, {"title": title, "severity": "S1"})
        now = clock.now()
        given = incidents.GrantInput(
            lead.id, "orders-db", "fix", None, "Ops Olga", now, now + timedelta(hours=2)
        )
        return incidents.record_grant(board_id, lead, s1.id, given).id

    def incident(self, board_id: int | None = None) -> int:
        """A fresh S1 incident, worked by the lead, mitigated and resolved."""
        board_id = board_id or self.board_id
        lead = self.person("lead")
        board = db.session.get(Board, board_id)
        expedite = next(lane.id for lane in board.lanes if lane.kind == LaneKind.EXPEDITE)
        doing, done = (next(c.id for c in board.columns if c.kind == k) for k in ("active", "done"))
        title = f"Outage {next(self.serial)}"
        s1 = cards.create_card(board_id, lead, expedite, {"title": title, "severity": "S1"})
        cards.move_card(board_id, lead, s1.id, lane_id=expedite, column_id=doing, take=True)
        incidents.mitigate(board_id, lead, s1.id, "rolled back")
        cards.move_card(board_id, lead, s1.id, lane_id=expedite, column_id=done)
        return s1.id

    def api_token(self) -> int:
        """A personal access token of the lead's (others revoking it are told it is none)."""
        lead = db.session.get(User, self.user_ids["lead"])
        return tokens.create_token(
            lead, f"token {next(self.serial)}", TokenScope.READ, None
        ).token.id

    def canned_reply(self, board_id: int | None = None) -> int:
        """One of the board's canned replies (support desk), made by its lead."""
        title = f"Canned {next(self.serial)}"
        lead = self.person("lead")
        return desk.add_canned_reply(board_id or self.board_id, lead, title, "Thanks!").id

    def target_person(self) -> int:
        board = db.session.get(Board, self.board_id)
        return make_user(f"target{next(self.serial)}", board=board, role="member").id


def add_webhook_row(board_id: int, url: str, events: tuple[str, ...] = ()) -> Webhook:
    """A webhook row as add_hook would write it, for any address (no address check)."""
    from tracker import clock
    from tracker.domain.webhooks import SUBSCRIBABLE

    hook = Webhook(
        board_id=board_id,
        url=url,
        events=list(events or SUBSCRIBABLE),
        secret="s" * 64,
        created_at=clock.now(),
    )
    db.session.add(hook)
    db.session.get(Board, board_id).webhook_count += 1
    db.session.commit()
    return hook


# How to fill each URL parameter with a real object of the board. A route with a new
# parameter fails test_every_route_answers_every_identity_as_the_table_says until it is here.
FILL = {
    "board_id": lambda world: world.board_id,
    "card_id": World.file_request,
    "comment_id": World.comment,
    "sprint_id": World.sprint,
    "component_id": World.component,
    "label_id": World.label,
    "token": World.status_token,
    "mail_token": World.unsubscribe_token,
    "user_id": World.target_person,
    "term_id": World.rotation_term,
    "away_id": World.away,
    "alert_token_id": World.alert_token,
    "hook_id": World.webhook,
    "grant_id": World.grant,
    "incident_id": World.incident,
    "token_id": World.api_token,
    "canned_id": World.canned_reply,
    "filename": lambda world: "app.css",
    "chart": lambda world: "cfd",
}


def build_world() -> World:
    """Call inside an app context."""
    board = make_board("Team")
    other = make_board("Elsewhere")
    ids = {role: make_user(role, board=board, role=role).id for role in ROLES}
    ids["admin"] = make_user("admin", admin=True).id
    outsider = make_user("outsider")
    boards.set_membership(other, outsider, "lead")  # a member somewhere, just not here
    ids["outsider"] = outsider.id
    return World(board.id, other.id, ids)


def url_for_rule(world: World, rule: Rule) -> str:
    missing = [name for name in rule.arguments if name not in FILL]
    assert not missing, f"{rule.endpoint}: add a FILL entry for the URL parameter(s) {missing}"
    values = {name: FILL[name](world) for name in sorted(rule.arguments)}
    return rule.build(values, append_unknown=False)[1]


def expected(endpoint: str, identity: str | None) -> str:
    """'allowed', 'forbidden' (403), 'hidden' (404), 'login', or 'token' (401: a bearer
    token route asked without one), from ROUTES and PERMISSIONS."""
    rule = ROUTES[endpoint]
    if rule == PUBLIC:
        return "allowed"
    if rule == BEARER:
        return "token"
    if identity is None:
        return "login"
    if rule == LOGIN:
        return "allowed"
    if rule == ADMIN:
        return "allowed" if identity == "admin" else "forbidden"
    if identity == "outsider":
        return "hidden"
    role = ADMIN_ROLE if identity == "admin" else identity
    return "allowed" if role in PERMISSIONS[rule] else "forbidden"


# The domain's plain board (tests/domain/: no database) -----------------------------------

EXP, SUP, FEAT = 1, 2, 3
READY, DOING, REVIEW, DONE = 10, 11, 12, 13
LANES = [
    WipLane(EXP, "expedite", "Expedite", 1),
    WipLane(SUP, "support", "Support", 3),
    WipLane(FEAT, "feature", "Feature", 4, "reason"),
]
COLUMNS = [
    WipColumn(READY, "queue", "Ready"),
    WipColumn(DOING, "active", "In progress"),
    WipColumn(REVIEW, "active", "Review"),
    WipColumn(DONE, "done", "Done"),
]
