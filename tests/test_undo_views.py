"""Undo from the notice, as people meet it: the notice of a move, a close and a block offers
an Undo form (htmx on the board, a plain form after a page load without JavaScript), which
puts the card back, or answers 422 with why it cannot."""

import html
import re
from datetime import UTC, datetime

import pytest
import time_machine

from tests.helpers import BoardSpec, CardSpec
from tests.html_tree import parse
from tracker.extensions import db
from tracker.models import Card

HX = {"HX-Request": "true"}
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def board_spec():
    """A board (Support limit 2, full) with a member and a lead, and cards waiting."""
    return BoardSpec(
        limits={"support": 2},
        people={"ann": "member", "lee": "lead", "vic": "viewer"},
        cards=(
            CardSpec("doing0", "support", "Doing 0", at="In progress"),
            CardSpec("doing1", "support", "Doing 1", at="In progress"),
            CardSpec("ready", "support", "Waiting"),
            CardSpec("above", "feature", "Above"),
            CardSpec("feature", "feature", "Feature one"),
            CardSpec("below", "feature", "Below"),
        ),
    )


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def url(ids, path=""):
    return f"/b/{ids['board']}{path}"


def place(app, card_id):
    with app.app_context():
        card = db.session.get(Card, card_id)
        where = (card.lane_id, card.column_id, card.assignee_id, card.status, card.blocked)
        db.session.remove()
        return where


def offer(text: str):
    """The Undo notice in an answer: its time in ms, form action, fields, and whether htmx
    posts it (hx-post to the board)."""
    found = re.search(r'<div class="notice undo" data-undo-ms="(\d+)"[^>]*>(.*?)</div>', text, re.S)
    assert found, text
    inner = found.group(2)
    action = html.unescape(re.search(r'<form method="post" action="([^"]+)"', inner).group(1))
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', inner))
    fields.pop("csrf_token", None)
    assert ">Undo</button>" in inner
    return int(found.group(1)), action, fields, 'hx-post="' in inner


def version(client, ids) -> str:
    page = parse(client.get(url(ids)).text)
    return page.find("board-live").attrs["data-version"]


def move(client, ids, key, column, headers=None, **extra):
    data = {"lane_id": ids["feature_lane"], "column_id": ids[column]} | extra
    return client.post(url(ids, f"/cards/{ids[key]}/move"), headers=headers or {}, data=data)


@pytest.mark.parametrize("current", [True, False], ids=["page-current", "page-behind"])
def test_a_move_with_htmx_offers_undo_and_undo_puts_the_card_back(
    app, client, auth, board, clock, current
):
    auth.login("ann")
    before = place(app, board["feature"])
    headers = HX | ({"X-Board-Version": version(client, board)} if current else {})
    moved = move(client, board, "feature", "In progress", headers)
    assert moved.status_code == 200
    assert ("HX-Reswap" in moved.headers) == current  # only the parts it changed, or the board
    ms, action, fields, swapped = offer(moved.text)
    assert "Moved FEAT-2 to Feature · In progress." in moved.text
    assert ms == app.config["UNDO_SECONDS"] * 1000 and swapped
    assert action == url(board, f"/cards/{board['feature']}/undo") and fields["rank"]
    clock.shift(3)
    headers = HX | ({"X-Board-Version": version(client, board)} if current else {})
    undone = client.post(action, headers=headers, data=fields)
    assert undone.status_code == 200
    assert "Undone: FEAT-2 is back in Feature · Ready." in undone.text
    assert 'class="notice undo"' not in undone.text  # an undo is not offered again
    assert place(app, board["feature"]) == before
    ready = parse(client.get(url(board), headers=HX).text).find(
        f"cell-{board['feature_lane']}-{board['Ready']}"
    )
    order = [ready.text().index(f"card-{board[k]}") for k in ("above", "feature", "below")]
    assert order == sorted(order)


def test_a_move_without_javascript_shows_a_page_with_the_undo_form(app, client, auth, board):
    auth.login("ann")
    before = place(app, board["feature"])
    moved = move(client, board, "feature", "Review")
    assert moved.status_code == 303
    page = client.get(moved.headers["Location"])
    ms, action, fields, swapped = offer(page.text)
    assert "Moved FEAT-2 to Feature · Review." in page.text and not swapped
    undone = client.post(action, data=fields)
    assert undone.status_code == 303
    assert (
        "Undone: FEAT-2 is back in Feature · Ready." in client.get(undone.headers["Location"]).text
    )
    assert place(app, board["feature"]) == before


@pytest.mark.parametrize("headers", [HX, {}], ids=["htmx", "page"])
def test_a_close_is_undone_where_it_was(app, client, auth, board, headers):
    auth.login("ann")
    path = url(board, f"/cards/{board['doing0']}")
    before = place(app, board["doing0"])
    closed = client.post(path + "/close", headers=headers, data={"why": "wont_do", "note": "no"})
    text = closed.text if headers else client.get(closed.headers["Location"]).text
    assert "Closed SUP-1: Won&#39;t do: no" in text
    _, action, fields, _ = offer(text)
    undone = client.post(action, headers=headers, data=fields)
    text = undone.text if headers else client.get(undone.headers["Location"]).text
    assert "Undone: SUP-1 is back on the board, in Support · In progress." in text
    assert place(app, board["doing0"]) == before


@pytest.mark.parametrize("headers", [HX, {}], ids=["htmx", "page"])
def test_a_block_from_the_panel_is_undone_and_the_panel_shows_it(app, client, auth, board, headers):
    auth.login("ann")
    path = url(board, f"/cards/{board['feature']}")
    blocked = client.post(path + "/block", headers=headers, data={"reason": "keys", "panel": "1"})
    text = blocked.text if headers else client.get(blocked.headers["Location"]).text
    assert "FEAT-2 is blocked." in text
    _, action, fields, _ = offer(text)
    assert fields["panel"] == "1"
    undone = client.post(action, headers=headers, data=fields)
    if headers:
        panel = parse(undone.text).find("panel")
    else:
        assert undone.headers["Location"].endswith(f"/cards/{board['feature']}")
        panel = parse(client.get(undone.headers["Location"]).text).find("flash")
        assert "Undone: FEAT-2 is unblocked." in panel.text()
        panel = parse(client.get(undone.headers["Location"]).text).find(
            f"detail-{board['feature']}"
        )
    assert panel is not None and ">Block</button>" in panel.text()
    assert place(app, board["feature"])[4] is False


@pytest.mark.parametrize("headers", [HX, {}], ids=["htmx", "page"])
def test_undo_by_another_person_is_refused(app, client, auth, board, headers):
    auth.login("ann")
    _, action, fields, _ = offer(move(client, board, "feature", "Review", HX).text)
    auth.logout()
    auth.login("lee")
    refused = client.post(action, headers=headers, data=fields)
    assert refused.status_code == 422
    assert "Only the person who made that change to FEAT-2 can undo it." in refused.text
    assert place(app, board["feature"])[1] == board["Review"]


@pytest.mark.parametrize("headers", [HX, {}], ids=["htmx", "page"])
def test_undo_after_the_window_is_refused(app, client, auth, board, clock, headers, monkeypatch):
    monkeypatch.setitem(app.config, "UNDO_SECONDS", 2)
    auth.login("ann")
    ms, action, fields, _ = offer(move(client, board, "feature", "Review", HX).text)
    assert ms == 2000
    clock.shift(2.5)
    refused = client.post(action, headers=headers, data=fields)
    assert refused.status_code == 422
    assert "It is too late to undo that change to FEAT-2" in refused.text
    assert "for 2 seconds after it was made." in refused.text
    assert place(app, board["feature"])[1] == board["Review"]


@pytest.mark.parametrize("headers", [HX, {}], ids=["htmx", "page"])
def test_undo_after_a_later_change_is_refused(app, client, auth, board, headers):
    auth.login("ann")
    _, action, fields, _ = offer(move(client, board, "feature", "Review", HX).text)
    move(client, board, "feature", "In progress", HX)
    refused = client.post(action, headers=headers, data=fields)
    assert refused.status_code == 422
    assert "FEAT-2 changed since; undo is no longer possible." in refused.text
    assert place(app, board["feature"])[1] == board["In progress"]


@pytest.mark.parametrize("headers", [HX, {}], ids=["htmx", "page"])
def test_undo_into_a_full_lane_is_refused_with_the_usual_message(app, client, auth, board, headers):
    auth.login("ann")
    doing = url(board, f"/cards/{board['doing0']}/move")
    to_ready = {"lane_id": board["support_lane"], "column_id": board["Ready"]}
    _, action, fields, _ = offer(client.post(doing, headers=HX, data=to_ready).text)
    to_work = {"lane_id": board["support_lane"], "column_id": board["In progress"]}
    assert client.post(url(board, f"/cards/{board['ready']}/move"), data=to_work).status_code == 303
    refused = client.post(action, headers=headers, data=fields)
    assert refused.status_code == 422
    assert "Support is at its WIP limit, 2 of 2: finish or move something first." in refused.text
    assert place(app, board["doing0"])[1] == board["Ready"]


@pytest.mark.parametrize(
    "data", [{}, {"event": "x"}, {"event": "99999999"}, {"event": "-1"}], ids=repr
)
def test_an_undo_form_with_no_change_of_the_card_is_refused(app, client, auth, board, data):
    auth.login("ann")
    before = place(app, board["feature"])
    refused = client.post(url(board, f"/cards/{board['feature']}/undo"), headers=HX, data=data)
    assert refused.status_code == 422
    assert place(app, board["feature"]) == before


def test_an_odd_rank_puts_the_card_back_at_the_bottom(app, client, auth, board):
    auth.login("ann")
    _, action, fields, _ = offer(move(client, board, "above", "Review", HX).text)
    client.post(action, headers=HX, data=fields | {"rank": "nan"})
    ready = parse(client.get(url(board), headers=HX).text).find(
        f"cell-{board['feature_lane']}-{board['Ready']}"
    )
    tiles = re.findall(r'id="card-(\d+)"', ready.text())
    assert tiles[-1] == str(board["above"])


def test_a_viewer_cannot_undo(app, client, auth, board):
    auth.login("ann")
    _, action, fields, _ = offer(move(client, board, "feature", "Review", HX).text)
    auth.logout()
    auth.login("vic")
    assert client.post(action, headers=HX, data=fields).status_code == 403
    assert place(app, board["feature"])[1] == board["Review"]


def test_a_lead_may_undo_into_a_full_lane_with_a_reason(app, client, auth, board):
    auth.login("lee")
    doing = url(board, f"/cards/{board['doing0']}/move")
    to_ready = {"lane_id": board["support_lane"], "column_id": board["Ready"]}
    _, action, fields, _ = offer(client.post(doing, headers=HX, data=to_ready).text)
    to_work = {"lane_id": board["support_lane"], "column_id": board["In progress"]}
    client.post(url(board, f"/cards/{board['ready']}/move"), headers=HX, data=to_work)
    refused = client.post(action, headers=HX, data=fields)
    assert refused.status_code == 422 and "Go over the limit" in refused.text
    override = re.search(
        r'<form class="override"[^>]*action="([^"]+)"(.*?)</form>', refused.text, re.S
    )
    assert html.unescape(override.group(1)) == action
    again = dict(
        re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', override.group(2))
    )
    again.pop("csrf_token", None)
    assert again == fields
    undone = client.post(action, headers=HX, data=again | {"reason": "the fix needs it"})
    assert (
        undone.status_code == 200
        and "Undone: SUP-1 is back in Support · In progress." in undone.text
    )
    assert place(app, board["doing0"])[1] == board["In progress"]
    history = client.get(url(board, f"/cards/{board['doing0']}"), headers=HX).text
    assert "went over a WIP limit: the fix needs it" in history
    assert "undoing the last move" in history
