"""A change that answers a current page with the parts it touched (a move, a pull) reads
those parts in its own transaction, before its COMMIT (store.commit's `answer`): the whole
request is one transaction. A page that was behind gets the whole board, read after."""

from __future__ import annotations

import pytest

from tests.helpers import Auth, BoardSpec, CardSpec, statements_sent

HX = {"HX-Request": "true"}


@pytest.fixture
def board_spec() -> BoardSpec:
    places = [("support", "Ready"), ("feature", "Ready"), ("feature", "In progress")]
    places += [("feature", "Done")]
    return BoardSpec(
        cards=tuple(
            CardSpec(f"card{i}", kind, f"Card {i}", at=at) for i, (kind, at) in enumerate(places)
        )
    )


def version_of(client, board) -> str:
    html = client.get(f"/b/{board['board']}", headers=HX).text
    return html.split('data-version="')[1].split('"')[0]


def change(client, board, what: str, version: str):
    headers = HX | {"X-Board-Version": version}
    if what == "pull":
        return client.post(f"/b/{board['board']}/pull", headers=headers)
    data = {"lane_id": board["feature_lane"], "column_id": board["Review"]}
    path = f"/b/{board['board']}/cards/{board['card2']}/move"
    return client.post(path, data=data, headers=headers)


def tile_reads(seen: list[str]) -> list[int]:
    """Where the answer reads card tiles (the cells' cards, with their assignees)."""
    return [i for i, s in enumerate(seen) if "FROM card LEFT OUTER JOIN user_account" in s]


@pytest.mark.parametrize("what", ["move", "pull"])
def test_a_current_pages_answer_is_read_before_the_changes_commit(app, client, board, what):
    Auth(client).login("ann")
    version = version_of(client, board)
    seen, answer = statements_sent(app, lambda: change(client, board, what, version), endings=True)
    assert answer.status_code == 200 and answer.headers.get("HX-Reswap") == "none", answer.text
    endings = [i for i, s in enumerate(seen) if s in ("COMMIT", "ROLLBACK")]
    assert [seen[i] for i in endings] == ["COMMIT"], seen  # one transaction, committed
    reads = tile_reads(seen)
    assert reads and all(i < endings[0] for i in reads), seen
    assert endings[0] == len(seen) - 1, seen  # nothing read after the commit


@pytest.mark.parametrize("what", ["move", "pull"])
def test_a_page_that_was_behind_gets_the_whole_board_read_after(app, client, board, what):
    Auth(client).login("ann")
    seen, answer = statements_sent(app, lambda: change(client, board, what, "0"), endings=True)
    assert answer.status_code == 200 and 'id="board"' in answer.text
    first_commit = seen.index("COMMIT")
    assert tile_reads(seen) and min(tile_reads(seen)) > first_commit, seen
