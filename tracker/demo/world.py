"""The demo's world: the board and people the seed creates, what the simulation knows of
each card, and its actions, each one call of the card and intake services at a past moment
(so the history holds the events the app writes)."""

from __future__ import annotations

import random
import secrets
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from tracker import clock
from tracker.demo.script import (
    ACTIVE,
    BOARD_NAME,
    CAPACITY,
    COMPONENT_WEIGHTS,
    COMPONENTS,
    DEMO_PASSWORD,
    DONE,
    EMERGENCIES,
    FEATURES,
    HOLIDAYS,
    MITIGATIONS,
    PEOPLE,
    PROGRESS,
    RANDOM_SEED,
    READY,
    REPLY,
    REQUESTERS,
    ROLE_DOES,
    ROTATION_ON_DUTY,
    ROTATION_TERM_SPRINTS,
    SPRINT_DAYS,
    SPRINT_POINTS,
    TEAM_DAYS,
    TIMEZONE,
    requester_email,
)
from tracker.domain.periods import week_of
from tracker.domain.vocabulary import CardStatus, LaneKind, Severity, Visibility
from tracker.domain.wording import counted
from tracker.domain.working_time import WorkingTime
from tracker.extensions import db
from tracker.models import Card, CardEvent, User
from tracker.services import boards, cards, desk, incidents, intake, reports, rotation, users
from tracker.services.common import Actor


@dataclass
class DemoCard:
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


class World:
    """The demo board, its people, and every card the simulation has made."""

    def __init__(self, now: datetime, weeks: int) -> None:
        self.now = now
        self.rng = random.Random(RANDOM_SEED)
        self.tz = ZoneInfo(TIMEZONE)
        self.work = WorkingTime(self.tz)  # the domain's working hours
        week_start, _ = week_of(now, self.tz)
        self.week_start = week_start
        self.start = self.work.next_start(week_start - timedelta(weeks=weeks))
        self.weeks = weeks
        self.last = (self.start - timedelta(days=7)).astimezone(UTC)
        self.cards: dict[int, DemoCard] = {}
        self.ready: dict[str, list[int]] = {
            LaneKind.EXPEDITE: [],
            LaneKind.SUPPORT: [],
            LaneKind.FEATURE: [],
        }
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

    # -- time ------------------------------------------------------------------------

    def at(self, moment: datetime) -> AbstractContextManager[None]:
        """Act at moment (never before the previous action, so history stays in order)."""
        moment = max(moment.astimezone(UTC), self.last + timedelta(milliseconds=1))
        self.last = moment
        return clock.fixed(moment)

    # -- people and board ------------------------------------------------------------

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

    def start_rotation(self) -> None:
        """The lead's support rotation from the first sprint: two on duty, two-sprint terms,
        staggered, from the lead and the three members (so the history's pulls follow it
        and the report shows what it absorbed)."""
        with self.at(self.start - timedelta(days=1)):
            rotation.save_setup(
                self.board_id,
                self.actors["lead"],
                enabled=True,
                on_duty=ROTATION_ON_DUTY,
                term_periods=ROTATION_TERM_SPRINTS,
                staggered=True,
                pool=[self.actors[name].id for name in CAPACITY],
            )

    # -- what the simulation knows ---------------------------------------------------

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

    def actor_for(self, card: DemoCard) -> Actor:
        if card.assignee is not None:
            return self.actors[self.usernames[card.assignee]]
        return self.actors["lead"]

    def open_in(self, lane: str, column: str) -> list[DemoCard]:
        return [c for c in self.cards.values() if c.lane == lane and c.column == column]

    def done_this_week(self, lane: str) -> list[DemoCard]:
        return [
            c
            for c in self.cards.values()
            if c.lane == lane and c.column == DONE and c.done_at and c.done_at >= self.week_start
        ]

    # -- actions (each one service call, one commit, history events) -----------------

    def create(self, moment: datetime, who: str, lane: str, fields: dict[str, Any]) -> DemoCard:
        with self.at(moment):
            card = cards.create_card(self.board_id, self.actors[who], self.lane_ids[lane], fields)
        return self.track(card, lane, fields)

    def track(self, card: Card, lane: str, fields: dict[str, Any]) -> DemoCard:
        """Follow a card the board has just got, at the end of its lane's ready queue."""
        sim = DemoCard(
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

    def file_request(self, moment: datetime, severity: str | None = None) -> DemoCard:
        """A customer reports a problem; support staff (sam) file it through intake."""
        component = self.rng.choices(list(COMPONENTS), [COMPONENT_WEIGHTS[c] for c in COMPONENTS])[
            0
        ]
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
        return self.file(moment, LaneKind.SUPPORT, values)

    def file(self, moment: datetime, lane: str, values: dict[str, Any]) -> DemoCard:
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

    def reply(self, card: DemoCard, actor: Actor) -> None:
        """Now and then the person who finished a request writes to the requester."""
        if card.lane != LaneKind.SUPPORT or random.Random(card.id).random() < 0.4:
            return
        with self.at(self.last + timedelta(minutes=3)):
            intake.add_comment(self.board_id, actor, card.id, REPLY, Visibility.REPLY)

    def answer(self, moment: datetime, card: DemoCard, *, ask: bool = False) -> None:
        """The request's holder replies to the requester (its first response); asking them
        something, the request then waits for their answer (services.desk)."""
        actor = self.actor_for(card)
        text = "Could you tell us which browser you use?" if ask else REPLY
        with self.at(moment):
            intake.add_comment(self.board_id, actor, card.id, text, Visibility.REPLY)
            if ask:
                desk.set_waiting(self.board_id, actor, card.id, True)

    def add_feature(self, moment: datetime) -> DemoCard:
        """The lead adds a feature: a new one, or now and then a follow-up to one done.

        A few new titles are kept for this week, so the board shows fresh work.
        """
        done = [
            c
            for c in self.cards.values()
            if c.lane == LaneKind.FEATURE and c.column == DONE and not c.followed_up
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
        card = self.create(moment, "lead", LaneKind.FEATURE, fields)
        card.followed_up = ": " in title  # no follow-ups of follow-ups
        return card

    def report_emergency(self, moment: datetime) -> DemoCard:
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
        return self.file(moment, LaneKind.EXPEDITE, values)

    def pull(self, moment: datetime, who: str) -> DemoCard | None:
        with self.at(moment):
            result = cards.pull_next(self.board_id, self.actors[who])
        if result.card is None:
            return None
        card = self.cards[result.card.id]
        self.ready[card.lane].remove(card.id)
        card.assignee = self.actors[who].id
        self.enter(card, PROGRESS)
        return card

    def move(self, moment: datetime, card: DemoCard, column: str, who: str | None = None) -> None:
        actor = self.actors[who] if who else self.actor_for(card)
        with self.at(moment):
            if card.lane == LaneKind.EXPEDITE and card.column == PROGRESS:
                # The responder records what mitigated it before it goes to review.
                note = MITIGATIONS.get(card.component, "Rolled back the last change")
                incidents.mitigate(self.board_id, actor, card.id, note)
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

    def enter(self, card: DemoCard, column: str) -> None:
        card.column = column
        card.stay += 1

    def assign(self, moment: datetime, card: DemoCard, to: str, by: str | None = None) -> None:
        actor = self.actors[by] if by else self.actor_for(card)
        with self.at(moment):
            cards.assign_card(self.board_id, actor, card.id, self.actors[to].id)
        card.assignee = self.actors[to].id

    def block(self, moment: datetime, card: DemoCard, blocked: bool, reason: str = "") -> None:
        with self.at(moment):
            cards.set_blocked(self.board_id, self.actor_for(card), card.id, blocked, reason)
        card.blocked = blocked

    def close(self, moment: datetime, card: DemoCard, why: str, note: str) -> None:
        with self.at(moment):
            cards.close_card(self.board_id, self.actors["lead"], card.id, why, note)
        if card.column == READY:
            self.ready[card.lane].remove(card.id)
        card.column = CardStatus.CLOSED

    def edit(self, moment: datetime, card: DemoCard, who: str, fields: dict[str, Any]) -> None:
        version = db.session.get(Card, card.id).version
        with self.at(moment):
            cards.edit_card(self.board_id, self.actors[who], card.id, version, fields)

    def to_top(self, moment: datetime, card: DemoCard) -> None:
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

    # -- the summary -----------------------------------------------------------------

    def summary(self) -> str:
        card_count = db.session.execute(
            select(func.count()).select_from(Card).where(Card.board_id == self.board_id)
        ).scalar_one()
        event_count = db.session.execute(
            select(func.count()).select_from(CardEvent).where(CardEvent.board_id == self.board_id)
        ).scalar_one()
        width = max(len(username) for username, *_ in PEOPLE)
        people = "\n".join(
            f"  {username:<{width}}  {name}, {ROLE_DOES[role]}"
            for username, name, _, role in PEOPLE
        )
        return (
            f"Seeded the demo board {BOARD_NAME!r} (board {self.board_id}, {TIMEZONE}): "
            f"{counted(card_count, 'card')} and {counted(event_count, 'history event')} over "
            f"{counted(self.weeks, 'week')}.\n"
            f"Everyone below sees the board; the role decides what they may do there. Log in "
            f"as any of them, password {DEMO_PASSWORD!r}:\n{people}"
        )
