"""The final scene: a few dozen actions in the last working hours before now that leave
the board as a newcomer should see it, whatever the replay left: every column of Support
and Feature in use, some cards done this week, one emergency done and none waiting, two
cards blocked, and one lane over its limit through a lead's recorded override. Then the
past incidents: the two latest have their post-incident reviews written, one follow-up
finished and one still open, and the one before them was a drill."""

from __future__ import annotations

from datetime import datetime, timedelta

from tracker.demo.script import (
    ACTIVE,
    BLOCK_REASONS,
    CAPACITY,
    DONE,
    MEMBERS,
    MITIGATIONS,
    PROGRESS,
    REVIEW,
    REVIEW_SECTIONS,
    SCENE_SLOTS,
)
from tracker.demo.world import DemoCard, World
from tracker.domain.reviews import permanent_fix_title
from tracker.domain.vocabulary import LaneKind, Severity
from tracker.services import cards, incidents, reviews


class Scene:
    """Acts on the world at evenly spaced moments from its scene_start up to now."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.scene_slot = 0

    def play(self) -> None:
        """Leave the board as a newcomer should see it, whatever the simulation left."""
        self.finish_emergencies()
        for lane in (LaneKind.SUPPORT, LaneKind.FEATURE):
            self.ensure_done_this_week(lane)
            self.ensure_in(lane, REVIEW)
            self.ensure_in(lane, PROGRESS)
        self.give_everyone_work()
        self.override_feature_limit()
        for lane, wanted in ((LaneKind.SUPPORT, 2), (LaneKind.FEATURE, 3)):
            while len(self.world.ready[lane]) < wanted:
                if lane == LaneKind.SUPPORT:
                    self.world.file_request(self.scene_time(4))
                else:
                    self.world.add_feature(self.scene_time(2))
        self.leave_two_blocked()
        self.review_incidents()
        self.show_the_desk()

    def scene_time(self, slots: int = 1) -> datetime:
        """The next moment of the final scene, `slots` steps after the previous one."""
        self.scene_slot += slots
        fraction = min(self.scene_slot / SCENE_SLOTS, 1.0)
        if self.world.scene_in_working_time:
            moment = self.world.work.add(self.world.scene_start, 2 * fraction)
        else:
            moment = self.world.scene_start + (self.world.now - self.world.scene_start) * fraction
        return min(moment, self.world.now - timedelta(seconds=1))

    def finish_emergencies(self) -> None:
        """No emergency left open, and one handled this week."""
        for card_id in list(self.world.ready[LaneKind.EXPEDITE]):
            self.world.pull(self.scene_time(8), self.world.least_busy())
            assert self.world.cards[card_id].column == PROGRESS
        for card in self.world.open_in(LaneKind.EXPEDITE, PROGRESS):
            self.world.move(self.scene_time(20), card, REVIEW)
        for card in self.world.open_in(LaneKind.EXPEDITE, REVIEW):
            self.world.move(self.scene_time(10), card, DONE)
        if not self.world.done_this_week(LaneKind.EXPEDITE):
            card = self.world.report_emergency(self.scene_time())
            self.world.pull(self.scene_time(8), self.world.least_busy())
            self.world.move(self.scene_time(30), card, REVIEW)
            self.world.move(self.scene_time(10), card, DONE)

    def take_top(self, lane: str) -> DemoCard:
        """Someone with the least work takes the top ready card of lane."""
        if not self.world.ready[lane]:
            if lane == LaneKind.SUPPORT:
                self.world.file_request(self.scene_time(2))
            else:
                self.world.add_feature(self.scene_time(2))
        who = self.world.least_busy()
        takes_lane = lane == LaneKind.SUPPORT or not (
            self.world.ready[LaneKind.SUPPORT] and self.world.has_room(LaneKind.SUPPORT)
        )
        if takes_lane and not self.world.ready[LaneKind.EXPEDITE]:
            card = self.world.pull(self.scene_time(3), who)
            assert card is not None and card.lane == lane
            return card
        card = self.world.cards[self.world.ready[lane][0]]
        self.world.assign(self.scene_time(2), card, who, by=who)
        self.world.move(self.scene_time(1), card, PROGRESS, who=who)
        return card

    def make_room(self, lane: str) -> None:
        """Finish reviews until the lane has room for one more card."""
        while not self.world.has_room(lane):
            reviews = [c for c in self.world.open_in(lane, REVIEW) if not c.blocked]
            progress = [c for c in self.world.open_in(lane, PROGRESS) if not c.blocked]
            if reviews:
                self.world.move(self.scene_time(3), reviews[0], DONE)
            elif progress:
                self.world.move(self.scene_time(3), progress[0], REVIEW)
            else:  # everything in the lane is blocked: one gets unblocked
                self.world.block(self.scene_time(3), self.world.open_in(lane, PROGRESS)[0], False)

    def ensure_done_this_week(self, lane: str) -> None:
        if self.world.done_this_week(lane):
            return
        reviews = [c for c in self.world.open_in(lane, REVIEW) if not c.blocked]
        if not reviews:
            progress = [c for c in self.world.open_in(lane, PROGRESS) if not c.blocked]
            if not progress:
                self.make_room(lane)
                progress = [self.take_top(lane)]
            self.world.move(self.scene_time(6), progress[0], REVIEW)
            reviews = [progress[0]]
        self.world.move(self.scene_time(6), reviews[0], DONE)

    def ensure_in(self, lane: str, column: str) -> None:
        if self.world.open_in(lane, column):
            return
        if column == REVIEW:
            progress = [c for c in self.world.open_in(lane, PROGRESS) if not c.blocked]
            if not progress:
                self.make_room(lane)
                progress = [self.take_top(lane)]
            self.world.move(self.scene_time(4), progress[0], REVIEW)
        else:
            self.make_room(lane)
            self.take_top(lane)

    def give_everyone_work(self) -> None:
        """Everyone holds some work: they pull, or take over a card from someone busy."""
        for who in CAPACITY:
            if self.world.load(who):
                continue
            if self.world.pullable() and not self.world.ready[LaneKind.EXPEDITE]:
                card = self.world.pull(self.scene_time(3), who)
                if card is not None:
                    continue
            busiest = max(CAPACITY, key=self.world.load)
            held = [
                c
                for c in self.world.cards.values()
                if c.column in ACTIVE and c.assignee == self.world.actors[busiest].id
            ]
            self.world.assign(self.scene_time(3), held[0], who, by=busiest)

    def override_feature_limit(self) -> None:
        """The lead starts one feature over the limit, saying why: a recorded override."""
        while self.world.has_room(LaneKind.FEATURE):
            self.take_top(LaneKind.FEATURE)
        if not self.world.ready[LaneKind.FEATURE]:
            self.world.add_feature(self.scene_time(2))
        card = self.world.cards[self.world.ready[LaneKind.FEATURE][0]]
        reason = "Promised to a key customer for their audit next week; agreed in stand-up."
        with self.world.at(self.scene_time(4)):
            cards.move_card(
                self.world.board_id,
                self.world.actors["lead"],
                card.id,
                lane_id=self.world.lane_ids[LaneKind.FEATURE],
                column_id=self.world.column_ids[PROGRESS],
                reason=reason,
            )
        self.world.ready[LaneKind.FEATURE].remove(card.id)
        self.world.enter(card, PROGRESS)
        self.world.assign(self.scene_time(2), card, self.world.least_busy(MEMBERS), by="lead")

    def show_the_desk(self) -> None:
        """The support desk's queue shows requests on time and late: those being worked on
        get their first reply now (one of them asks the requester something and waits);
        the older ones in Ready stay unanswered, late on their targets."""
        working = [
            c
            for column in (PROGRESS, REVIEW)
            for c in self.world.open_in(LaneKind.SUPPORT, column)
            if c.assignee is not None
        ]
        for n, card in enumerate(working[:2]):
            self.world.answer(self.scene_time(1), card, ask=n == 1)
        self.world.file_request(self.scene_time(1), Severity.S3)  # just in: well in time

    def leave_two_blocked(self) -> None:
        """Exactly two cards blocked, with reasons: unblock extras, or block one per lane."""
        blocked = [c for c in self.world.cards.values() if c.blocked and c.column in ACTIVE]
        for card in blocked[2:]:
            self.world.block(self.scene_time(3), card, False)
        blocked = blocked[:2]
        for lane in (LaneKind.SUPPORT, LaneKind.FEATURE):
            if len(blocked) >= 2 or any(c.lane == lane for c in blocked):
                continue
            candidates = [c for c in self.world.open_in(lane, PROGRESS) if not c.blocked]
            candidates = candidates or [
                c for c in self.world.open_in(lane, REVIEW) if not c.blocked
            ]
            reason = self.world.rng.choice(BLOCK_REASONS[lane])
            self.world.block(self.scene_time(3), candidates[0], True, reason)
            blocked.append(candidates[0])

    def review_incidents(self) -> None:
        """The two latest finished emergencies get their reviews written by the lead, each
        with a follow-up to make the temporary fix permanent (the older one finished, the
        newer one still open); the emergency before them is marked a drill."""
        finished = sorted(
            (c for c in self.world.cards.values() if c.lane == LaneKind.EXPEDITE and c.done_at),
            key=lambda c: c.done_at,
        )
        reviewed = finished[-2:]
        lead = self.world.actors["lead"]
        board_id = self.world.board_id
        if len(finished) >= 3:  # a short demo (a test's few weeks) may have fewer
            with self.world.at(self.scene_time(1)):
                incidents.set_drill(board_id, lead, finished[-3].id, True)
        for n, card in enumerate(reviewed):
            with self.world.at(self.scene_time(2)):
                reviews.start_review(board_id, lead, card.id)
            with self.world.at(self.scene_time(2)):
                reviews.save_review(board_id, lead, card.id, dict(REVIEW_SECTIONS))
            note = MITIGATIONS.get(card.component, "the rollback")
            with self.world.at(self.scene_time(1)):
                follow_up = reviews.add_follow_up(
                    board_id, lead, card.id, permanent_fix_title(note), LaneKind.FEATURE
                )
            if n == 0:  # the older incident's follow-up is done already
                with self.world.at(self.scene_time(2)):
                    cards.move_card(
                        board_id,
                        lead,
                        follow_up.id,
                        lane_id=self.world.lane_ids[LaneKind.FEATURE],
                        column_id=self.world.column_ids[DONE],
                    )
