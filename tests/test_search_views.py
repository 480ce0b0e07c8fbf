"""The board's search box and filter chips, the archive's search, and labels, as a person
meets them: pages and htmx fragments, the filter in the address, labels kept by a lead."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers import Auth, BoardSpec, CardSpec, actor, make_board, make_card
from tests.html_tree import parse
from tracker.domain.labels import PALETTE
from tracker.extensions import db
from tracker.models import Board, Card, User
from tracker.services import cards, intake, labels

HX = {"HX-Request": "true"}
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def board_spec() -> BoardSpec:
    return BoardSpec(
        people={"ann": "member", "lee": "lead", "vic": "viewer"},
        cards=(
            CardSpec("csv", "support", "Export is empty", fields={"severity": "S1"}),
            CardSpec("pdf", "feature", "Printable invoices", at="In progress"),
            CardSpec("ui", "feature", "Dark mode", fields={"description": "Users ask for CSV"}),
        ),
    )


def refs(html: str) -> set[str]:
    """The references of the tiles on a board answer."""
    return set(
        re.findall(r'<li class="card[^"]*" id="card-\d+"[^>]*><a class="ref"[^>]*>([^<]+)<', html)
    )


def ref_of(app, card_id) -> str:
    with app.app_context():
        return db.session.get(Card, card_id).ref


@pytest.fixture
def names(app, board) -> dict:
    """The cards' references; lee holds the one in progress."""
    with app.app_context():
        cards.assign_card(board["board"], lead(board), board["pdf"], board["lee"])
        db.session.remove()
    return {key: ref_of(app, board[key]) for key in ("csv", "pdf", "ui")}


def lead(board):
    return actor(db.session.get(User, board["lee"]), "lead")


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ("", {"csv", "pdf", "ui"}),
        ("q=export", {"csv"}),
        ("q=csv", {"ui"}),  # the description
        ("q=prin", {"pdf"}),  # a prefix while typing
        ("q=dark+mo", {"ui"}),
        ("lane=support", {"csv"}),
        ("lane=support&lane=feature", {"csv", "pdf", "ui"}),
        ("sev=S1", {"csv"}),
        ("who=me", {"pdf"}),
        ("who=nobody", {"csv", "ui"}),
        ("age=3", set()),
        ("blocked=1", set()),
        ("blocked=0", {"csv", "pdf", "ui"}),
        ("lane=feature&q=invoices", {"pdf"}),
        ("lane=nowhere&sev=S1", {"csv"}),  # a bad value is dropped alone
        ('q="&sev=S9', {"csv", "pdf", "ui"}),
    ],
)
def test_the_board_shows_what_the_filter_in_its_address_admits(
    app, client, board, names, headers, query, shown
):
    Auth(client).login("lee")
    answer = client.get(f"/b/{board['board']}?{query}", headers=headers)
    assert answer.status_code == 200
    assert refs(answer.text) == {names[key] for key in shown}
    assert "HX-Request" in answer.headers.get("Vary", "")
    assert ('id="filters"' in answer.text) is (not headers)  # htmx gets the #board alone


def test_who_a_person_and_the_comments_filter_too(app, client, board, names):
    with app.app_context():
        cards.assign_card(board["board"], lead(board), board["ui"], board["ann"])
        intake.add_comment(board["board"], lead(board), board["csv"], "Seen in Safari", "internal")
        db.session.remove()
    Auth(client).login("lee")
    base = f"/b/{board['board']}"
    assert refs(client.get(f"{base}?who={board['ann']}", headers=HX).text) == {names["ui"]}
    assert refs(client.get(f"{base}?q=safari", headers=HX).text) == {names["csv"]}
    assert refs(client.get(f"{base}?q=ann", headers=HX).text) == {names["ui"]}


def test_the_page_shows_the_filter_it_carries_as_chips_and_text(app, client, board):
    Auth(client).login("lee")
    page = parse(client.get(f"/b/{board['board']}?q=export&lane=support&sev=S1&age=7").text)
    form = page.find("filters")
    assert form.attrs["method"] == "get" and form.attrs["hx-push-url"] == "true"
    inputs = {}

    def walk(element):
        for child in element.children:
            if hasattr(child, "tag"):
                if child.tag == "input" or child.tag == "option":
                    inputs[(child.attrs.get("name"), child.attrs.get("value"))] = child.attrs
                walk(child)

    walk(form)
    assert inputs[("q", "export")]["id"] == "filter-q"
    assert "checked" in inputs[("lane", "support")]
    assert "checked" not in inputs[("lane", "feature")]
    assert "checked" in inputs[("sev", "S1")] and "checked" not in inputs[("sev", "S2")]
    assert "selected" in inputs[(None, "7")]  # the age select's option
    assert "Clear the filter" in page.text()
    plain = client.get(f"/b/{board['board']}").text
    assert "Clear the filter" not in plain and "checked" not in parse(plain).find("filters").text()


def test_a_change_from_a_filtered_page_answers_with_the_filtered_board(app, client, board, names):
    Auth(client).login("lee")
    base = f"/b/{board['board']}"
    version = re.search(r'data-version="(\d+)"', client.get(base, headers=HX).text).group(1)
    data = {"lane_id": board["feature_lane"], "column_id": board["Review"], "lane": "feature"}
    answer = client.post(
        f"{base}/cards/{board['pdf']}/move", data=data, headers=HX | {"X-Board-Version": version}
    )
    assert answer.status_code == 200
    assert 'id="board"' in answer.text  # the whole (filtered) board, not the changed parts
    assert refs(answer.text) == {names["pdf"], names["ui"]}


def test_a_filtered_board_is_never_kept_nor_taken_from_the_kept_grid(app, client, board, names):
    Auth(client).login("lee")
    base = f"/b/{board['board']}"
    grids = app.extensions["tracker.grids"]
    assert refs(client.get(base, headers=HX).text) == set(names.values())
    kept = dict(grids._grids)
    for query in ("q=export", "sev=S1", "who=me", "label=1", "age=0"):
        filtered = client.get(f"{base}?{query}", headers=HX).text
        assert refs(filtered) < set(names.values()), query
        assert dict(grids._grids) == kept, query
    assert refs(client.get(base, headers=HX).text) == set(names.values())


# --- labels -------------------------------------------------------------------------------


def test_a_lead_adds_renames_and_removes_labels(app, client, board):
    Auth(client).login("lee")
    base = f"/b/{board['board']}/settings"
    answer = client.post(f"{base}/labels", data={"name": " Bug ", "colour": "red"})
    assert answer.status_code == 303 and answer.location.endswith("#labels")
    page = client.get(base).text
    assert '<span class="lb lc-red">Bug</span>' in page
    with app.app_context():
        (bug,) = labels.board_labels(board["board"])
        bug_id = bug.id
    assert (
        client.post(
            f"{base}/labels/{bug_id}", data={"name": "Defect", "colour": "blue"}
        ).status_code
        == 303
    )
    assert '<span class="lb lc-blue">Defect</span>' in client.get(base).text
    assert client.post(f"{base}/labels/{bug_id}/remove").status_code == 303
    assert 'lc-blue">Defect' not in client.get(base).text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "colour": "red"}, "Give the label a name"),
        ({"name": "x" * 31, "colour": "red"}, "at most 30"),
        ({"name": "Docs", "colour": "#ff0000"}, "Not a valid choice"),
        ({"name": "bug", "colour": "red"}, "already"),
    ],
)
def test_a_bad_label_is_refused_with_what_was_typed(app, client, board, data, message):
    Auth(client).login("lee")
    base = f"/b/{board['board']}/settings"
    client.post(f"{base}/labels", data={"name": "Bug", "colour": "red"})
    answer = client.post(f"{base}/labels", data=data)
    assert answer.status_code == 422
    assert message in answer.text
    with app.app_context():
        assert [label.name for label in labels.board_labels(board["board"])] == ["Bug"]


@pytest.mark.parametrize("who", ["ann", "vic"])
def test_only_a_lead_keeps_the_labels(app, client, board, who):
    with app.app_context():
        label_id = labels.add_label(board["board"], lead(board), "Bug", "red").id
    Auth(client).login(who)
    base = f"/b/{board['board']}/settings"
    for path, data in [
        ("/labels", {"name": "Mine", "colour": "red"}),
        (f"/labels/{label_id}", {"name": "Mine", "colour": "red"}),
        (f"/labels/{label_id}/remove", {}),
    ]:
        assert client.post(base + path, data=data).status_code == 403, path
        assert client.post(base + path, data=data, headers=HX).status_code == 403, path
    with app.app_context():
        assert [(x.name, x.colour) for x in labels.board_labels(board["board"])] == [("Bug", "red")]


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_a_member_puts_labels_on_a_card_and_the_board_shows_and_filters_them(
    app, client, board, names, headers
):
    with app.app_context():
        bug = labels.add_label(board["board"], lead(board), "Bug", "red").id
        ux = labels.add_label(board["board"], lead(board), "UX", "purple").id
        version = db.session.get(Card, board["ui"]).version
    Auth(client).login("ann")
    base = f"/b/{board['board']}"
    panel = client.get(f"{base}/cards/{board['ui']}", headers=HX).text
    assert 'name="labels"' in panel and ">Bug</label>" in panel
    data = {"title": "Dark mode", "version": version, "labelled": "1", "labels": [bug, ux]}
    data |= {"panel": "1", "description": "Users ask for CSV"}
    answer = client.post(f"{base}/cards/{board['ui']}/edit", data=data, headers=headers)
    assert answer.status_code in (200, 303)
    board_html = client.get(base, headers=HX).text
    tile = re.search(rf'<li[^>]*id="card-{board["ui"]}".*?</li>', board_html).group(0)
    assert '<span class="lb lc-red">Bug</span><span class="lb lc-purple">UX</span>' in tile
    assert refs(client.get(f"{base}?label={ux}", headers=HX).text) == {names["ui"]}
    page = client.get(base).text
    assert f'name="label" value="{ux}"' in page  # a chip for each label a card carries
    history = client.get(f"{base}/cards/{board['ui']}").text
    assert "added the labels Bug and UX" in history
    # Unticking one removes it, and the history says so.
    with app.app_context():
        version = db.session.get(Card, board["ui"]).version
    data |= {"version": version, "labels": [ux]}
    client.post(f"{base}/cards/{board['ui']}/edit", data=data, headers=headers)
    assert "removed the label Bug" in client.get(f"{base}/cards/{board['ui']}").text
    assert refs(client.get(f"{base}?label={bug}", headers=HX).text) == set()


def test_another_boards_label_is_refused_on_a_card(app, client, board):
    with app.app_context():
        elsewhere = make_board("Elsewhere")
        foreign = labels.add_label(elsewhere.id, lead(board), "Theirs", "red").id
        version = db.session.get(Card, board["ui"]).version
    Auth(client).login("ann")
    data = {"title": "Dark mode", "version": version, "labelled": "1", "labels": [foreign]}
    answer = client.post(f"/b/{board['board']}/cards/{board['ui']}/edit", data=data, headers=HX)
    assert answer.status_code == 422
    with app.app_context():
        assert labels.card_labels(board["ui"]) == []


def test_a_tile_with_labels_stays_small(app, client, board):
    with app.app_context():
        ids = [
            labels.add_label(board["board"], lead(board), f"Label {c.name}", c.key).id
            for c in PALETTE[:3]
        ]
        card = make_card(db.session.get(Board, board["board"]), lead(board), "feature", "x" * 200)
        version = card.version
        cards.edit_card(board["board"], lead(board), card.id, version, {"labels": ids})
        card_id = card.id
    Auth(client).login("ann")
    html = client.get(f"/b/{board['board']}", headers=HX).text
    tile = re.search(rf'<li[^>]*id="card-{card_id}".*?</li>', html).group(0)
    assert len(tile.encode()) < 1000


def test_every_label_colour_has_its_rule_in_the_stylesheet():
    css = (ROOT / "static" / "app.css").read_text()
    for colour in PALETTE:
        rule = f".lc-{colour.key} {{ background: {colour.background}; color: {colour.text}; }}"
        assert rule in css


# --- the archive --------------------------------------------------------------------------


def test_the_archive_search_ranks_and_matches_every_field(app, client, board):
    with app.app_context():
        b = db.session.get(Board, board["board"])
        who = lead(board)
        first = make_card(b, who, "feature", "Billing report", description="")
        second = make_card(b, who, "feature", "Other thing", description="billing is slow")
        third = make_card(b, who, "feature", "Quiet card")
        intake.add_comment(b.id, who, third.id, "Billing asked again", "internal")
        for card in (first, second, third):
            cards.close_card(b.id, who, card.id, "wont_do", "Not now")
        refs_in_order = [first.ref, second.ref, third.ref]
        db.session.remove()
    Auth(client).login("ann")
    page = client.get(f"/b/{board['board']}/done?q=billing").text
    found = re.findall(r'<td><a href="[^"]+">([^<]+)</a></td>', page)
    # The title first, then the rest newest first.
    assert found == [refs_in_order[0], refs_in_order[2], refs_in_order[1]]
    assert "3 cards matching" in page
    exact = client.get(f"/b/{board['board']}/done?q={refs_in_order[2]}").text
    assert re.findall(r'<td><a href="[^"]+">([^<]+)</a></td>', exact)[0] == refs_in_order[2]
    for odd in ('"', "' OR 1=1 --", "NEAR(", "*", "%"):
        assert client.get(f"/b/{board['board']}/done", query_string={"q": odd}).status_code == 200


def test_the_filter_forms_answer_pushes_the_filters_own_address(app, client, board):
    Auth(client).login("lee")
    base = f"/b/{board['board']}"
    messy = "?age=&who=&sev=s1&lane=nowhere&q=export+csv&label=x&blocked=1"
    answer = client.get(base + messy, headers=HX | {"HX-Trigger": "filters"})
    assert answer.headers["HX-Push-Url"] == f"{base}?q=export+csv&sev=S1&blocked=1"
    empty = client.get(f"{base}?who=&age=&q=", headers=HX | {"HX-Trigger": "filters"})
    assert empty.headers["HX-Push-Url"] == base
    # Other answers push nothing (the live poll, a page).
    assert "HX-Push-Url" not in client.get(base + messy, headers=HX).headers
    assert "HX-Push-Url" not in client.get(base + messy).headers
