"""The support rotation's use cases: a lead sets it up, edits its schedule and marks people
away; everyone reads who is on duty (tracker.domain.rotation decides the schedule).

Every change is audited (old -> new) and bumps the board's version: the board's header
says who is on duty, and Pull next follows the rotation.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, bindparam, delete, select

from tracker.domain import pull
from tracker.domain import rotation as rules
from tracker.domain.errors import InvalidRequest, NotFound
from tracker.domain.policy import Action
from tracker.domain.rotation import Away, Setup, Term
from tracker.extensions import db
from tracker.models import Board, Rotation, RotationAway, RotationPerson, RotationTerm, Sprint, User
from tracker.services import audit
from tracker.services.common import Actor, assignable_ids, require_lead, today_on, whole_id
from tracker.store import bump_version, lock_board

WHAT = "the support rotation"
T = TypeVar("T", RotationTerm, RotationAway)
TERMS_AHEAD = rules.TERMS_AHEAD


@dataclass(frozen=True)
class TermRow:
    """A term as the rotation page and the board header show it."""

    id: int
    seat: int
    start: date
    end: date
    person_id: int | None
    name: str  # "" when nobody took it
    state: str  # "past", "running" or "coming"

    @property
    def until(self) -> date:
        """The term's last working day (a term runs on over the weekend before the next)."""
        return rules.last_weekday(self.end)


@dataclass(frozen=True)
class AwayRow:
    id: int
    person_id: int
    name: str
    start: date
    end: date


@dataclass(frozen=True)
class RotationPage:
    """Everything the rotation page shows."""

    enabled: bool
    setup: Setup
    unit: str  # "sprints" or "weeks": what a term's length counts
    pool: list[int]
    candidates: list[tuple[int, str]]  # the people who may hold cards on the board
    terms: list[TermRow]
    away: list[AwayRow]
    warnings: list[str]
    today: date


@dataclass(frozen=True)
class Duty:
    """Who is on duty now (with the last day of their term) and who comes next."""

    now: list[TermRow]
    next: list[TermRow]

    @property
    def people(self) -> set[int]:
        return {t.person_id for t in self.now if t.person_id is not None}


# Reading -------------------------------------------------------------------------------


# What the set-up form offers a board that never ran a rotation: two on duty, for terms
# of two periods, staggered (the staggering on by default when two or more are on duty).
FIRST_SETUP = Setup(on_duty=2, term_periods=2, staggered=True)


def _settings(board_id: int) -> Rotation:
    return db.session.get(Rotation, board_id) or Rotation(
        board_id=board_id,
        enabled=False,
        on_duty=FIRST_SETUP.on_duty,
        term_periods=FIRST_SETUP.term_periods,
        staggered=FIRST_SETUP.staggered,
    )


def _setup(row: Rotation) -> Setup:
    return Setup(row.on_duty, row.term_periods, row.staggered)


def _sprint_spans(board_id: int) -> list[rules.Span]:
    query = select(Sprint.start_on, Sprint.end_on).where(Sprint.board_id == board_id)
    return [
        (row.start_on, row.end_on) for row in db.session.execute(query.order_by(Sprint.start_on))
    ]


def _unit(board_id: int) -> str:
    return "sprints" if _sprint_spans(board_id) else "weeks"


def _names(ids: Sequence[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = db.session.execute(select(User.id, User.name).where(User.id.in_(wanted)))
    return {row.id: row.name for row in rows}


def _term_rows(board_id: int, today: date, *, since: date | None = None) -> list[TermRow]:
    query = select(RotationTerm).where(RotationTerm.board_id == board_id)
    if since is not None:
        query = query.where(RotationTerm.end_on >= since)
    terms = list(
        db.session.execute(query.order_by(RotationTerm.start_on, RotationTerm.seat)).scalars()
    )
    names = _names([t.user_id for t in terms])
    return [
        TermRow(
            t.id,
            t.seat,
            t.start_on,
            t.end_on,
            t.user_id,
            names.get(t.user_id, "") if t.user_id is not None else "",
            "past" if t.end_on < today else "running" if t.start_on <= today else "coming",
        )
        for t in terms
    ]


def _pool(board_id: int) -> list[int]:
    query = select(RotationPerson.user_id).where(RotationPerson.board_id == board_id)
    return sorted(db.session.execute(query).scalars())


def _away(board_id: int) -> list[RotationAway]:
    query = select(RotationAway).where(RotationAway.board_id == board_id)
    return list(
        db.session.execute(query.order_by(RotationAway.start_on, RotationAway.id)).scalars()
    )


def candidates(board_id: int) -> list[tuple[int, str]]:
    """The people who may join the pool (those who may hold cards on the board), by name."""
    ids = assignable_ids(board_id)
    names = _names(list(ids))
    return sorted(names.items(), key=lambda item: (item[1].casefold(), item[0]))


def page(board: Board) -> RotationPage:
    """The rotation's set-up, pool, schedule (the last six months on) and away dates."""
    row = _settings(board.id)
    today = today_on(board)
    since = today - timedelta(days=rules.FAIRNESS_DAYS)
    terms = _term_rows(board.id, today, since=since)
    away_rows = _away(board.id)
    names = _names([a.user_id for a in away_rows])
    pool = _pool(board.id)
    warnings = []
    if row.enabled and len(pool) < row.on_duty:
        warnings.append(
            f"The pool has {len(pool)} for {row.on_duty} on duty at once: add people to the "
            "pool or put fewer on duty."
        )
    warnings += [
        f"Nobody is on duty from {t.start:%a %d %b} to {t.end:%a %d %b} (seat {t.seat + 1}): "
        "everyone in the pool is on duty or away then."
        for t in terms
        if t.person_id is None and t.state != "past"
    ]
    return RotationPage(
        enabled=row.enabled,
        setup=_setup(row),
        unit=_unit(board.id),
        pool=pool,
        candidates=candidates(board.id),
        terms=terms,
        away=[
            AwayRow(a.id, a.user_id, names.get(a.user_id, ""), a.start_on, a.end_on)
            for a in away_rows
        ],
        warnings=warnings,
        today=today,
    )


def duty(board: Board, today: date | None = None) -> Duty | None:
    """Who is on support duty on the board today and who comes next; None when the board
    runs no rotation."""
    row = db.session.get(Rotation, board.id)
    if row is None or not row.enabled:
        return None
    today = today or today_on(board)
    terms = _term_rows(board.id, today, since=today)
    as_terms = {t.id: Term(t.seat, t.start, t.end, t.person_id) for t in terms}
    now = rules.on_duty(as_terms.values(), today)
    coming = rules.next_up(as_terms.values(), today)
    by_term = {(t.seat, t.start): t for t in terms}
    return Duty(
        now=[by_term[(t.seat, t.start)] for t in now],
        next=[by_term[(t.seat, t.start)] for t in coming],
    )


# Changing ------------------------------------------------------------------------------


def _audit(actor: Actor, board_id: int, detail: dict[str, Any]) -> None:
    audit.record(
        "rotation.changed",
        actor_id=actor.id,
        address=actor.address,
        board_id=board_id,
        target_type="board",
        target_id=board_id,
        detail=detail,
    )


def _spans(board_id: int, today: date, count: int) -> list[rules.Span]:
    return rules.upcoming_spans(_sprint_spans(board_id), today, count)


def _regenerate(board: Board, row: Rotation, today: date) -> list[str]:
    """Replace the terms not yet begun with a new schedule; past and running terms stay."""
    if not row.enabled:
        return []
    db.session.execute(
        delete(RotationTerm).where(RotationTerm.board_id == board.id, RotationTerm.start_on > today)
    )
    kept_rows = list(
        db.session.execute(
            select(RotationTerm).where(
                RotationTerm.board_id == board.id,
                RotationTerm.seat < row.on_duty,
                RotationTerm.end_on >= today - timedelta(days=rules.FAIRNESS_DAYS),
            )
        ).scalars()
    )
    kept = [Term(t.seat, t.start_on, t.end_on, t.user_id) for t in kept_rows]
    pool_ids = _pool(board.id)
    names = _names(pool_ids)
    pool = {uid: names.get(uid, "") for uid in pool_ids}
    served = rules.duty_days(kept, today - timedelta(days=rules.FAIRNESS_DAYS), today)
    spans = _spans(board.id, today, rules.TERMS_AHEAD * row.term_periods + row.term_periods)
    away = [Away(a.user_id, a.start_on, a.end_on) for a in _away(board.id)]
    schedule = rules.plan(spans, rules.fair_order(pool, served), _setup(row), kept=kept, away=away)
    for term in schedule.terms:
        if term not in kept:
            db.session.add(
                RotationTerm(
                    board_id=board.id,
                    seat=term.seat,
                    start_on=term.start,
                    end_on=term.end,
                    user_id=term.person,
                )
            )
    return list(schedule.warnings)


def save_setup(
    board_id: int,
    actor: Actor,
    *,
    enabled: bool,
    on_duty: int,
    term_periods: int,
    staggered: bool,
    pool: Sequence[int],
) -> list[str]:
    """Turn the rotation on or off, set how it runs and who is in the pool, and regenerate
    the terms not yet begun. Returns the schedule's warnings."""
    require_lead(actor, WHAT, Action.MANAGE_ROTATION)
    board = lock_board(board_id)
    setup = rules.check_setup(Setup(on_duty, term_periods, staggered), _unit(board_id))
    allowed = assignable_ids(board_id)
    wanted = set(pool)
    if not wanted <= allowed:
        raise InvalidRequest("Only people who may hold cards on this board can take support duty.")
    if enabled and not wanted:
        raise InvalidRequest("Pick the people who take support duty (the pool) first.")
    row = db.session.get(Rotation, board_id)
    if row is None:
        row = Rotation(board_id=board_id, enabled=False, on_duty=1, term_periods=1, staggered=False)
        db.session.add(row)
    before = {
        "enabled": row.enabled,
        "on_duty": row.on_duty,
        "term_periods": row.term_periods,
        "staggered": row.staggered,
        "pool": _pool(board_id),
    }
    row.enabled, row.on_duty = enabled, setup.on_duty
    row.term_periods, row.staggered = setup.term_periods, setup.staggered
    current = set(before["pool"])
    db.session.execute(
        delete(RotationPerson).where(
            RotationPerson.board_id == board_id, RotationPerson.user_id.in_(current - wanted)
        )
    )
    for user_id in sorted(wanted - current):
        db.session.add(RotationPerson(board_id=board_id, user_id=user_id))
    db.session.flush()
    after = {
        "enabled": enabled,
        "on_duty": setup.on_duty,
        "term_periods": setup.term_periods,
        "staggered": setup.staggered,
        "pool": sorted(wanted),
    }
    changes = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
    warnings = _regenerate(board, row, today_on(board))
    if changes:
        _audit(actor, board_id, changes)
    bump_version(board)
    db.session.commit()
    return warnings


def regenerate(board_id: int, actor: Actor) -> list[str]:
    """Generate the schedule's coming terms again (the past and running terms stay)."""
    require_lead(actor, WHAT, Action.MANAGE_ROTATION)
    board = lock_board(board_id)
    row = _settings(board_id)
    if not row.enabled:
        raise InvalidRequest("Turn the rotation on first.")
    warnings = _regenerate(board, row, today_on(board))
    _audit(actor, board_id, {"schedule": ["", "regenerated"]})
    bump_version(board)
    db.session.commit()
    return warnings


def _of_board(model: type[T], board_id: int, row_id: Any, what: str) -> T:
    """The board's row of model with that id, or NotFound naming what it is."""
    row = db.session.get(model, whole_id(row_id))
    if row is None or row.board_id != board_id:
        raise NotFound(f"That {what} is not in this board's rotation.")
    return row


def get_term(board_id: int, term_id: Any) -> RotationTerm:
    """The board's rotation term, or NotFound."""
    return _of_board(RotationTerm, board_id, term_id, "term")


def _check_no_clash(board_id: int) -> None:
    terms = db.session.execute(
        select(RotationTerm).where(RotationTerm.board_id == board_id)
    ).scalars()
    found = rules.clashes([Term(t.seat, t.start_on, t.end_on, t.user_id) for t in terms])
    if found:
        one, _ = found[0]
        name = _names([one.person]).get(one.person, "That person")
        raise InvalidRequest(
            f"That would put {name} on duty twice at once ({one.start:%a %d %b} to "
            f"{one.end:%a %d %b}). Pick someone else."
        )


def _not_finished(term: RotationTerm, today: date) -> None:
    if term.end_on < today:
        raise InvalidRequest("That term is over: the past stays as it was.")


def swap_terms(board_id: int, actor: Actor, one_id: Any, other_id: Any) -> None:
    """Exchange the people of two terms not yet over."""
    require_lead(actor, WHAT, Action.MANAGE_ROTATION)
    board = lock_board(board_id)
    today = today_on(board)
    one, other = get_term(board_id, one_id), get_term(board_id, other_id)
    if one.id == other.id:
        raise InvalidRequest("Pick two different terms to swap.")
    for term in (one, other):
        _not_finished(term, today)
    names = _names([one.user_id, other.user_id])
    one.user_id, other.user_id = other.user_id, one.user_id
    db.session.flush()
    _check_no_clash(board_id)
    _audit(
        actor,
        board_id,
        {
            f"term {one.start_on:%Y-%m-%d} seat {one.seat + 1}": [
                names.get(other.user_id, ""),
                names.get(one.user_id, ""),
            ],
            f"term {other.start_on:%Y-%m-%d} seat {other.seat + 1}": [
                names.get(one.user_id, ""),
                names.get(other.user_id, ""),
            ],
        },
    )
    bump_version(board)
    db.session.commit()


def replace_person(board_id: int, actor: Actor, term_id: Any, user_id: Any) -> None:
    """Put another person of the pool on one term not yet over."""
    require_lead(actor, WHAT, Action.MANAGE_ROTATION)
    board = lock_board(board_id)
    term = get_term(board_id, term_id)
    _not_finished(term, today_on(board))
    person = whole_id(user_id)
    if person not in _pool(board_id):
        raise InvalidRequest("Pick someone from the rotation's pool.")
    before = term.user_id
    term.user_id = person
    db.session.flush()
    _check_no_clash(board_id)
    names = _names([before, person])
    if before != person:
        _audit(
            actor,
            board_id,
            {
                f"term {term.start_on:%Y-%m-%d} seat {term.seat + 1}": [
                    names.get(before, "") if before else "",
                    names.get(person, ""),
                ]
            },
        )
    bump_version(board)
    db.session.commit()


def add_away(board_id: int, actor: Actor, user_id: Any, start: date, end: date) -> list[str]:
    """Mark a person of the pool away from start to end; the coming terms are generated
    again so that someone else takes theirs."""
    require_lead(actor, WHAT, Action.MANAGE_ROTATION)
    board = lock_board(board_id)
    person = whole_id(user_id)
    if person not in _pool(board_id):
        raise InvalidRequest("Pick someone from the rotation's pool.")
    if end < start:
        raise InvalidRequest("The last day away comes on or after the first.")
    if (end - start).days > 366:
        raise InvalidRequest("Mark at most a year away at once.")
    db.session.add(RotationAway(board_id=board_id, user_id=person, start_on=start, end_on=end))
    name = _names([person]).get(person, "")
    _audit(actor, board_id, {"away": ["", f"{name} {start:%Y-%m-%d} to {end:%Y-%m-%d}"]})
    warnings = _regenerate(board, _settings(board_id), today_on(board))
    bump_version(board)
    db.session.commit()
    return warnings


def get_away(board_id: int, away_id: Any) -> RotationAway:
    """The board's rotation away period, or NotFound."""
    return _of_board(RotationAway, board_id, away_id, "away period")


def remove_away(board_id: int, actor: Actor, away_id: Any) -> None:
    """Forget an away period (the schedule stays until regenerated)."""
    require_lead(actor, WHAT, Action.MANAGE_ROTATION)
    board = lock_board(board_id)
    away = get_away(board_id, away_id)
    name = _names([away.user_id]).get(away.user_id, "")
    _audit(
        actor,
        board_id,
        {"away": [f"{name} {away.start_on:%Y-%m-%d} to {away.end_on:%Y-%m-%d}", ""]},
    )
    db.session.delete(away)
    bump_version(board)
    db.session.commit()


@functools.cache
def _duty_statement() -> Select:
    """Today's terms of a board's rotation, with whether it runs (one row, enabled and no
    term, when nobody is on duty; no row without a rotation). Built once: a pull asks it
    every time, and building and compiling it again cost about a third of a millisecond of
    bench/board.py's `pull_ms`."""
    today = bindparam("today")
    return (
        select(Rotation.enabled, RotationTerm.user_id, User.name)
        .outerjoin(
            RotationTerm,
            (RotationTerm.board_id == Rotation.board_id)
            & (RotationTerm.start_on <= today)
            & (RotationTerm.end_on >= today),
        )
        .outerjoin(User, User.id == RotationTerm.user_id)
        .where(Rotation.board_id == bindparam("board_id"))
        .order_by(RotationTerm.seat)
    )


def duty_for_pull(board: Board) -> pull.Duty | None:
    """Who is on support duty today (id: name) as a pull or a move needs it, in one
    statement; None when the board runs no rotation."""
    rows = (
        db.session.connection()
        .execute(_duty_statement(), {"today": today_on(board), "board_id": board.id})
        .all()
    )
    if not rows or not rows[0].enabled:
        return None
    return pull.Duty({row.user_id: row.name for row in rows if row.user_id is not None})


def enabled(board_id: int) -> bool:
    row = db.session.get(Rotation, board_id)
    return bool(row and row.enabled)
