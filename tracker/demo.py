"""The demo: one person per role and a board with sixteen weeks of realistic work.

`flask seed-demo` (run by `make run` on first start) calls seed(). After the people and the
board, everything goes through the card and intake services inside `clock.fixed(moment)`,
so the history holds the same events the app writes, with past times, and the reports have real
weeks to show. A seeded random generator makes the demo the same for the same day.

The simulation: support requests arrive on working days (more of them after a rough
release in the middle of the period) and the support person, sam, files each one through
intake, as well as the production emergencies; whoever finishes a request often replies
to its requester, so sam's My requests and request pages show real follow-ups. The lead
tops up and reorders the feature backlog at planning, people pull when they have room and
move their cards through In progress and Review to Done in working hours, a few cards get
blocked for a while, a few requests are closed as
duplicates or won't do, and now and then a production emergency goes through the
Expedite lane within hours. A short final scene in the last working hours before now
makes sure the board shows what a newcomer should see: every column of Support and
Feature in use, some cards done this week, one emergency done and none waiting, two cards
blocked, and one lane over its limit through a lead's recorded override.

The lead plans two-week sprints from the first simulated Monday to the one running now
(eight finished with the default sixteen weeks), with planned capacity, so the capacity
report has its weather at first run.
"""

from __future__ import annotations

import heapq
import math
import random
import re
import secrets
import unicodedata
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from tracker import clock
from tracker.domain.periods import week_of
from tracker.domain.vocabulary import CardStatus, LaneKind, Role, Severity, Visibility
from tracker.extensions import db
from tracker.models import AuditEvent, Card, CardEvent, User
from tracker.services import audit, boards, cards, intake, reports, users
from tracker.services.common import Actor

DEMO_PASSWORD = "weatherboard"  # noqa: S105 - the README shows it; demo mode only
# (username, name, site admin, role on the demo board); names with distinct initials,
# since cards show the assignee's initials.
PEOPLE = (
    ("admin", "Ada Schneider", True, None),
    ("lead", "Lee Park", False, Role.LEAD),
    ("mia", "Mia Wagner", False, Role.MEMBER),
    ("max", "Max Fischer", False, Role.MEMBER),
    ("noor", "Noor Haddad", False, Role.MEMBER),
    ("sam", "Sam Keller", False, Role.SUPPORT),
    ("vic", "Vic Laurent", False, Role.VIEWER),
)
BOARD_NAME = "Platform team"
TIMEZONE = "Europe/Berlin"
WEEKS = 16
RANDOM_SEED = 4711
WORK_START, WORK_END = time(9), time(17)
# Two-week sprints from the first simulated Monday up to the running one. Planned capacity:
# the lead and three members, ten days each, less the person-days of holiday of each sprint.
SPRINT_DAYS = 14
TEAM_DAYS = 40
HOLIDAYS = (0, 2, 0, 3, 1, 0, 4, 0, 2, 1)
SPRINT_POINTS = 20
# The final scene's window is cut into this many steps (it takes a few dozen actions).
SCENE_SLOTS = 160

EXPEDITE, SUPPORT, FEATURE = LaneKind.EXPEDITE, LaneKind.SUPPORT, LaneKind.FEATURE
READY, PROGRESS, REVIEW, DONE = "Ready", "In progress", "Review", "Done"
CLOSED = CardStatus.CLOSED
ACTIVE = (PROGRESS, REVIEW)
# Cards a person takes on before they stop pulling; the lead also runs the team.
CAPACITY = {"lead": 1, "mia": 2, "max": 2, "noor": 2}
MEMBERS = ("mia", "max", "noor")
# Support requests per working day, week by week: a release in week 7 brings a wave.
SUPPORT_RATE = (1.1, 1.2, 1.4, 1.0, 0.9, 1.2, 2.4, 2.8, 2.0, 1.4, 1.1, 1.0, 1.3, 1.0, 0.9, 1.2)

COMPONENTS = {
    "billing": (
        "Invoice PDF shows the wrong VAT rate",
        "Card payment declined although the bank approved it",
        "Credit note missing from the monthly statement",
        "Refund stuck in pending for a week",
        "Proration wrong after a plan change",
        "Invoice numbers skip after the month change",
        "Dunning email sent to a customer who has paid",
    ),
    "login": (
        "Password reset link expires immediately",
        "Single sign-on loops back to the login page",
        "Locked out after changing the email address",
        "Two-factor codes rejected on one phone",
        "Session ends every few minutes in Safari",
        "Invitation link says the account already exists",
    ),
    "search": (
        "Search finds nothing for names with umlauts",
        "Results page takes 20 seconds for one customer",
        "Deleted documents still show up in search",
        "Filters reset when going back to the results",
        "Search ranks old tickets above new ones",
    ),
    "api": (
        "API returns 500 for orders with an empty note",
        "Webhook retries flood a customer's endpoint",
        "Rate limit hits a partner far below their plan",
        "Pagination skips records on the orders endpoint",
        "Timestamps in the API lack a time zone",
        "API key rotation breaks the old key at once",
    ),
    "exports": (
        "CSV export cuts off after 10,000 rows",
        "Excel opens the export with broken characters",
        "Scheduled export not delivered on Mondays",
        "Export dates shifted by one hour",
    ),
}
REPLY = "This is fixed and live now. Thank you for telling us, and let us know if you still see it."


def requester_email(requester: str) -> str:
    """ "Jana Novak (Northwind)" -> jana.novak@northwind.example (a reserved domain)."""
    name, _, company = requester.partition(" (")

    def slug(text: str, joint: str) -> str:
        plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
        return re.sub(r"[^a-z0-9]+", joint, plain.lower()).strip(joint)

    return f"{slug(name, '.')}@{slug(company.rstrip(')'), '-')}.example"


REQUESTERS = (
    "Jana Novak (Northwind)",
    "Tom Berger (Alpenblick GmbH)",
    "Priya Shah (Larkspur Ltd)",
    "Lukas Meier (Meier & Söhne)",
    "Aiko Tanaka (Sakura Foods)",
    "Chloé Martin (Atelier Lumière)",
    "Omar Haddad (Cedar Logistics)",
    "Eva Lindqvist (Nordkap AB)",
    "Marek Kowalski (Wisła Tools)",
    "Sofia Rossi (Trattoria Uno)",
    "Ben Okafor (Greenline Energy)",
    "Helga Schmidt (Stadtwerke Nord)",
)
EMERGENCIES = (
    ("Checkout returns 500 for every customer", "billing"),
    ("Nobody can log in: identity provider certificate expired", "login"),
    ("API gateway times out for all partners", "api"),
    ("Search index empty after the night's deploy", "search"),
    ("Payment webhooks failing, orders not confirmed", "billing"),
    ("Database disk full, writes failing", "api"),
    ("Login page blank after the CDN change", "login"),
)
FEATURES = (
    ("Two-factor login with an authenticator app", 5, "login"),
    ("Saved searches", 3, "search"),
    ("CSV export of invoices", 2, "exports"),
    ("Rate limits per API key", 5, "api"),
    ("Dark mode for the customer portal", 3, ""),
    ("Bulk edit of orders", 8, ""),
    ("Webhook delivery log for partners", 3, "api"),
    ("Search suggestions while typing", 5, "search"),
    ("Invoices in French and Italian", 3, "billing"),
    ("Single sign-on with Azure AD", 8, "login"),
    ("Scheduled exports to SFTP", 5, "exports"),
    ("Audit log of admin actions", 5, ""),
    ("Usage dashboard for account owners", 8, ""),
    ("Pay by SEPA direct debit", 8, "billing"),
    ("Filter orders by delivery date", 2, ""),
    ("API pagination with cursors", 3, "api"),
    ("Remember the last used filters", 1, "search"),
    ("Customer notes on the order page", 2, ""),
    ("Email receipts with the company logo", 2, "billing"),
    ("Export to Excel with formatting", 3, "exports"),
    ("Password strength meter", 1, "login"),
    ("Team invitations with roles", 5, "login"),
    ("OpenAPI description of the public API", 3, "api"),
    ("Highlight matches in search results", 2, "search"),
    ("Upgrade the PDF library", 3, "billing"),
    ("Archive old orders automatically", 5, ""),
    ("Keyboard shortcuts in the order list", 2, ""),
    ("Proforma invoices", 3, "billing"),
    ("Idempotency keys for order creation", 5, "api"),
    ("Search across attachments", 8, "search"),
    ("Delegated access for accountants", 5, "login"),
    ("Slack notifications for new orders", 3, ""),
    ("Show VAT per line on invoices", 2, "billing"),
    ("Webhook signatures with rotating secrets", 3, "api"),
    ("Faster order list for large accounts", 5, ""),
    ("Recent searches on the start page", 1, "search"),
    ("Monthly export of all invoices as ZIP", 3, "exports"),
    ("Session list with 'log out everywhere'", 3, "login"),
    ("Reorder from a past order", 2, ""),
    ("Sandbox accounts for partners", 8, "api"),
    ("Annual billing with a discount", 5, "billing"),
    ("Sort search results by date", 1, "search"),
    ("Magic-link login by email", 3, "login"),
    ("Batch endpoint for order updates", 5, "api"),
    ("Export filters remembered per user", 2, "exports"),
    ("Gift cards at checkout", 8, "billing"),
    ("Order status page for end customers", 5, ""),
    ("Retry button for failed webhooks", 2, "api"),
    ("Typo-tolerant search", 5, "search"),
    ("Login history for account owners", 2, "login"),
    ("Split payments across two cards", 5, "billing"),
    ("Custom fields on orders", 5, ""),
    ("GraphQL read API for partners", 8, "api"),
    ("Search by order number prefix", 1, "search"),
    ("Passkeys as a second factor", 5, "login"),
    ("Export of customer lists for mailings", 2, "exports"),
    ("Usage-based billing for API calls", 8, "billing"),
    ("Mobile layout for the order list", 3, ""),
    ("Webhook for refunds", 2, "api"),
    ("Faceted search by category", 5, "search"),
    ("IP allow-list for admin logins", 3, "login"),
    ("Invoices as e-invoices (XRechnung)", 5, "billing"),
    ("Duplicate an order as a template", 2, ""),
    ("Deprecation headers on old API versions", 2, "api"),
    ("Scheduled reports by email", 3, "exports"),
    ("Tax exemption for non-profits", 3, "billing"),
    ("Bulk import of products from CSV", 5, ""),
    ("Service accounts for integrations", 3, "login"),
    ("Search analytics for the product team", 3, "search"),
    ("Per-partner API usage dashboard", 5, "api"),
)
BLOCK_REASONS = {
    SUPPORT: (
        "Waiting for the customer's log files",
        "Waiting for the customer to confirm the steps to reproduce",
        "Needs access to the customer's tenant; asked their admin",
        "Waiting for the payment provider's support to answer",
    ),
    FEATURE: (
        "Waiting for the payment provider's sandbox keys",
        "Design review of the new screens is on Thursday",
        "Needs a decision from product on the pricing rules",
        "Blocked by the database upgrade in the ops team",
        "Waiting for legal to approve the wording",
    ),
}


@dataclass
class _Card:
    """What the simulation knows of a card; it is the only writer, so this stays true."""

    id: int
    ref: str
    lane: str
    column: str = READY
    assignee: int | None = None
    blocked: bool = False
    component: str = ""
    title: str = ""
    followed_up: bool = False
    severity: str | None = None
    estimate: int | None = None
    done_at: datetime | None = None
    # Bumped whenever the card enters a column: happenings planned for an earlier stay
    # (finishing, blocking) no longer apply.
    stay: int = 0


class WorkingTime:
    """Working hours (Monday to Friday, 9 to 17) in the board's time zone."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz

    def _at(self, day: datetime, moment: time) -> datetime:
        return datetime.combine(day.date(), moment, tzinfo=self.tz)

    def next_start(self, moment: datetime) -> datetime:
        """The first working moment at or after moment."""
        local = moment.astimezone(self.tz)
        while True:
            if local.weekday() < 5:
                if local < self._at(local, WORK_START):
                    return self._at(local, WORK_START)
                if local < self._at(local, WORK_END):
                    return local
            local = self._at(local + timedelta(days=1), WORK_START)

    def last_end(self, moment: datetime) -> datetime:
        """The last working moment at or before moment."""
        local = moment.astimezone(self.tz)
        while True:
            if local.weekday() < 5:
                if local > self._at(local, WORK_END):
                    return self._at(local, WORK_END)
                if local > self._at(local, WORK_START):
                    return local
            local = self._at(local - timedelta(days=1), WORK_END)

    def add(self, moment: datetime, hours: float) -> datetime:
        """The moment `hours` of working time after moment."""
        left = timedelta(hours=hours)
        local = self.next_start(moment)
        while True:
            end = self._at(local, WORK_END)
            if local + left <= end:
                return local + left
            left -= end - local
            local = self.next_start(end)

    def back(self, moment: datetime, hours: float) -> datetime:
        """The moment `hours` of working time before moment."""
        left = timedelta(hours=hours)
        local = self.last_end(moment)
        while True:
            start = self._at(local, WORK_START)
            if local - left >= start:
                return local - left
            left -= local - start
            local = self.last_end(start)

    def next_morning(self, moment: datetime) -> datetime:
        """The start of work on the calendar day after moment (a weekend day too)."""
        return self._at(moment.astimezone(self.tz) + timedelta(days=1), WORK_START)

    def day_moment(self, day: datetime, fraction: float) -> datetime:
        """A moment `fraction` of the way through day's working hours."""
        start = self._at(day.astimezone(self.tz), WORK_START)
        return start + (self._at(start, WORK_END) - start) * fraction


def _poisson(rng: random.Random, mean: float) -> int:
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


class _Seeder:
    """Builds the demo: people, board, then the simulated weeks and the final scene."""

    def __init__(self, now: datetime, weeks: int) -> None:
        self.now = now
        self.rng = random.Random(RANDOM_SEED)
        self.tz = ZoneInfo(TIMEZONE)
        self.work = WorkingTime(self.tz)
        week_start, _ = week_of(now, self.tz)
        self.week_start = week_start
        self.start = self.work.next_start(week_start - timedelta(weeks=weeks))
        self.weeks = weeks
        self.last = (self.start - timedelta(days=7)).astimezone(UTC)
        self.reestimates: dict[int, int] = {}
        self.cards: dict[int, _Card] = {}
        self.ready: dict[str, list[int]] = {EXPEDITE: [], SUPPORT: [], FEATURE: []}
        self.queue: list[tuple[datetime, int, str, Any]] = []
        self.order = 0
        self.pending_pulls: set[str] = set()
        self.features = list(FEATURES)
        self.titles = {component: list(titles) for component, titles in COMPONENTS.items()}
        self.emergencies = list(EMERGENCIES)
        # The final scene runs in the last two working hours before now (or, early on a
        # Monday, in what there is of this week), so some cards are done this week.
        if self.work.back(now, 2) >= week_start:
            self.scene_start = self.work.back(now, 2)
            self.scene_in_working_time = True
        else:
            self.scene_start = max(week_start, now - timedelta(hours=2))
            self.scene_in_working_time = False
        self.scene_slot = 0

    # -- time --------------------------------------------------------------------------

    def at(self, moment: datetime) -> AbstractContextManager[None]:
        """Act at moment (never before the previous action, so history stays in order)."""
        moment = max(moment.astimezone(UTC), self.last + timedelta(milliseconds=1))
        self.last = moment
        return clock.fixed(moment)

    def scene_time(self, slots: int = 1) -> datetime:
        """The next moment of the final scene, `slots` steps after the previous one."""
        self.scene_slot += slots
        fraction = min(self.scene_slot / SCENE_SLOTS, 1.0)
        if self.scene_in_working_time:
            moment = self.work.add(self.scene_start, 2 * fraction)
        else:
            moment = self.scene_start + (self.now - self.scene_start) * fraction
        return min(moment, self.now - timedelta(seconds=1))

    def plan(self, moment: datetime, kind: str, payload: Any = None) -> None:
        self.order += 1
        heapq.heappush(self.queue, (moment, self.order, kind, payload))

    # -- people and board --------------------------------------------------------------

    def create_people_and_board(self) -> None:
        with self.at(self.start - timedelta(days=3)):
            self.board = boards.create_board(BOARD_NAME, TIMEZONE)
            self.users: dict[str, User] = {}
            for username, name, is_admin, role in PEOPLE:
                email = f"{username}@weatherboard.example"
                user = users.create_user(
                    username, name, DEMO_PASSWORD, is_admin=is_admin, email=email
                )
                if role:
                    boards.set_membership(self.board, user, role)
                self.users[username] = user
        self.board_id = self.board.id
        self.lane_ids = {lane.kind: lane.id for lane in self.board.lanes}
        self.limits = {lane.kind: lane.wip_limit for lane in self.board.lanes}
        self.column_ids = {column.name: column.id for column in self.board.columns}
        roles = {username: role for username, _, _, role in PEOPLE}
        self.actors = {
            username: Actor(self.users[username].id, self.users[username].name, roles[username])
            for username in CAPACITY
        }
        self.usernames = {actor.id: username for username, actor in self.actors.items()}
        sam = self.users["sam"]
        self.support = Actor(sam.id, sam.name, roles["sam"])
        lead = self.actors["lead"]
        with self.at(self.start - timedelta(days=3)):
            for component in COMPONENTS:  # the intake form's list, kept by the lead
                intake.add_component(self.board_id, lead, component)

    def plan_sprints(self) -> None:
        """The lead's two-week sprints from the first Monday of the history to the one
        running now, each with its planned capacity (so the capacity report has weather)."""
        first = self.start.astimezone(self.tz).date()
        today = self.now.astimezone(self.tz).date()
        number = 0
        with self.at(self.start - timedelta(days=2)):
            while first + timedelta(days=number * SPRINT_DAYS) <= today:
                start = first + timedelta(days=number * SPRINT_DAYS)
                holidays = HOLIDAYS[number % len(HOLIDAYS)]
                reports.add_sprint(
                    self.board_id,
                    self.actors["lead"],
                    reports.SprintInput(
                        f"Sprint {number + 1}",
                        start,
                        start + timedelta(days=SPRINT_DAYS - 1),
                        TEAM_DAYS - holidays,
                        SPRINT_POINTS,
                    ),
                )
                number += 1

    # -- what the simulation knows -----------------------------------------------------

    def lane_count(self, lane: str) -> int:
        return sum(1 for c in self.cards.values() if c.lane == lane and c.column in ACTIVE)

    def load(self, username: str) -> int:
        uid = self.actors[username].id
        return sum(1 for c in self.cards.values() if c.assignee == uid and c.column in ACTIVE)

    def has_room(self, lane: str) -> bool:
        limit = self.limits[lane]
        return limit is None or self.lane_count(lane) < limit

    def pullable(self) -> bool:
        return any(self.ready[lane] and self.has_room(lane) for lane in self.ready)

    def least_busy(self, people: tuple[str, ...] = tuple(CAPACITY)) -> str:
        return min(people, key=lambda name: (self.load(name), self.rng.random()))

    def actor_for(self, card: _Card) -> Actor:
        if card.assignee is not None:
            return self.actors[self.usernames[card.assignee]]
        return self.actors["lead"]

    # -- actions (each one service call, one commit, history events) --------------------

    def create(self, moment: datetime, who: str, lane: str, fields: dict[str, Any]) -> _Card:
        with self.at(moment):
            card = cards.create_card(self.board_id, self.actors[who], self.lane_ids[lane], fields)
        return self.track(card, lane, fields)

    def track(self, card: Card, lane: str, fields: dict[str, Any]) -> _Card:
        """Follow a card the board has just got, at the end of its lane's ready queue."""
        sim = _Card(
            card.id,
            card.ref,
            lane,
            component=fields.get("component", ""),
            title=fields["title"],
            severity=fields.get("severity"),
            estimate=fields.get("estimate"),
        )
        self.cards[sim.id] = sim
        self.ready[lane].append(sim.id)
        return sim

    def file_request(self, moment: datetime, severity: str | None = None) -> _Card:
        """A customer reports a problem; support staff (sam) file it through intake."""
        component = self.rng.choice(list(COMPONENTS))
        if not self.titles[component]:
            self.titles[component] = list(COMPONENTS[component])
        title = self.titles[component].pop(self.rng.randrange(len(self.titles[component])))
        severity = (
            severity or self.rng.choices((Severity.S2, Severity.S3, Severity.S4), (2, 5, 3))[0]
        )
        requester = self.rng.choice(REQUESTERS)
        values = {
            "title": title,
            "description": f"{requester} wrote in: it happened today and they can repeat it.",
            "requester": requester,
            "requester_email": requester_email(requester),
            "severity": severity,
            "component": component,
            "environment": "Production",
        }
        return self.file(moment, SUPPORT, values)

    def file(self, moment: datetime, lane: str, values: dict[str, Any]) -> _Card:
        """File through the intake service, which ranks the queue by severity: the sim's
        ready queue follows the board's order."""
        with self.at(moment):
            filed = intake.file_request(
                self.board_id, self.support, values, secrets.token_urlsafe(32)
            )
        sim = self.track(filed.card, lane, values)
        column = self.column_ids[READY]
        order = db.session.execute(
            select(Card.id)
            .where(Card.lane_id == self.lane_ids[lane], Card.column_id == column)
            .where(Card.status == CardStatus.OPEN)
            .order_by(Card.rank)
        ).scalars()
        self.ready[lane] = [card_id for card_id in order if card_id in self.ready[lane]]
        return sim

    def reply(self, card: _Card, actor: Actor) -> None:
        """Now and then the person who finished a request writes to the requester."""
        if card.lane != SUPPORT or random.Random(card.id).random() < 0.4:
            return
        with self.at(self.last + timedelta(minutes=3)):
            intake.add_comment(self.board_id, actor, card.id, REPLY, Visibility.REPLY)

    def add_feature(self, moment: datetime) -> _Card:
        """The lead adds a feature: a new one, or now and then a follow-up to one done.

        A few new titles are kept for this week, so the board shows fresh work.
        """
        done = [
            c
            for c in self.cards.values()
            if c.lane == FEATURE and c.column == DONE and not c.followed_up
        ]
        reserve = 8 if moment < self.week_start else 0
        if done and (len(self.features) <= reserve or self.rng.random() < 0.2):
            origin = self.rng.choice(done)
            origin.followed_up = True
            estimate = self.rng.choice((1, 2, 3))
            step = self.rng.choice(("follow-up", "edge cases", "second step", "polish"))
            title, component = f"{origin.title}: {step}", origin.component
        elif self.features:
            title, estimate, component = self.features.pop(self.rng.randrange(len(self.features)))
        else:
            title, estimate, component = self.rng.choice(FEATURES)
            title = f"{title}: next step"
        fields = {
            "title": title,
            "description": "Agreed at planning; details in the product brief.",
            "estimate": estimate,
            "component": component,
        }
        card = self.create(moment, "lead", FEATURE, fields)
        card.followed_up = ": " in title  # no follow-ups of follow-ups
        return card

    def report_emergency(self, moment: datetime) -> _Card:
        if not self.emergencies:
            self.emergencies = list(EMERGENCIES)
        title, component = self.emergencies.pop(self.rng.randrange(len(self.emergencies)))
        values = {
            "title": title,
            "description": "Monitoring alert confirmed by several customers.",
            "requester": "Monitoring",
            "severity": Severity.S1,
            "component": component,
            "environment": "Production",
        }
        return self.file(moment, EXPEDITE, values)

    def pull(self, moment: datetime, who: str) -> _Card | None:
        with self.at(moment):
            result = cards.pull_next(self.board_id, self.actors[who])
        if result.card is None:
            return None
        card = self.cards[result.card.id]
        self.ready[card.lane].remove(card.id)
        card.assignee = self.actors[who].id
        self.enter(card, PROGRESS)
        return card

    def move(self, moment: datetime, card: _Card, column: str, who: str | None = None) -> None:
        actor = self.actors[who] if who else self.actor_for(card)
        with self.at(moment):
            cards.move_card(
                self.board_id,
                actor,
                card.id,
                lane_id=self.lane_ids[card.lane],
                column_id=self.column_ids[column],
            )
        if card.column == READY:
            self.ready[card.lane].remove(card.id)
        self.enter(card, column)
        if column == DONE:
            card.done_at = self.last
            self.reply(card, actor)

    def enter(self, card: _Card, column: str) -> None:
        card.column = column
        card.stay += 1

    def assign(self, moment: datetime, card: _Card, to: str, by: str | None = None) -> None:
        actor = self.actors[by] if by else self.actor_for(card)
        with self.at(moment):
            cards.assign_card(self.board_id, actor, card.id, self.actors[to].id)
        card.assignee = self.actors[to].id

    def block(self, moment: datetime, card: _Card, blocked: bool, reason: str = "") -> None:
        with self.at(moment):
            cards.set_blocked(self.board_id, self.actor_for(card), card.id, blocked, reason)
        card.blocked = blocked

    def close(self, moment: datetime, card: _Card, why: str, note: str) -> None:
        with self.at(moment):
            cards.close_card(self.board_id, self.actors["lead"], card.id, why, note)
        if card.column == READY:
            self.ready[card.lane].remove(card.id)
        card.column = CLOSED

    def edit(self, moment: datetime, card: _Card, who: str, fields: dict[str, Any]) -> None:
        version = db.session.get(Card, card.id).version
        with self.at(moment):
            cards.edit_card(self.board_id, self.actors[who], card.id, version, fields)

    # -- the simulated weeks -----------------------------------------------------------

    def simulate(self) -> None:
        """Play the weeks from the start to the final scene, happening by happening."""
        self.plan_arrivals()
        day = self.start
        while day < self.scene_start:
            local = day.astimezone(self.tz)
            if local.weekday() < 5:
                self.plan(self.work.day_moment(day, 0.01), "morning")
                if local.weekday() == 0:
                    self.plan(self.work.day_moment(day, 0.05), "planning")
                if local.weekday() == 3:
                    self.plan(self.work.day_moment(day, 0.5), "refill")
            day = self.work.next_morning(day)
        while self.queue and self.queue[0][0] < self.scene_start:
            moment, _, kind, payload = heapq.heappop(self.queue)
            getattr(self, "on_" + kind)(moment, payload)

    def plan_arrivals(self) -> None:
        """Plan every working day's support requests, and the production emergencies."""
        day = self.start
        while day < self.scene_start:
            local = day.astimezone(self.tz)
            week = min((day - self.start).days // 7, self.weeks - 1)
            rate = SUPPORT_RATE[week % len(SUPPORT_RATE)] * (1.3 if local.weekday() == 0 else 1)
            if local.weekday() < 5:
                for _ in range(_poisson(self.rng, rate)):
                    self.plan(self.work.day_moment(day, self.rng.random()), "arrival")
            day = self.work.next_morning(day)
        # A few production emergencies in past weeks, and one this week when there is time.
        # They break in the morning and are over the same day.
        past = self.rng.sample(range(1, self.weeks), k=min(5, self.weeks - 1))
        for week in past:
            day = self.start + timedelta(weeks=week, days=self.rng.randrange(5))
            self.plan(self.work.day_moment(day, self.rng.uniform(0, 0.5)), "emergency")
        this_week = [
            self.work.day_moment(self.week_start + timedelta(days=d), self.rng.uniform(0, 0.5))
            for d in range(5)
        ]
        this_week = [m for m in this_week if self.work.add(m, 4) < self.scene_start]
        if this_week:
            self.plan(self.rng.choice(this_week), "emergency")

    def dispatch(self, moment: datetime) -> None:
        """Everyone with room looks for the next card a little later."""
        for who in self.rng.sample(list(CAPACITY), k=len(CAPACITY)):
            if who not in self.pending_pulls and self.load(who) < CAPACITY[who]:
                self.pending_pulls.add(who)
                self.plan(self.work.add(moment, self.rng.uniform(0.05, 0.6)), "pull", who)

    def start_stay(self, moment: datetime, card: _Card) -> None:
        """Plan when the card leaves its column, and maybe a block on the way."""
        rng = self.rng
        if card.lane == EXPEDITE:
            hours = rng.uniform(0.7, 2.2) if card.column == PROGRESS else rng.uniform(0.2, 0.6)
        elif card.lane == SUPPORT:
            hours = rng.uniform(1, 12) if card.column == PROGRESS else rng.uniform(0.3, 3)
        else:
            estimate = card.estimate or 3
            hours = estimate * rng.uniform(5, 9) if card.column == PROGRESS else rng.uniform(1, 6)
        chance = {EXPEDITE: 0, SUPPORT: 0.08, FEATURE: 0.15}[card.lane]
        if card.column == PROGRESS and rng.random() < chance:
            part = rng.uniform(0.2, 0.8)
            blocked_at = self.work.add(moment, hours * part)
            unblocked_at = self.work.add(blocked_at, rng.uniform(2, 20))
            self.plan(blocked_at, "block", (card.id, card.stay))
            self.plan(unblocked_at, "unblock", (card.id, card.stay))
            finish = self.work.add(unblocked_at, hours * (1 - part))
        else:
            finish = self.work.add(moment, hours)
        self.plan(finish, "finish", (card.id, card.stay))

    def on_morning(self, moment: datetime, _: Any) -> None:
        self.dispatch(moment)

    def on_planning(self, moment: datetime, _: Any) -> None:
        """Monday planning: maybe drop a feature, then fill the backlog to six."""
        ready = [self.cards[cid] for cid in self.ready[FEATURE]]
        if len(ready) > 3 and self.rng.random() < 0.3:
            dropped = self.rng.choice(ready)
            self.close(moment, dropped, "wont_do", "Dropped at planning: no customer asked for it.")
        for i in range(6 - len(self.ready[FEATURE])):
            self.add_feature(moment + timedelta(minutes=3 * (i + 1)))
        if len(self.ready[FEATURE]) > 1 and self.rng.random() < 0.5:
            self.to_top(moment + timedelta(minutes=30), self.cards[self.ready[FEATURE][-1]])
        self.dispatch(moment)

    def to_top(self, moment: datetime, card: _Card) -> None:
        """The lead moves a ready feature to the top of the queue (most wanted first)."""
        with self.at(moment):
            cards.move_card(
                self.board_id,
                self.actors["lead"],
                card.id,
                lane_id=self.lane_ids[card.lane],
                column_id=self.column_ids[READY],
                after=0,
            )
        self.ready[card.lane].remove(card.id)
        self.ready[card.lane].insert(0, card.id)

    def on_refill(self, moment: datetime, _: Any) -> None:
        for i in range(3 - len(self.ready[FEATURE])):
            self.add_feature(moment + timedelta(minutes=4 * (i + 1)))

    def on_arrival(self, moment: datetime, _: Any) -> None:
        card = self.file_request(moment)
        roll = self.rng.random()
        if roll < 0.1:
            self.plan(self.work.add(moment, self.rng.uniform(0.3, 2)), "triage_close", card.id)
        elif roll < 0.22:
            self.plan(self.work.add(moment, self.rng.uniform(0.1, 1)), "retriage", card.id)
        self.dispatch(moment)

    def on_triage_close(self, moment: datetime, card_id: int) -> None:
        card = self.cards[card_id]
        if card.column != READY:
            return
        earlier = [
            c
            for c in self.cards.values()
            if c.lane == SUPPORT and c.component == card.component and c.id < card.id
        ]
        if earlier and self.rng.random() < 0.6:
            original = self.rng.choice(earlier)
            self.close(moment, card, "duplicate", f"Same problem as {original.ref}.")
        else:
            self.close(moment, card, "wont_do", "Works as designed; explained to the customer.")

    def on_retriage(self, moment: datetime, card_id: int) -> None:
        card = self.cards[card_id]
        if card.column == CLOSED:
            return
        s2, s3, s4 = Severity.S2, Severity.S3, Severity.S4
        new = {s2: s3, s3: s2, s4: s3}[card.severity or s3]
        self.edit(moment, card, "lead", {"severity": new})
        card.severity = new

    def on_emergency(self, moment: datetime, _: Any) -> None:
        if self.ready[EXPEDITE] or self.lane_count(EXPEDITE) or self.done_this_week(EXPEDITE):
            return  # one emergency at a time, and one a week, is plenty
        card = self.report_emergency(moment)
        who = self.least_busy()
        self.plan(self.work.add(moment, self.rng.uniform(0.08, 0.4)), "answer", (card.id, who))

    def on_answer(self, moment: datetime, payload: tuple[int, str]) -> None:
        card_id, who = payload
        if self.cards[card_id].column != READY:
            return  # someone pulled it already (pull takes expedite cards first)
        pulled = self.pull(moment, who)
        if pulled is not None:
            self.start_stay(moment, pulled)

    def on_pull(self, moment: datetime, who: str) -> None:
        self.pending_pulls.discard(who)
        if self.load(who) >= CAPACITY[who] or not self.pullable():
            return
        card = self.pull(moment, who)
        if card is None:
            return
        self.start_stay(moment, card)
        if card.lane == FEATURE and self.rng.random() < 0.2:
            estimate = card.estimate or 3
            bigger = {1: 2, 2: 3, 3: 5, 5: 8, 8: 13}.get(estimate, estimate + 1)
            self.plan(self.work.add(moment, self.rng.uniform(0.5, 3)), "reestimate", card.id)
            self.reestimates[card.id] = bigger
        if self.load(who) < CAPACITY[who]:
            self.dispatch(moment)

    def on_reestimate(self, moment: datetime, card_id: int) -> None:
        card = self.cards[card_id]
        if card.column in ACTIVE:
            who = self.usernames[card.assignee] if card.assignee else "lead"
            card.estimate = self.reestimates[card_id]
            self.edit(moment, card, who, {"estimate": card.estimate})

    def on_block(self, moment: datetime, payload: tuple[int, int]) -> None:
        card = self.cards[payload[0]]
        if card.stay == payload[1] and not card.blocked:
            self.block(moment, card, True, self.rng.choice(BLOCK_REASONS[card.lane]))

    def on_unblock(self, moment: datetime, payload: tuple[int, int]) -> None:
        card = self.cards[payload[0]]
        if card.stay == payload[1] and card.blocked:
            self.block(moment, card, False)

    def on_finish(self, moment: datetime, payload: tuple[int, int]) -> None:
        card = self.cards[payload[0]]
        if card.stay != payload[1] or card.blocked:
            return
        if card.column == PROGRESS:
            author = self.usernames[card.assignee] if card.assignee else "lead"
            self.move(moment, card, REVIEW)
            if card.lane == FEATURE and self.rng.random() < 0.35:
                others = tuple(name for name in MEMBERS if name != author)
                reviewer = self.least_busy(others)
                self.assign(moment + timedelta(minutes=5), card, reviewer, by=author)
            self.start_stay(moment, card)
        elif card.column == REVIEW:
            self.move(moment, card, DONE)
            self.dispatch(moment)

    # -- the final scene ---------------------------------------------------------------

    def scene(self) -> None:
        """Leave the board as a newcomer should see it, whatever the simulation left."""
        self.finish_emergencies()
        for lane in (SUPPORT, FEATURE):
            self.ensure_done_this_week(lane)
            self.ensure_in(lane, REVIEW)
            self.ensure_in(lane, PROGRESS)
        self.give_everyone_work()
        self.override_feature_limit()
        for lane, wanted in ((SUPPORT, 2), (FEATURE, 3)):
            while len(self.ready[lane]) < wanted:
                if lane == SUPPORT:
                    self.file_request(self.scene_time(4))
                else:
                    self.add_feature(self.scene_time(2))
        self.leave_two_blocked()

    def open_in(self, lane: str, column: str) -> list[_Card]:
        return [c for c in self.cards.values() if c.lane == lane and c.column == column]

    def done_this_week(self, lane: str) -> list[_Card]:
        return [
            c
            for c in self.cards.values()
            if c.lane == lane and c.column == DONE and c.done_at and c.done_at >= self.week_start
        ]

    def finish_emergencies(self) -> None:
        """No emergency left open, and one handled this week."""
        for card_id in list(self.ready[EXPEDITE]):
            self.pull(self.scene_time(8), self.least_busy())
            assert self.cards[card_id].column == PROGRESS
        for card in self.open_in(EXPEDITE, PROGRESS):
            self.move(self.scene_time(20), card, REVIEW)
        for card in self.open_in(EXPEDITE, REVIEW):
            self.move(self.scene_time(10), card, DONE)
        if not self.done_this_week(EXPEDITE):
            card = self.report_emergency(self.scene_time())
            self.pull(self.scene_time(8), self.least_busy())
            self.move(self.scene_time(30), card, REVIEW)
            self.move(self.scene_time(10), card, DONE)

    def take_top(self, lane: str) -> _Card:
        """Someone with the least work takes the top ready card of lane."""
        if not self.ready[lane]:
            if lane == SUPPORT:
                self.file_request(self.scene_time(2))
            else:
                self.add_feature(self.scene_time(2))
        who = self.least_busy()
        takes_lane = lane == SUPPORT or not (self.ready[SUPPORT] and self.has_room(SUPPORT))
        if takes_lane and not self.ready[EXPEDITE]:
            card = self.pull(self.scene_time(3), who)
            assert card is not None and card.lane == lane
            return card
        card = self.cards[self.ready[lane][0]]
        self.assign(self.scene_time(2), card, who, by=who)
        self.move(self.scene_time(1), card, PROGRESS, who=who)
        return card

    def make_room(self, lane: str) -> None:
        """Finish reviews until the lane has room for one more card."""
        while not self.has_room(lane):
            reviews = [c for c in self.open_in(lane, REVIEW) if not c.blocked]
            progress = [c for c in self.open_in(lane, PROGRESS) if not c.blocked]
            if reviews:
                self.move(self.scene_time(3), reviews[0], DONE)
            elif progress:
                self.move(self.scene_time(3), progress[0], REVIEW)
            else:  # everything in the lane is blocked: one gets unblocked
                self.block(self.scene_time(3), self.open_in(lane, PROGRESS)[0], False)

    def ensure_done_this_week(self, lane: str) -> None:
        if self.done_this_week(lane):
            return
        reviews = [c for c in self.open_in(lane, REVIEW) if not c.blocked]
        if not reviews:
            progress = [c for c in self.open_in(lane, PROGRESS) if not c.blocked]
            if not progress:
                self.make_room(lane)
                progress = [self.take_top(lane)]
            self.move(self.scene_time(6), progress[0], REVIEW)
            reviews = [progress[0]]
        self.move(self.scene_time(6), reviews[0], DONE)

    def ensure_in(self, lane: str, column: str) -> None:
        if self.open_in(lane, column):
            return
        if column == REVIEW:
            progress = [c for c in self.open_in(lane, PROGRESS) if not c.blocked]
            if not progress:
                self.make_room(lane)
                progress = [self.take_top(lane)]
            self.move(self.scene_time(4), progress[0], REVIEW)
        else:
            self.make_room(lane)
            self.take_top(lane)

    def give_everyone_work(self) -> None:
        """Everyone holds some work: they pull, or take over a card from someone busy."""
        for who in CAPACITY:
            if self.load(who):
                continue
            if self.pullable() and not self.ready[EXPEDITE]:
                card = self.pull(self.scene_time(3), who)
                if card is not None:
                    continue
            busiest = max(CAPACITY, key=self.load)
            held = [
                c
                for c in self.cards.values()
                if c.column in ACTIVE and c.assignee == self.actors[busiest].id
            ]
            self.assign(self.scene_time(3), held[0], who, by=busiest)

    def override_feature_limit(self) -> None:
        """The lead starts one feature over the limit, saying why: a recorded override."""
        while self.has_room(FEATURE):
            self.take_top(FEATURE)
        if not self.ready[FEATURE]:
            self.add_feature(self.scene_time(2))
        card = self.cards[self.ready[FEATURE][0]]
        reason = "Promised to a key customer for their audit next week; agreed in stand-up."
        with self.at(self.scene_time(4)):
            cards.move_card(
                self.board_id,
                self.actors["lead"],
                card.id,
                lane_id=self.lane_ids[FEATURE],
                column_id=self.column_ids[PROGRESS],
                reason=reason,
            )
        self.ready[FEATURE].remove(card.id)
        self.enter(card, PROGRESS)
        self.assign(self.scene_time(2), card, self.least_busy(MEMBERS), by="lead")

    def leave_two_blocked(self) -> None:
        """Exactly two cards blocked, with reasons: unblock extras, or block one per lane."""
        blocked = [c for c in self.cards.values() if c.blocked and c.column in ACTIVE]
        for card in blocked[2:]:
            self.block(self.scene_time(3), card, False)
        blocked = blocked[:2]
        for lane in (SUPPORT, FEATURE):
            if len(blocked) >= 2 or any(c.lane == lane for c in blocked):
                continue
            candidates = [c for c in self.open_in(lane, PROGRESS) if not c.blocked]
            candidates = candidates or [c for c in self.open_in(lane, REVIEW) if not c.blocked]
            reason = self.rng.choice(BLOCK_REASONS[lane])
            self.block(self.scene_time(3), candidates[0], True, reason)
            blocked.append(candidates[0])

    # -- the summary -------------------------------------------------------------------

    def summary(self) -> str:
        card_count = db.session.execute(
            select(func.count()).select_from(Card).where(Card.board_id == self.board_id)
        ).scalar_one()
        event_count = db.session.execute(
            select(func.count()).select_from(CardEvent).where(CardEvent.board_id == self.board_id)
        ).scalar_one()
        people = ", ".join(
            f"{username} ({role or 'site admin'})" for username, _, _, role in PEOPLE
        )
        return (
            f"Seeded the demo board {BOARD_NAME!r} (board {self.board_id}, {TIMEZONE}): "
            f"{card_count} cards and {event_count} history events over {self.weeks} weeks.\n"
            f"People: {people}.\n"
            f"Every demo password is {DEMO_PASSWORD!r}; log in as lead to see the board."
        )


ABSENT, COMPLETE, PARTIAL = "absent", "complete", "partial"


def seed_state() -> str:
    """Whether this database holds the demo: ABSENT, COMPLETE, or PARTIAL (a seed-demo that
    stopped halfway: it began, marked in the audit log, and never marked its end).

    A database seeded before the markers existed has the demo people and no marker: that
    seed ran to its end (it was the only way to get the people), so it counts as complete.
    """
    marks = set(
        db.session.execute(
            select(AuditEvent.action).where(
                AuditEvent.action.in_(("demo.seed_started", "demo.seeded"))
            )
        ).scalars()
    )
    if "demo.seeded" in marks:
        return COMPLETE
    if "demo.seed_started" in marks:
        return PARTIAL
    people = db.session.execute(select(User.id).where(User.username == "admin")).first()
    return COMPLETE if people else ABSENT


def seed(weeks: int = WEEKS) -> str:
    """Create the demo people and board with `weeks` of history up to now; returns a summary.

    The seed commits step by step (each step is a use case); it marks its start and its
    end in the audit log, so that a seed that stopped halfway is told apart from a whole one
    (seed_state)."""
    audit.record("demo.seed_started", actor_id=None)
    db.session.commit()
    seeder = _Seeder(clock.now(), weeks)
    seeder.create_people_and_board()
    seeder.plan_sprints()
    seeder.simulate()
    seeder.scene()
    audit.record("demo.seeded", actor_id=None, board_id=seeder.board_id)
    db.session.commit()
    return seeder.summary()
