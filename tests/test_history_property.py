"""Random sequences of actions: history replays to each card's state, and no lane is ever
above its limit except through a recorded override."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.helpers import actor, make_board, make_user, wipe
from tracker.domain import history
from tracker.domain.errors import DomainError
from tracker.extensions import db
from tracker.models import BoardColumn, Card, CardEvent, Lane
from tracker.services import cards
from tracker.store import snapshot

ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(
            ["create", "move", "pull", "assign", "block", "unblock", "close", "edit", "reorder"]
        ),
        st.integers(0, 30),  # which card
        st.integers(0, 20),  # which lane / column / person
        st.booleans(),  # lead or member
        st.sampled_from(["", "customer outage"]),  # override reason
    ),
    min_size=5,
    max_size=40,
)


def lane_counts(board_id):
    rows = db.session.execute(
        select(Lane.id, Lane.wip_limit, func.count(Card.id))
        .join(Card, (Card.lane_id == Lane.id) & (Card.status == "open"), isouter=True)
        .join(BoardColumn, BoardColumn.id == Card.column_id, isouter=True)
        .where(Lane.board_id == board_id, (BoardColumn.kind == "active") | (Card.id.is_(None)))
        .group_by(Lane.id, Lane.wip_limit)
    )
    return {lane_id: (limit, count) for lane_id, limit, count in rows}


def overrides():
    return db.session.execute(
        select(func.count()).select_from(CardEvent).where(CardEvent.kind == "wip_override")
    ).scalar_one()


def run(action, board, people, lanes, columns):
    op, card_i, target_i, as_lead, reason = action
    who = people[1] if as_lead else people[0]
    ids = (
        db.session.execute(select(Card.id).where(Card.board_id == board.id).order_by(Card.id))
        .scalars()
        .all()
    )
    card_id = ids[card_i % len(ids)] if ids else None
    lane_ = lanes[target_i % len(lanes)]
    column_ = columns[target_i % len(columns)]
    if op == "create" or card_id is None:
        cards.create_card(board.id, who, lane_.id, {"title": f"card {target_i}"})
    elif op == "move":
        cards.move_card(
            board.id, who, card_id, lane_id=lane_.id, column_id=column_.id, reason=reason
        )
    elif op == "pull":
        cards.pull_next(board.id, people[target_i % 2])
    elif op == "assign":
        person = people[target_i % 3].id if target_i % 3 < 2 else None
        cards.assign_card(board.id, who, card_id, person, reason)
    elif op == "block":
        cards.set_blocked(board.id, who, card_id, True, "waiting")
    elif op == "unblock":
        cards.set_blocked(board.id, who, card_id, False)
    elif op == "close":
        cards.close_card(board.id, who, card_id, "wont_do", "not needed")
    elif op == "edit":
        card = db.session.get(Card, card_id)
        cards.edit_card(board.id, who, card_id, card.version, {"title": f"edited {target_i}"})
    else:
        cards.reorder_card(board.id, who, card_id, "up" if target_i % 2 else "down")


@pytest.mark.slow("postgres")
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(actions=ACTIONS)
def test_random_actions_keep_history_and_limits(app, actions):
    wipe(app)
    with app.app_context():
        board = make_board(expedite=1, support=2, feature=2)
        board.per_person_limit = 3
        db.session.commit()
        people = [
            actor(make_user("ann", board=board, role="member")),
            actor(make_user("lee", board=board, role="lead"), "lead"),
        ]
        lanes = list(board.lanes)
        columns = list(board.columns)
        for action in actions:
            before = lane_counts(board.id)
            overrides_before = overrides()
            try:
                run(action, board, people, lanes, columns)
            except DomainError:
                db.session.rollback()
            after = lane_counts(board.id)
            for lane_id, (limit, count) in after.items():
                raised = count > before.get(lane_id, (limit, 0))[1]
                if limit is not None and count > limit and raised:
                    assert overrides() > overrides_before, (action, lane_id, count, limit)
        for card in db.session.execute(select(Card)).scalars():
            changes = db.session.execute(
                select(CardEvent.changes).where(CardEvent.card_id == card.id).order_by(CardEvent.id)
            ).scalars()
            replayed = history.replay(changes)
            current = snapshot(card)
            assert {k: replayed.get(k) for k in current} == current
        db.session.remove()
