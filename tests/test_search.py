"""Search over a board's cards on both databases (tracker.services.search over the index
tracker.search_index keeps by triggers): every field matches, the ranking, a comment
deleted or a person renamed, odd input."""

from __future__ import annotations

import pytest

from tests.helpers import BoardSpec, CardSpec, actor, make_board, make_card
from tracker.domain.search import parse_query
from tracker.extensions import db
from tracker.models import Board, Card, Comment, User
from tracker.services import cards, intake, search

ALL = ("open", "done", "closed")
SPECS = (
    CardSpec("export", "support", "Export button is grey", fields={"severity": "S2"}),
    CardSpec("invoice", "feature", "Invoices in euros"),
    CardSpec("login", "feature", "Login page layout", fields={"description": "The export of logs"}),
    CardSpec("mobile", "support", "Mobile menu", fields={"severity": "S1"}),
)


@pytest.fixture
def board_spec():
    return BoardSpec(people={"ann": "member", "lee": "lead", "zed": "member"}, cards=SPECS)


def found(board_id: int, text: str, statuses=ALL) -> list[int]:
    found = search.ranked(board_id, parse_query(text), statuses, page=1, per_page=50)
    assert found.total == len(found.cards) and not found.more
    return [card.id for card in found.cards]


def lee(ids):
    return actor(db.session.get(User, ids["lee"]), "lead")


def test_each_field_of_a_card_matches(app, board, ctx):
    b = board["board"]
    card = db.session.get(Card, board["invoice"])
    cards.edit_card(
        b,
        lee(board),
        card.id,
        card.version,
        {"component": "Billing", "requester": "Dana Scully", "description": "Rounded wrong"},
    )
    cards.assign_card(b, lee(board), card.id, board["zed"])
    ref = db.session.get(Card, board["invoice"]).ref
    for text in (ref, "invoices", "euros", "rounded", "billing", "scully", "zed", "Zed Person"):
        assert found(b, text) == [board["invoice"]], text
    assert found(b, "S1") == [board["mobile"]]
    assert found(b, "s2") == [board["export"]]


def test_comments_match_until_deleted(app, board, ctx):
    b = board["board"]
    comment = intake.add_comment(
        b, lee(board), board["mobile"], "Seen on Android twelve", "internal"
    )
    assert found(b, "android") == [board["mobile"]]
    assert found(b, "android twelve") == [board["mobile"]]
    db.session.delete(db.session.get(Comment, comment.id))
    db.session.commit()
    assert found(b, "android") == []
    again = intake.add_comment(b, lee(board), board["mobile"], "On iOS", "internal")
    db.session.get(Comment, again.id).body = "On tablets"
    db.session.commit()
    assert found(b, "ios") == []
    assert found(b, "tablets") == [board["mobile"]]


def test_a_renamed_person_matches_by_the_new_name_only(app, board, ctx):
    b = board["board"]
    cards.assign_card(b, lee(board), board["export"], board["zed"])
    person = db.session.get(User, board["zed"])
    person.name, person.username = "Mia Wallace", "mia"
    db.session.commit()
    assert found(b, "wallace") == [board["export"]]
    assert found(b, "mia") == [board["export"]]
    assert found(b, "zed") == []


def test_reference_first_then_title_then_the_rest(app, board, ctx):
    b = board["board"]
    export_ref = db.session.get(Card, board["export"]).ref
    # "export" is the export card's title and the login card's description.
    assert found(b, "export") == [board["export"], board["login"]]
    # A card whose title holds another card's reference comes after that card.
    titled = make_card(
        db.session.get(Board, b), lee(board), "feature", f"Follow-up to {export_ref}"
    )
    assert found(b, export_ref) == [board["export"], titled.id]
    # Newest first within a tier.
    newer = make_card(db.session.get(Board, b), lee(board), "feature", "Export totals")
    assert found(b, "export") == [newer.id, board["export"], board["login"]]


def test_the_last_word_is_a_prefix_while_typing(app, board, ctx):
    b = board["board"]
    assert found(b, "inv") == [board["invoice"]]
    assert found(b, "invoices eur") == [board["invoice"]]
    assert found(b, "inv ") == []  # a finished word is a whole word
    assert found(b, "eur invoices") == []  # only the last word is a prefix


def test_statuses_and_boards_narrow_the_search(app, board, ctx):
    b = board["board"]
    done = cards.close_card(b, lee(board), board["invoice"], "duplicate", "Same as FEAT-9").card
    assert found(b, "invoices", ("done", "closed")) == [done.id]
    assert found(b, "invoices", ("open",)) == []
    elsewhere = make_board("Elsewhere")
    make_card(elsewhere, lee(board), "feature", "Invoices elsewhere")
    assert found(b, "invoices") == [done.id]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        '"',
        "'",
        "' OR 1=1 --",
        'export" OR "x',
        "NEAR(export login)",
        "export:*",
        "!export & | <->",
        "{title}: export",
        "*",
        "^export",
        "ex\\port",
        "%_",
        "a" * 500,
        "ünïcödé façade",
        "x² ½",
        "(",
        "AND OR NOT",
    ],
)
def test_odd_text_never_errors(app, board, ctx, text):
    b = board["board"]
    query = parse_query(text)
    result = found(b, text)
    if query.empty:
        assert result == []
    ids = {board[key] for key in ("export", "invoice", "login", "mobile")}
    assert search.matching(query, ids) <= ids


def test_matching_picks_out_the_given_cards(app, board, ctx):
    ids = {board["export"], board["login"], board["invoice"]}
    assert search.matching(parse_query("export"), ids) == {board["export"], board["login"]}
    assert search.matching(parse_query("export"), {board["invoice"]}) == set()
    assert search.matching(parse_query(""), ids) == ids
    assert search.matching(parse_query("nothing here"), ids) == set()


def test_only_the_newest_matches_are_ranked_and_the_count_says_so(app, board, ctx, monkeypatch):
    """Past RANKED matches the search ranks the newest ones and says there are more; the
    card whose reference was typed comes first even when it is older than all of them."""
    b = board["board"]
    monkeypatch.setattr(search, "RANKED", 3)
    here = db.session.get(Board, b)
    made = [make_card(here, lee(board), "feature", f"Report {i}").id for i in range(5)]
    found = search.ranked(b, parse_query("report"), ALL, page=1, per_page=10)
    assert [card.id for card in found.cards] == made[::-1][:3]
    assert found.total == 3 and found.more
    old_ref = db.session.get(Card, board["export"]).ref
    titled = make_card(here, lee(board), "feature", f"About {old_ref}")
    found = search.ranked(b, parse_query(old_ref), ALL, page=1, per_page=10)
    assert [card.id for card in found.cards] == [board["export"], titled.id]
    # Pages of the ranked list.
    second = search.ranked(b, parse_query("report"), ALL, page=2, per_page=2)
    assert [card.id for card in second.cards] == [made[2]]
