"""Every text that shows a count says "1 card" and "2 cards", never "1 cards": the board's
filter notice, the done archive, a card's estimate, the column that cannot be removed, the
per-person limit, Pull next's reasons and the warm-reports command; each once with one and
once with two. Elsewhere: the report's figures and alarm (test_reports_views.py), given-up
mail (test_mail.py), the erasure page (test_erasure.py), the audit log (test_audit.py)."""

from __future__ import annotations

import pytest

from tests.helpers import BoardSpec, CardSpec, actor, make_board
from tracker.domain.wording import counted
from tracker.extensions import db
from tracker.models import Board, User
from tracker.services import cards
from tracker.web.presenters.report import measured

WORDS = {1: "card", 2: "cards"}


def test_counted_puts_the_noun_in_the_number_of_the_count():
    assert [counted(n, "card") for n in (0, 1, 2)] == ["0 cards", "1 card", "2 cards"]
    assert [counted(n, "try", "tries") for n in (1, 3)] == ["1 try", "3 tries"]


def test_a_report_figure_takes_its_unit_in_the_right_number():
    """The report's figures (tests/test_reports_views.py: "Hold back 1 card", "Hold back 2
    person-days") are whole or have one decimal."""
    said = [measured(v, u) for v, u in ((1, "person-days"), (1.5, "person-days"), (1.04, "points"))]
    assert said == ["1 person-day", "1.5 person-days", "1 point"]
    assert [measured(v, "cards") for v in (0, 2)] == ["0 cards", "2 cards"]


@pytest.fixture(params=[1, 2], ids=["one", "two"])
def n(request) -> int:
    return request.param


@pytest.fixture
def board_spec(n):
    """n done cards, n ready feature cards ("Other k", estimate n) and one to find; Ann
    has n cards in progress, and the board allows n per person."""
    return BoardSpec(
        cards=(
            CardSpec("find", "support", "Findable"),
            *[CardSpec(f"done{k}", "feature", f"Finished {k}", at="Done") for k in range(n)],
            *[
                CardSpec(f"other{k}", "feature", f"Other {k}", fields={"estimate": n})
                for k in range(n)
            ],
            *[CardSpec(f"doing{k}", "support", f"Doing {k}", at="In progress") for k in range(n)],
        ),
    )


@pytest.fixture
def lead(client, auth, board):
    auth.login("lee")
    return client


def base(board) -> str:
    return f"/b/{board['board']}"


def test_the_filter_notice_counts_the_hidden_cards(lead, board, n):
    """The Support lane's chip shows "Findable" and "Doing k", not the n "Other k"."""
    page = lead.get(base(board), query_string={"lane": "support"}).text
    assert f"Filtered: {n} {WORDS[n]} hidden." in page
    shown = {"lane": "support"}
    fragment = lead.get(base(board), query_string=shown, headers={"HX-Request": "true"})
    assert f"Filtered: {n} {WORDS[n]} hidden." in fragment.text


def test_the_archive_counts_done_cards_with_and_without_a_search(lead, board, n):
    assert f"<p>{n} {WORDS[n]}.</p>" in lead.get(f"{base(board)}/done").text
    found = lead.get(f"{base(board)}/done", query_string={"q": "Finished"}).text
    assert f"<p>{n} {WORDS[n]} matching “Finished”.</p>" in found
    one = lead.get(f"{base(board)}/done", query_string={"q": "Finished 0"}).text
    assert "<p>1 card matching “Finished 0”.</p>" in one


def test_the_estimate_reads_point_or_points(lead, board, n):
    for htmx in ({}, {"HX-Request": "true"}):  # the card's page and its panel
        page = lead.get(f"{base(board)}/cards/{board['other0']}", headers=htmx).text
        assert f"<dd>{n} {'point' if n == 1 else 'points'}</dd>" in page


def test_a_column_with_cards_cannot_go_and_says_how_many(app, lead, board, n):
    """Remove In progress, which holds Ann's n cards."""
    rows = {}
    with app.app_context():
        columns = db.session.get(Board, board["board"]).columns
        for i, c in enumerate(columns):
            rows |= {
                f"columns-{i}-column_id": c.id,
                f"columns-{i}-name": c.name,
                f"columns-{i}-kind": c.kind,
                f"columns-{i}-position": i + 1,
                f"columns-{i}-remove": "remove" if c.name == "In progress" else "",
            }
    refused = lead.post(f"{base(board)}/settings/columns", data=rows)
    assert refused.status_code == 422
    assert f"The In progress column still has {n} {WORDS[n]} (done and closed" in refused.text


def test_the_per_person_limit_counts_the_cards_held(app, client, auth, board, n):
    """Ann holds the n cards in progress and moves a card of hers into progress."""
    with app.app_context():
        ann = db.session.get(User, board["ann"])
        for key in [*[f"doing{k}" for k in range(n)], "other0"]:
            cards.assign_card(board["board"], actor(ann), board[key], ann.id)
        db.session.get(Board, board["board"]).per_person_limit = n
        db.session.commit()
    auth.login("ann")
    move = f"{base(board)}/cards/{board['other0']}/move"
    refused = client.post(
        move,
        data={"lane_id": board["feature_lane"], "column_id": board["In progress"]},
        headers={"HX-Request": "true"},
    )
    assert refused.status_code == 422
    assert f"Ann Person already holds {n} {WORDS[n]} in progress" in refused.text


def test_pull_next_counts_the_ready_cards_it_cannot_take(app, lead, board, n):
    """Every ready card blocked: Feature has n, Support 1 (the card to find)."""
    with app.app_context():
        lee = actor(db.session.execute(db.select(User).filter_by(username="lee")).scalar_one())
        for key in ["find", *[f"other{k}" for k in range(n)]]:
            cards.set_blocked(board["board"], lee, board[key], True, "waiting")
    answer = lead.post(f"{base(board)}/pull", follow_redirects=True).text
    assert "Support: the one ready card is blocked or already assigned." in answer
    feature = "Feature: the one ready card is" if n == 1 else f"Feature: all {n} ready cards are"
    assert f"{feature} blocked or already assigned." in answer


def test_warm_reports_counts_the_boards(app, board, n):
    with app.app_context():
        for k in range(n - 1):
            make_board(f"More {k}")
    said = app.test_cli_runner().invoke(args=["warm-reports"]).output
    assert f"figures of {n} {'board' if n == 1 else 'boards'}." in said
