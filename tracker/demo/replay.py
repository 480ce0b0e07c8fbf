"""The replay: the demo's weeks as a queue of happenings, each handled at its moment.

Every happening has a kind (Happening) and the HANDLERS table says which method handles
it; a handler acts through the world (tracker.demo.world) and may plan later happenings.
Times move through the domain's working hours (tracker.domain.working_time).
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from tracker.demo.script import (
    ACTIVE,
    BLOCK_REASONS,
    CAPACITY,
    DONE,
    LONG_BLOCK_CHANCE,
    LONG_BLOCK_HOURS,
    MEMBERS,
    PROGRESS,
    READY,
    REVIEW,
    SUPPORT_RATE,
)
from tracker.demo.world import DemoCard, World
from tracker.domain.vocabulary import CardStatus, LaneKind, Severity


class Happening(StrEnum):
    """What can happen in the simulated weeks (the payload each one carries)."""

    MORNING = "morning"  # the working day starts: people look for work
    PLANNING = "planning"  # Monday: the lead tops up the feature backlog
    REFILL = "refill"  # Thursday: the lead adds features when few are left
    ARRIVAL = "arrival"  # a support request comes in
    TRIAGE_CLOSE = "triage_close"  # card id: closed as duplicate or won't do
    RETRIAGE = "retriage"  # card id: its severity changes
    EMERGENCY = "emergency"  # a production emergency breaks
    ANSWER = "answer"  # (card id, username): someone takes the emergency
    PULL = "pull"  # username: they pull the next card if they have room
    REESTIMATE = "reestimate"  # card id: the feature turns out bigger
    BLOCK = "block"  # (card id, stay): the card gets blocked
    UNBLOCK = "unblock"  # (card id, stay): and unblocked
    FINISH = "finish"  # (card id, stay): the card moves on from its column


def _poisson(rng: random.Random, mean: float) -> int:
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


class Replay:
    """The simulated weeks, from the first working morning up to the final scene."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.rng = world.rng
        self.work = world.work
        self.queue: list[tuple[datetime, int, Happening, Any]] = []
        self.order = 0
        self.pending_pulls: set[str] = set()
        self.reestimates: dict[int, int] = {}

    def plan(self, moment: datetime, kind: Happening, payload: Any = None) -> None:
        self.order += 1
        heapq.heappush(self.queue, (moment, self.order, kind, payload))

    def run(self) -> None:
        """Play the weeks from the start to the final scene, happening by happening."""
        self.plan_arrivals()
        day = self.world.start
        while day < self.world.scene_start:
            local = day.astimezone(self.world.tz)
            if local.weekday() < 5:
                self.plan(self.work.day_moment(day, 0.01), Happening.MORNING)
                if local.weekday() == 0:
                    self.plan(self.work.day_moment(day, 0.05), Happening.PLANNING)
                if local.weekday() == 3:
                    self.plan(self.work.day_moment(day, 0.5), Happening.REFILL)
            day = self.work.next_morning(day)
        while self.queue and self.queue[0][0] < self.world.scene_start:
            moment, _, kind, payload = heapq.heappop(self.queue)
            HANDLERS[kind](self, moment, payload)

    def plan_arrivals(self) -> None:
        """Plan every working day's support requests, and the production emergencies."""
        day = self.world.start
        while day < self.world.scene_start:
            local = day.astimezone(self.world.tz)
            week = min((day - self.world.start).days // 7, self.world.weeks - 1)
            rate = SUPPORT_RATE[week % len(SUPPORT_RATE)] * (1.3 if local.weekday() == 0 else 1)
            if local.weekday() < 5:
                for _ in range(_poisson(self.rng, rate)):
                    self.plan(self.work.day_moment(day, self.rng.random()), Happening.ARRIVAL)
            day = self.work.next_morning(day)
        # A few production emergencies in past weeks, and one this week when there is time.
        # They break in the morning and are over the same day.
        past = self.rng.sample(range(1, self.world.weeks), k=min(5, self.world.weeks - 1))
        for week in past:
            day = self.world.start + timedelta(weeks=week, days=self.rng.randrange(5))
            self.plan(self.work.day_moment(day, self.rng.uniform(0, 0.5)), Happening.EMERGENCY)
        this_week = [
            self.work.day_moment(
                self.world.week_start + timedelta(days=d), self.rng.uniform(0, 0.5)
            )
            for d in range(5)
        ]
        this_week = [m for m in this_week if self.work.add(m, 4) < self.world.scene_start]
        if this_week:
            self.plan(self.rng.choice(this_week), Happening.EMERGENCY)

    def dispatch(self, moment: datetime) -> None:
        """Everyone with room looks for the next card a little later."""
        for who in self.rng.sample(list(CAPACITY), k=len(CAPACITY)):
            if who not in self.pending_pulls and self.world.load(who) < CAPACITY[who]:
                self.pending_pulls.add(who)
                self.plan(self.work.add(moment, self.rng.uniform(0.05, 0.6)), Happening.PULL, who)

    def start_stay(self, moment: datetime, card: DemoCard) -> None:
        """Plan when the card leaves its column, and maybe a block on the way."""
        rng = self.rng
        if card.lane == LaneKind.EXPEDITE:
            hours = rng.uniform(0.7, 2.2) if card.column == PROGRESS else rng.uniform(0.2, 0.6)
        elif card.lane == LaneKind.SUPPORT:
            hours = rng.uniform(1, 12) if card.column == PROGRESS else rng.uniform(0.3, 3)
        else:
            estimate = card.estimate or 3
            hours = estimate * rng.uniform(5, 9) if card.column == PROGRESS else rng.uniform(1, 6)
        chance = {LaneKind.EXPEDITE: 0, LaneKind.SUPPORT: 0.08, LaneKind.FEATURE: 0.15}[card.lane]
        if card.column == PROGRESS and rng.random() < chance:
            part = rng.uniform(0.2, 0.8)
            blocked_at = self.work.add(moment, hours * part)
            waited = rng.uniform(2, 20)
            if rng.random() < LONG_BLOCK_CHANCE:
                waited = rng.uniform(*LONG_BLOCK_HOURS)
            unblocked_at = self.work.add(blocked_at, waited)
            self.plan(blocked_at, Happening.BLOCK, (card.id, card.stay))
            self.plan(unblocked_at, Happening.UNBLOCK, (card.id, card.stay))
            finish = self.work.add(unblocked_at, hours * (1 - part))
        else:
            finish = self.work.add(moment, hours)
        self.plan(finish, Happening.FINISH, (card.id, card.stay))

    # -- the handlers -----------------------------------------------------------------------

    def on_morning(self, moment: datetime, _: Any) -> None:
        self.dispatch(moment)

    def on_planning(self, moment: datetime, _: Any) -> None:
        """Monday planning: maybe drop a feature, then fill the backlog to six."""
        ready = [self.world.cards[cid] for cid in self.world.ready[LaneKind.FEATURE]]
        if len(ready) > 3 and self.rng.random() < 0.3:
            dropped = self.rng.choice(ready)
            self.world.close(
                moment, dropped, "wont_do", "Dropped at planning: no customer asked for it."
            )
        for i in range(6 - len(self.world.ready[LaneKind.FEATURE])):
            self.world.add_feature(moment + timedelta(minutes=3 * (i + 1)))
        if len(self.world.ready[LaneKind.FEATURE]) > 1 and self.rng.random() < 0.5:
            self.world.to_top(
                moment + timedelta(minutes=30),
                self.world.cards[self.world.ready[LaneKind.FEATURE][-1]],
            )
        self.dispatch(moment)

    def on_refill(self, moment: datetime, _: Any) -> None:
        for i in range(3 - len(self.world.ready[LaneKind.FEATURE])):
            self.world.add_feature(moment + timedelta(minutes=4 * (i + 1)))

    def on_arrival(self, moment: datetime, _: Any) -> None:
        card = self.world.file_request(moment)
        roll = self.rng.random()
        if roll < 0.1:
            self.plan(
                self.work.add(moment, self.rng.uniform(0.3, 2)), Happening.TRIAGE_CLOSE, card.id
            )
        elif roll < 0.22:
            self.plan(self.work.add(moment, self.rng.uniform(0.1, 1)), Happening.RETRIAGE, card.id)
        self.dispatch(moment)

    def on_triage_close(self, moment: datetime, card_id: int) -> None:
        card = self.world.cards[card_id]
        if card.column != READY:
            return
        earlier = [
            c
            for c in self.world.cards.values()
            if c.lane == LaneKind.SUPPORT and c.component == card.component and c.id < card.id
        ]
        if earlier and self.rng.random() < 0.6:
            original = self.rng.choice(earlier)
            self.world.close(moment, card, "duplicate", f"Same problem as {original.ref}.")
        else:
            self.world.close(
                moment, card, "wont_do", "Works as designed; explained to the customer."
            )

    def on_retriage(self, moment: datetime, card_id: int) -> None:
        card = self.world.cards[card_id]
        if card.column == CardStatus.CLOSED:
            return
        s2, s3, s4 = Severity.S2, Severity.S3, Severity.S4
        new = {s2: s3, s3: s2, s4: s3}[card.severity or s3]
        self.world.edit(moment, card, "lead", {"severity": new})
        card.severity = new

    def on_emergency(self, moment: datetime, _: Any) -> None:
        if (
            self.world.ready[LaneKind.EXPEDITE]
            or self.world.lane_count(LaneKind.EXPEDITE)
            or self.world.done_this_week(LaneKind.EXPEDITE)
        ):
            return  # one emergency at a time, and one a week, is plenty
        card = self.world.report_emergency(moment)
        who = self.world.least_busy()
        self.plan(
            self.work.add(moment, self.rng.uniform(0.08, 0.4)), Happening.ANSWER, (card.id, who)
        )

    def on_answer(self, moment: datetime, payload: tuple[int, str]) -> None:
        card_id, who = payload
        if self.world.cards[card_id].column != READY:
            return  # someone pulled it already (pull takes expedite cards first)
        pulled = self.world.pull(moment, who)
        if pulled is not None:
            self.start_stay(moment, pulled)

    def on_pull(self, moment: datetime, who: str) -> None:
        self.pending_pulls.discard(who)
        if self.world.load(who) >= CAPACITY[who] or not self.world.pullable():
            return
        card = self.world.pull(moment, who)
        if card is None:
            return
        self.start_stay(moment, card)
        if card.lane == LaneKind.FEATURE and self.rng.random() < 0.2:
            estimate = card.estimate or 3
            bigger = {1: 2, 2: 3, 3: 5, 5: 8, 8: 13}.get(estimate, estimate + 1)
            self.plan(
                self.work.add(moment, self.rng.uniform(0.5, 3)), Happening.REESTIMATE, card.id
            )
            self.reestimates[card.id] = bigger
        if self.world.load(who) < CAPACITY[who]:
            self.dispatch(moment)

    def on_reestimate(self, moment: datetime, card_id: int) -> None:
        card = self.world.cards[card_id]
        if card.column in ACTIVE:
            who = self.world.usernames[card.assignee] if card.assignee else "lead"
            card.estimate = self.reestimates[card_id]
            self.world.edit(moment, card, who, {"estimate": card.estimate})

    def on_block(self, moment: datetime, payload: tuple[int, int]) -> None:
        card = self.world.cards[payload[0]]
        if card.stay == payload[1] and not card.blocked:
            self.world.block(moment, card, True, self.rng.choice(BLOCK_REASONS[card.lane]))

    def on_unblock(self, moment: datetime, payload: tuple[int, int]) -> None:
        card = self.world.cards[payload[0]]
        if card.stay == payload[1] and card.blocked:
            self.world.block(moment, card, False)

    def on_finish(self, moment: datetime, payload: tuple[int, int]) -> None:
        card = self.world.cards[payload[0]]
        if card.stay != payload[1] or card.blocked:
            return
        if card.column == PROGRESS:
            author = self.world.usernames[card.assignee] if card.assignee else "lead"
            self.world.move(moment, card, REVIEW)
            if card.lane == LaneKind.FEATURE and self.rng.random() < 0.35:
                others = tuple(name for name in MEMBERS if name != author)
                reviewer = self.world.least_busy(others)
                self.world.assign(moment + timedelta(minutes=5), card, reviewer, by=author)
            self.start_stay(moment, card)
        elif card.column == REVIEW:
            self.world.move(moment, card, DONE)
            self.dispatch(moment)


HANDLERS: dict[Happening, Callable[[Replay, datetime, Any], None]] = {
    Happening.MORNING: Replay.on_morning,
    Happening.PLANNING: Replay.on_planning,
    Happening.REFILL: Replay.on_refill,
    Happening.ARRIVAL: Replay.on_arrival,
    Happening.TRIAGE_CLOSE: Replay.on_triage_close,
    Happening.RETRIAGE: Replay.on_retriage,
    Happening.EMERGENCY: Replay.on_emergency,
    Happening.ANSWER: Replay.on_answer,
    Happening.PULL: Replay.on_pull,
    Happening.REESTIMATE: Replay.on_reestimate,
    Happening.BLOCK: Replay.on_block,
    Happening.UNBLOCK: Replay.on_unblock,
    Happening.FINISH: Replay.on_finish,
}
