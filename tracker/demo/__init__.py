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

The package: script (the people, board, calendar and words), world (the board and the
actions, each one service call), replay (the weeks as a queue of happenings with an
explicit table of handlers), scene (the final scene), seeding (the command's entry).
"""

from tracker.demo.replay import Replay
from tracker.demo.script import DEMO_PASSWORD, PEOPLE, WEEKS
from tracker.demo.seeding import ABSENT, COMPLETE, PARTIAL, seed, seed_state

__all__ = [
    "ABSENT",
    "COMPLETE",
    "DEMO_PASSWORD",
    "PARTIAL",
    "PEOPLE",
    "WEEKS",
    "Replay",
    "seed",
    "seed_state",
]
