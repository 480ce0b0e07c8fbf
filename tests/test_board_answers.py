"""A change's answer to the page that asked for it: only the parts of the board it changed
when the page showed the board as it was just before (X-Board-Version), else the whole
board. Either way, the page then shows what a fresh read of the board shows."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import Auth, BoardSpec, CardSpec, actor, build_board, wipe
from tests.html_tree import Element, parse, swap_out_of_band
from tracker.domain.errors import DomainError
from tracker.extensions import db
from tracker.models import BoardColumn, User
from tracker.services import cards

HX = {"HX-Request": "true"}
COLUMNS = ("Ready", "In progress", "Review", "Done")
KINDS = ("expedite", "support", "feature")


def spec(done: int = 0) -> BoardSpec:
    """A board (Support limit 2, Feature 3) with a member and a lead, cards in every open
    column, and `done` feature cards done this week."""
    places = [("support", "Ready"), ("support", "In progress"), ("feature", "Ready")]
    places += [("feature", "Ready"), ("feature", "In progress"), ("feature", "Review")]
    places += [("feature", "Done")] * done
    return BoardSpec(
        limits={"support": 2, "feature": 3},
        cards=tuple(
            CardSpec(f"card{i}", kind, f"Card {i}", at=at) for i, (kind, at) in enumerate(places)
        ),
    )


@pytest.fixture
def board_spec() -> BoardSpec:
    return spec(done=4)


def url(ids, path=""):
    return f"/b/{ids['board']}{path}"


def shown_version(html: str) -> str:
    return re.search(r'id="board-live"[^>]*data-version="(\d+)"', html).group(1)


class Page:
    """What the browser holds: the #board fragment, changed as htmx would change it."""

    def __init__(self, client, ids) -> None:
        self.client, self.ids = client, ids
        self.board = self.fresh()

    def fresh(self) -> Element:
        return parse(self.client.get(url(self.ids), headers=HX).text).find("board")

    @property
    def version(self) -> str:
        return self.board.find("board-live").attrs["data-version"]

    def post(self, path: str, data: dict | None = None, *, version: str | None = None):
        """POST as app.js does, with the version the page shows; apply the answer."""
        headers = HX | {"X-Board-Version": self.version if version is None else version}
        answer = self.client.post(url(self.ids, path), data=data or {}, headers=headers)
        if answer.headers.get("HX-Reswap") == "none":
            assert answer.status_code == 200
            swap_out_of_band(self.board, answer.text, elsewhere={"panel"})
        elif answer.status_code in (200, 422):
            self.board = parse(answer.text).find("board")
        return answer

    def move(self, card: str, column: str, lane: str = "feature", **extra):
        """Move a card (its key in the ids) as a drop or the Move to list does."""
        to = {"lane_id": self.ids[f"{lane}_lane"], "column_id": self.ids[column], **extra}
        return self.post(f"/cards/{self.ids[card]}/move", to)

    def matches_a_fresh_read(self) -> None:
        mine, fresh = self.board, self.fresh()
        for board in (mine, fresh):
            board.find("notices").children = []  # the answer's own message, not the board
        assert mine.text() == fresh.text()


@pytest.fixture
def page(client, board) -> Page:
    """Ann's board page, logged in."""
    login(client)
    return Page(client, board)


def login(client, username="ann"):
    assert Auth(client).login(username).status_code == 302


def test_a_move_from_a_current_page_answers_only_what_it_changed(page, board):
    version = int(page.version)
    card = board["card2"]  # feature, Ready
    answer = page.move("card2", "In progress")
    assert answer.status_code == 200 and answer.headers["HX-Reswap"] == "none"
    assert 'id="board"' not in answer.text and 'id="cell-' not in answer.text
    swapped = re.findall(r'id="([^"]+)"[^>]*hx-swap-oob', answer.text)
    # The tile leaves Ready and goes in its place in In progress: below card4, the cell's
    # only other card. The cells themselves are not redrawn.
    assert swapped == ["board-live", "notices", f"card-{card}", "lane-feature"]
    assert f'<li id="card-{card}" hx-swap-oob="delete">' in answer.text
    placed = (
        f'<ol hx-swap-oob="afterend:#card-{board["card4"]}">'
        f'<li class="card lane-feature" id="card-{card}"'
    )
    assert placed in answer.text
    assert "Moved FEAT-" in answer.text and "to Feature · In progress." in answer.text
    assert int(shown_version(answer.text)) == version + 1
    lanehead = parse(answer.text).find("lane-feature").text()
    assert "3 / 3" in lanehead and "full" in lanehead  # the lane's new WIP
    page.matches_a_fresh_read()


def test_a_pull_answers_its_tile_and_the_lane(page, board):
    answer = page.post("/pull")
    assert answer.headers["HX-Reswap"] == "none" and "You pulled SUP-" in answer.text
    card = board["card0"]
    assert f'<li id="card-{card}" hx-swap-oob="delete">' in answer.text
    assert (
        f'<ol hx-swap-oob="afterend:#card-{board["card1"]}">'
        f'<li class="card lane-support" id="card-{card}"' in answer.text
    )
    assert 'id="lane-support"' in answer.text and 'id="lane-feature"' not in answer.text
    assert 'id="cell-' not in answer.text
    page.matches_a_fresh_read()


def test_an_open_cells_answer_carries_one_tile_however_full_the_cell(app, page, board):
    """A move or pull costs the same on a board of 200 cards and of 2,000: its answer sends
    the card's tile, never the cell it entered."""
    with app.app_context():
        lee = actor(db.session.get(User, board["lee"]))
        for i in range(30):
            cards.create_card(board["board"], lee, board["support_lane"], {"title": f"Queue {i}"})
        db.session.remove()
    page.board = page.fresh()
    for answer in (
        page.post("/pull"),
        page.move("card3", "Ready", after=0),
        page.move("card3", "Ready"),
        page.move("card2", "Ready", lane="support"),
    ):
        assert answer.headers["HX-Reswap"] == "none", answer.text[:300]
        assert answer.text.count('<li class="card') == 1
        page.matches_a_fresh_read()


def test_a_move_to_done_redraws_the_done_cell_and_its_count(page, board):
    assert (
        "+ 1 more done this week"
        in page.board.find(f"cell-{board['feature_lane']}-{board['Done']}").text()
    )
    answer = page.move("card5", "Done")
    assert answer.headers["HX-Reswap"] == "none"
    assert "+ 2 more done this week" in answer.text
    page.matches_a_fresh_read()
    # Back out of Done: the done cell is redrawn, its next latest card moves up.
    answer = page.move("card5", "Review")
    assert f'id="cell-{board["feature_lane"]}-{board["Done"]}"' in answer.text
    assert "+ 1 more done this week" in answer.text
    assert (
        f'<ol hx-swap-oob="afterbegin:#cell-{board["feature_lane"]}-{board["Review"]} > ol">'
        in (answer.text)
    )
    page.matches_a_fresh_read()


def test_a_reorder_in_a_cell_puts_the_tile_at_the_top_of_its_cell(page, board):
    answer = page.move("card3", "Ready", after=0)
    assert answer.headers["HX-Reswap"] == "none" and 'id="cell-' not in answer.text
    cell = f"cell-{board['feature_lane']}-{board['Ready']}"
    assert f'<ol hx-swap-oob="afterbegin:#{cell} > ol">' in answer.text
    ready = page.board.find(cell).text()
    assert ready.index("Card 3") < ready.index("Card 2")
    page.matches_a_fresh_read()


def test_a_page_that_was_behind_gets_the_whole_board(app, page, board):
    with app.app_context():  # someone else moves a card the page still shows in Ready
        lee = actor(db.session.get(User, board["lee"]))
        cards.move_card(
            board["board"],
            lee,
            board["card3"],
            lane_id=board["feature_lane"],
            column_id=board["Done"],
        )
        db.session.remove()
    answer = page.move("card2", "In progress")
    assert answer.status_code == 200 and "HX-Reswap" not in answer.headers
    assert 'id="board"' in answer.text
    page.matches_a_fresh_read()


@pytest.mark.parametrize(
    "version, data",
    [
        (None, {}),
        ("", {}),
        ("nonsense", {}),
        ("current", {"q": "Card"}),
        ("current", {"mine": "1"}),
    ],
)
def test_no_version_a_bad_one_or_a_filter_gets_the_whole_board(client, page, board, version, data):
    headers = dict(HX)
    if version is not None:
        headers["X-Board-Version"] = page.version if version == "current" else version
    to = {"lane_id": board["feature_lane"], "column_id": board["In progress"]}
    path = url(board, f"/cards/{board['card2']}/move")
    answer = client.post(path, data=to | data, headers=headers)
    assert answer.status_code == 200 and "HX-Reswap" not in answer.headers
    assert 'id="board"' in answer.text and "Moved FEAT-" in answer.text


def test_a_refused_move_answers_the_whole_board_with_its_message(page, board):
    assert page.move("card2", "In progress").status_code == 200  # Feature 3 / 3
    refused = page.move("card3", "In progress")
    assert refused.status_code == 422 and "HX-Reswap" not in refused.headers
    assert 'id="board"' in refused.text and "Feature is at its WIP limit, 3 of 3" in refused.text
    page.matches_a_fresh_read()


def test_a_move_with_the_panel_open_redraws_the_panel_too(page, board):
    data = {"target": f"{board['feature_lane']}:{board['Review']}", "panel": "1"}
    answer = page.post(f"/cards/{board['card2']}/move", data)
    assert answer.headers["HX-Reswap"] == "none"
    assert re.search(r'id="panel"[^>]*hx-swap-oob', answer.text)
    page.matches_a_fresh_read()


ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["move", "move", "pull", "elsewhere"]),
        st.integers(0, 40),  # which card
        st.sampled_from(KINDS),
        st.sampled_from(COLUMNS),
        st.sampled_from(["end", "top", "after"]),
        st.booleans(),  # with a reason to go over a limit (the lead may)
    ),
    min_size=1,
    max_size=12,
)


@pytest.mark.slow("postgres")
@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(actions=ACTIONS)
def test_after_any_changes_the_page_shows_what_a_fresh_read_shows(app, actions):
    """Random moves and pulls by the page's person (a lead), and now and then a change by
    someone else the page has not seen: after each answer the page equals a fresh read.
    Review has a column limit, so its header (a count of its own) is redrawn too."""
    wipe(app)
    with app.app_context():
        ids = build_board(spec(done=2))
        db.session.get(BoardColumn, ids["Review"]).wip_limit = 2
        db.session.commit()
        ann = actor(db.session.get(User, ids["ann"]))
    client = app.test_client()
    login(client, "lee")
    page = Page(client, ids)
    behind = False  # whether someone else changed the board since the page's last answer
    for op, card_i, kind, column_name, where, reason in actions:
        card_ids = sorted(v for k, v in ids.items() if k.startswith("card"))
        card_id = card_ids[card_i % len(card_ids)]
        to = {"lane_id": ids[f"{kind}_lane"], "column_id": ids[column_name]}
        if where == "top":
            to["after"] = 0
        elif where == "after":
            to["after"] = card_ids[(card_i + 1) % len(card_ids)]
        if reason:
            to["reason"] = "customer outage"
        if op == "elsewhere":
            with app.app_context():
                try:
                    cards.move_card(ids["board"], ann, card_id, **to | {"reason": None})
                    behind = True
                except DomainError:  # a refusal changes nothing
                    db.session.rollback()
                db.session.remove()
            continue
        answer = page.post("/pull") if op == "pull" else page.post(f"/cards/{card_id}/move", to)
        changed = answer.status_code == 200 and ("Moved" in answer.text or "pulled" in answer.text)
        partial = answer.headers.get("HX-Reswap") == "none"
        assert partial == (changed and not behind), (op, answer.status_code, behind)
        behind = False  # either answer brings the page up to date
        page.matches_a_fresh_read()
