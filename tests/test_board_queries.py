"""The board page reads a fixed number of SQL statements, however many cards it shows."""

from __future__ import annotations

from tests.helpers import actor, make_board, make_card, make_user, statements_sent
from tracker.extensions import db
from tracker.models import Board
from tracker.services import cards

# 8 since the header's support-duty line (services.rotation.duty: one read of the board's
# rotation, kept with the grid) came in; 9 since the tiles' aging marker (the board's stored
# cycle-time percentiles, services.flow_weeks.aging_percentiles, kept with the grid).
MAX_STATEMENTS = 9
KINDS = ("support", "feature", "feature", "expedite", "support")
PLACES = ("Ready", "In progress", "Review", "Done", "Ready", "Done")
VARIANTS = {
    "page": ("", {}),
    "fragment": ("", {"HX-Request": "true"}),
    "filtered": ("?mine=1&q=card", {"HX-Request": "true"}),
}


def add_cards(board, people, start: int, count: int) -> list[str]:
    """Cards across lanes and columns: assigned to several people, some blocked, some done.

    Returns the references of the open ones (the board shows every open card).
    """
    refs = []
    for i in range(start, start + count):
        who = people[i % len(people)]
        card = make_card(board, who, KINDS[i % len(KINDS)], f"Card {i}", at=PLACES[i % len(PLACES)])
        if i % 3 == 0 and card.status == "open":
            card = cards.assign_card(board.id, who, card.id, people[(i // 3) % len(people)].id)
        if i % 4 == 1 and card.status == "open":
            card = cards.set_blocked(board.id, who, card.id, True, "Waiting for the vendor").card
        if card.status == "open":
            refs.append(card.ref)
    return refs


def statements_per_request(app, client, path: str, headers: dict) -> tuple[int, str]:
    """Run one request and count the SQL statements the engine sent for it."""
    sent, response = statements_sent(app, lambda: client.get(path, headers=headers))
    assert response.status_code == 200, response.text
    return len(sent), response.text


def test_board_queries_do_not_grow_with_cards(app, client, auth):
    with app.app_context():
        board = make_board(expedite=None, support=None, feature=None)
        users = [
            make_user(name, board=board, role="member")
            for name in ("ann", "bob", "cy", "dee", "eve")
        ]
        people = [actor(user) for user in users]
        board_id = board.id
        few = add_cards(board, people, 0, 5)
        db.session.remove()
    auth.login("ann")
    # The week's first view stores the board's cycle-time percentiles (aging markers); a
    # filtered one, which keeps no grid.
    client.get(f"/b/{board_id}?q=card", headers={"HX-Request": "true"})

    counts_few = {}
    for name, (query, headers) in VARIANTS.items():
        counts_few[name], html = statements_per_request(
            app, client, f"/b/{board_id}{query}", headers
        )
        if name == "page":
            assert all(f">{ref}</a>" in html for ref in few)

    with app.app_context():
        many = add_cards(db.session.get(Board, board_id), people, 5, 55)
        db.session.remove()

    counts_many = {}
    for name, (query, headers) in VARIANTS.items():
        counts_many[name], html = statements_per_request(
            app, client, f"/b/{board_id}{query}", headers
        )
        if name == "page":
            assert all(f">{ref}</a>" in html for ref in few + many)
            assert html.count('<li class="card') > len(few + many)  # and some done ones
            assert "Blocked: Waiting for the vendor" in html
            assert "more done this week" in html

    assert counts_many == counts_few
    assert max(counts_many.values()) <= MAX_STATEMENTS, counts_many
