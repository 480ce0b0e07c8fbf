"""What every answer does for privacy and robustness: private pages and exports are never
cached (static files are), an oversized body is refused with the friendly page, and
bidirectional controls in people's text cannot reorder what headings and titles show."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.helpers import PASSWORD, actor, make_board, make_card, make_user
from tracker import config
from tracker.extensions import db
from tracker.models import Card, Sprint
from tracker.services import intake, reports
from tracker.services.reports import SprintInput

RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: "abc\u202etxt.exe" shows as "abcexe.txt"


@pytest.fixture
def site(app):
    """Board Team led by Ada (also an admin), with a card, a request and a sprint."""
    with app.app_context():
        board = make_board("Team")
        ada = make_user("ada", admin=True, board=board, role="lead")
        lead = actor(ada, "lead")
        card = make_card(board, lead, "feature", "A card")
        filed = intake.file_request(
            board.id,
            lead,
            {
                "title": "A request",
                "description": "It broke.",
                "requester": "Dana",
                "requester_email": "",
                "severity": "S3",
                "component": "Other",
                "environment": "prod",
            },
            intake.new_intake_key(),
        ).card
        from datetime import date

        sprint = reports.add_sprint(
            board.id, lead, SprintInput("Sprint 1", date(2026, 3, 2), date(2026, 3, 8), 5, None)
        )
        ids = {
            "board_id": board.id,
            "card_id": card.id,
            "request_id": filed.id,
            "user_id": ada.id,
            "sprint_id": sprint.id,
        }
        db.session.remove()
    return ids


def get_urls(app, ids) -> dict[str, str]:
    """A URL for every GET route, with the site's ids for its arguments."""
    values = {
        "board_id": ids["board_id"],
        "card_id": ids["card_id"],
        "incident_id": ids["card_id"],  # not an incident: the refusal is checked too
        "user_id": ids["user_id"],
        "token": "A" * 43,
        "mail_token": "A" * 43,
        "filename": "app.css",
        "chart": "cfd",
    }
    urls = {}
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        args = {name: values[name] for name in rule.arguments}
        if rule.endpoint == "intake.show":
            args["card_id"] = ids["request_id"]
        with app.test_request_context():
            from flask import url_for

            urls[rule.endpoint] = url_for(rule.endpoint, **args)
    return urls


def test_every_answer_to_a_logged_in_person_and_every_csv_is_not_stored(app, client, site):
    assert client.post("/login", data={"username": "ada", "password": PASSWORD}).status_code == 302
    urls = get_urls(app, site)
    assert {"reports.export", "audit.export_all", "audit.export_board", "static"} <= set(urls)
    for endpoint, url in sorted(urls.items()):
        answer = client.get(url)
        answer.close()  # static files are streamed from disk
        cache = answer.headers.get("Cache-Control", "")
        if endpoint == "static":
            assert answer.status_code == 200 and "no-store" not in cache, url
        else:
            assert "no-store" in cache, (url, answer.status_code, cache)
    # A POST's answer too (here a refused one), and the 404 of an unknown path.
    assert "no-store" in client.post(f"/b/{site['board_id']}/pull").headers["Cache-Control"]
    assert "no-store" in client.get("/no/such/page").headers["Cache-Control"]


def test_anonymous_pages_and_static_files_keep_their_caching(client):
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")
    with client.get("/static/app.css") as static:
        assert static.status_code == 200
        assert "no-store" not in static.headers.get("Cache-Control", "")


def test_an_oversized_body_is_refused_with_the_friendly_page(app, client, site):
    limit = app.config["MAX_CONTENT_LENGTH"]
    assert limit == config.DEFAULTS["MAX_CONTENT_LENGTH"] == 1024 * 1024
    client.post("/login", data={"username": "ada", "password": PASSWORD})
    path = f"/b/{site['board_id']}/intake"
    answer = client.post(path, data={"title": "x" * limit})
    assert answer.status_code == 413
    assert "That is more text than this form takes." in answer.text
    assert "<html" in answer.text.lower()  # the site's error page, not Werkzeug's
    assert client.post(path, data={"title": "x" * (limit // 2)}).status_code != 413
    with app.app_context():
        assert db.session.execute(select(Card).where(Card.title.startswith("xxx"))).first() is None
        db.session.remove()


def test_the_body_limit_comes_from_the_environment(monkeypatch):
    from flask import Flask

    def load(value=None):
        monkeypatch.delenv("TRACKER_MAX_CONTENT_LENGTH", raising=False)
        if value is not None:
            monkeypatch.setenv("TRACKER_MAX_CONTENT_LENGTH", value)
        flask_app = Flask("check")
        flask_app.config.from_mapping(config.DEFAULTS)
        config._from_environment(flask_app)
        return flask_app.config["MAX_CONTENT_LENGTH"]

    assert load() == 1024 * 1024
    assert load("5000000") == 5_000_000
    for bad in ("lots", "-1", "0"):
        with pytest.raises(config.ConfigError, match="TRACKER_MAX_CONTENT_LENGTH"):
            load(bad)


def headings(html: str) -> list[str]:
    return re.findall(r"<(title|h1|h2)[^>]*>(.*?)</\1>", html, flags=re.S)


def test_bidirectional_overrides_never_reach_headings_or_titles(app, client, site):
    tricky = f"Pay{RLO}fdp.exe"
    with app.app_context():
        from tracker.models import Board, User

        db.session.get(Board, site["board_id"]).name = "Board " + tricky
        db.session.get(User, site["user_id"]).name = "Ada " + tricky
        db.session.get(Card, site["card_id"]).title = "Card " + tricky
        db.session.get(Card, site["request_id"]).title = "Request " + tricky
        db.session.get(Sprint, site["sprint_id"]).name = "Sprint " + tricky
        db.session.commit()
        db.session.remove()
    client.post("/login", data={"username": "ada", "password": PASSWORD})
    b = site["board_id"]
    pages = {
        "board": f"/b/{b}",
        "card": f"/b/{b}/cards/{site['card_id']}",
        "request": f"/b/{b}/requests/{site['request_id']}",
        "sprints": f"/b/{b}/sprints",
        "report": f"/b/{b}/report",
        "person": f"/admin/people/{site['user_id']}",
        "boards": "/",
    }
    seen = set()
    for name, path in pages.items():
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert RLO not in answer.text, name
        for _, heading in headings(answer.text):
            seen.update(
                w for w in ("Board", "Ada", "Card", "Request", "Sprint") if f"{w} Pay" in heading
            )
    assert seen == {"Board", "Ada", "Card", "Request", "Sprint"}  # each was in a heading
