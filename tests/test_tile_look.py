"""What a tile shows at a glance (README "Look and feel"): its lane's coloured edge, the
severity as a coloured badge, the assignee as initials on their own colour; and every page
has the theme choice and the person's avatar in its header."""

from __future__ import annotations

import pytest

from tests.helpers import BoardSpec, CardSpec, Person, actor
from tests.html_tree import parse
from tracker.domain.avatars import avatar_colour
from tracker.extensions import db
from tracker.models import Card, User
from tracker.services import cards

HX = {"HX-Request": "true"}
# One card per lane kind, each with a severity where the lane has them, and who holds it.
CARDS = {
    "expedite": ("S1", "zoe"),
    "support": ("S3", "ann"),
    "feature": (None, "bo"),
}


@pytest.fixture
def board_spec() -> BoardSpec:
    people = {
        "ann": Person("member", name="Ann Person"),
        "bo": Person("member", name="Bo Lindqvist"),
        "zoe": Person("member", name="Zoe van Dijk"),
        "lee": Person("lead", name="Lee Lead"),
    }
    return BoardSpec(
        limits={"expedite": 2},
        people=people,
        cards=tuple(
            CardSpec(
                kind, kind, f"A {kind} card", by="lee", fields={"severity": sev} if sev else {}
            )
            for kind, (sev, _who) in CARDS.items()
        ),
    )


@pytest.fixture
def assigned(app, board):
    with app.app_context():
        lee = actor(db.session.get(User, board["lee"]), "lead")
        for kind, (_sev, who) in CARDS.items():
            cards.assign_card(board["board"], lee, board[kind], board[who])
        db.session.remove()
    return board


def tiles(html: str, board: dict) -> dict:
    page = parse(html)
    return {kind: page.find(f"card-{board[kind]}") for kind in CARDS}


def children(element, tag: str, cls: str | None = None) -> list:
    found = []
    for child in element.children:
        if isinstance(child, str):
            continue
        if child.tag == tag and (cls is None or cls in (child.attrs.get("class") or "").split()):
            found.append(child)
        found.extend(children(child, tag, cls))
    return found


def test_the_people_here_have_different_colours():
    """Else the avatar test could not tell one person's colour from a constant."""
    assert len({avatar_colour(who) for _sev, who in CARDS.values()}) == len(CARDS)


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_each_tile_carries_its_lane_edge_severity_badge_and_assignee_avatar(
    app, client, auth, assigned, headers
):
    auth.login("ann")
    answer = client.get(f"/b/{assigned['board']}", headers=headers)
    assert answer.status_code == 200
    with app.app_context():
        people = {
            u.username: (u.name, u.initials) for u in db.session.execute(db.select(User)).scalars()
        }
        refs = {kind: db.session.get(Card, assigned[kind]).ref for kind in CARDS}
    for kind, tile in tiles(answer.text, assigned).items():
        severity, who = CARDS[kind]
        classes = tile.attrs["class"].split()
        assert f"lane-{kind}" in classes, (kind, classes)
        assert [c for c in classes if c.startswith("lane-")] == [f"lane-{kind}"]
        badges = children(tile, "span", "sev")
        if severity:
            assert [b.attrs["class"] for b in badges] == [f"sev {severity}"]
            assert badges[0].text().endswith(f">{severity}</span>")
        else:
            assert badges == []
        (avatar,) = children(tile, "abbr")
        name, initials = people[who]
        assert avatar.attrs["class"] == f"a{avatar_colour(who)}"
        assert avatar.attrs["title"] == name
        assert avatar.children == [initials]
        assert refs[kind] in tile.text()


def test_a_tile_nobody_holds_has_no_avatar(client, auth, board):
    auth.login("ann")
    page = client.get(f"/b/{board['board']}").text
    for tile in tiles(page, board).values():
        assert children(tile, "abbr") == []


def test_every_page_has_the_theme_choice_hidden_until_script_shows_it(client, auth, board):
    """Without script the system's theme holds, so the buttons that need script are hidden."""
    for url in ("/login", f"/b/{board['board']}", f"/b/{board['board']}/report"):
        if url != "/login":
            auth.login("ann")
        page = parse(client.get(url).text)
        (group,) = [e for e in children(page, "div", "theme")]
        assert "hidden" in group.attrs and group.attrs["aria-label"] == "Theme"
        choices = [b.attrs["data-theme-choice"] for b in children(group, "button")]
        assert choices == ["light", "dark", "system"]
        scripts = [s.attrs["src"] for s in children(page, "script")]
        assert scripts[0].endswith("/static/theme.js"), "the theme comes before any paint"
        head = children(page, "head")[0]
        theme = next(s for s in children(head, "script") if s.attrs["src"].endswith("theme.js"))
        assert "defer" not in theme.attrs and "async" not in theme.attrs


def test_the_header_shows_the_person_as_their_avatar(client, auth, board):
    auth.login("bo")
    page = parse(client.get(f"/b/{board['board']}").text)
    (avatar,) = children(page, "span", "avatar")
    assert avatar.attrs["class"] == f"avatar a{avatar_colour('bo')}"
    assert avatar.children == ["BL"]
