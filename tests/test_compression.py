"""Answers go out compressed when the client accepts it (Flask-Compress): the board page,
its htmx answers, scripts and downloads; small answers, empty ones and clients that ask for
nothing are sent as they are; TRACKER_COMPRESS=off turns it off (a proxy compresses)."""

from __future__ import annotations

import gzip
import re

import brotli
import pytest
from backports import zstd

from tests.helpers import BoardSpec, CardSpec, new_app

UNPACK = {"gzip": gzip.decompress, "br": brotli.decompress, "zstd": zstd.decompress}


@pytest.fixture
def board_spec() -> BoardSpec:
    cards = tuple(CardSpec(f"card{i}", "feature", f"Card number {i}") for i in range(30))
    return BoardSpec(people={"ann": "member", "lee": "lead"}, cards=cards)


def fetch(client, path: str, accept: str | None, **headers):
    if accept is not None:
        headers["Accept-Encoding"] = accept
    return client.get(path, headers=headers)


TOKEN = re.compile(rb'(name="csrf_token" value="|"X-CSRFToken": ")[^"]+')


def without_tokens(html: bytes) -> bytes:
    """The page with every CSRF token taken out (Flask-WTF signs them with the time)."""
    return TOKEN.sub(rb"\1", html)


@pytest.mark.parametrize("accept", ["gzip", "br", "zstd", "zstd, br, gzip", "gzip, deflate, br"])
def test_the_board_page_is_compressed_as_the_client_accepts(client, auth, board, accept):
    auth.login("ann")
    path = f"/b/{board['board']}"
    plain = fetch(client, path, None)
    packed = fetch(client, path, accept)
    encoding = packed.headers["Content-Encoding"]
    assert encoding in accept
    if accept.startswith("zstd"):
        assert encoding == "zstd"  # the first the app prefers among those accepted
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert "Content-Encoding" not in plain.headers
    body = UNPACK[encoding](packed.get_data())
    # The same page but for its CSRF tokens, which Flask-WTF signs anew each second.
    assert without_tokens(body) == without_tokens(plain.get_data())
    assert int(packed.headers["Content-Length"]) == len(packed.get_data())
    assert len(packed.get_data()) * 3 < len(plain.get_data())


@pytest.mark.parametrize("accept", ["zstd, br, gzip", "br", "gzip"])
def test_htmx_answers_and_downloads_are_compressed(client, auth, board, accept):
    auth.login("lee")
    for path, headers in (
        (f"/b/{board['board']}", {"HX-Request": "true"}),
        (f"/b/{board['board']}/report.csv", {}),
    ):
        plain = fetch(client, path, None, **headers).get_data()
        answer = fetch(client, path, accept, **headers)
        encoding = answer.headers.get("Content-Encoding")
        assert answer.status_code == 200 and encoding == accept.split(",")[0], (path, encoding)
        assert without_tokens(UNPACK[encoding](answer.get_data())) == without_tokens(plain)


def test_static_files_go_as_they_are(client):
    """Sent from the file as a stream, which Flask-Compress would leave open; the browser
    keeps them, and a proxy in front may compress them."""
    answer = fetch(client, "/static/vendor/htmx-2.0.11.min.js", "zstd, br, gzip")
    assert answer.status_code == 200 and "Content-Encoding" not in answer.headers
    answer.close()


def test_small_and_empty_answers_go_as_they_are(client, auth, board):
    auth.login("ann")
    page = client.get(f"/b/{board['board']}", headers={"HX-Request": "true"}).text
    version = page.split('data-version="')[1].split('"')[0]
    poll = fetch(client, f"/b/{board['board']}/live?v={version}", "gzip", **{"HX-Request": "true"})
    assert poll.status_code == 204 and "Content-Encoding" not in poll.headers
    health = fetch(client, "/healthz", "gzip")
    assert health.status_code == 200 and "Content-Encoding" not in health.headers


def test_tracker_compress_off_sends_everything_as_it_is(app, board, monkeypatch):
    monkeypatch.setenv("TRACKER_COMPRESS", "off")
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.setenv("DATABASE_URL", app.config["SQLALCHEMY_DATABASE_URI"])
    client = new_app().test_client()
    answer = fetch(client, "/login", "gzip, br, zstd")
    assert answer.status_code == 200 and len(answer.get_data()) > 1000
    assert "Content-Encoding" not in answer.headers
    monkeypatch.delenv("TRACKER_COMPRESS")
    answer = fetch(new_app().test_client(), "/login", "gzip, br, zstd")
    assert answer.headers["Content-Encoding"] == "zstd"  # the same page, compressed by default
