"""Health checks, the database-unavailable answer, and forwarded headers."""

from tests.helpers import app_config as config_for
from tracker import create_app
from tracker.web.access import ROUTES


def test_health_and_ready(client):
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/readyz").json == {"status": "ready"}


def broken_app(tmp_path, **extra):
    # A SQLite file in a folder that does not exist: every query fails to connect.
    return create_app(config_for(f"sqlite:///{tmp_path}/missing/dir/db.sqlite3", **extra))


def test_database_unavailable_is_a_plain_503(tmp_path):
    client = broken_app(tmp_path).test_client()
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json == {"status": "database unavailable"}
    page = client.post("/login", data={"username": "ann", "password": "x" * 12})
    assert page.status_code == 503
    assert page.headers["Retry-After"] == "5"
    assert "cannot reach its database" in page.text and "Try again" in page.text
    fragment = client.post(
        "/login", data={"username": "ann", "password": "x" * 12}, headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 503 and "<html" not in fragment.text


def test_forwarded_headers_are_trusted_only_when_configured(app_session, monkeypatch):
    monkeypatch.setitem(ROUTES, "probe", "public")
    url = app_session.config["SQLALCHEMY_DATABASE_URI"]
    seen = {}

    def capture(proxy_count):
        app = create_app(config_for(url, PROXY_COUNT=proxy_count))

        @app.get("/_probe")
        def probe():
            from flask import request

            seen[proxy_count] = (request.remote_addr, request.scheme)
            return "ok"

        app.test_client().get(
            "/_probe", headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
        )

    capture(0)
    capture(1)
    assert seen[0] == ("127.0.0.1", "http")
    assert seen[1] == ("203.0.113.9", "https")


def test_security_headers_on_pages_and_fragments(client):
    for headers in ({}, {"HX-Request": "true"}):
        response = client.get("/login", headers=headers)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
    assert client.get("/healthz").headers["X-Frame-Options"] == "DENY"


def test_templates_have_no_inline_script_style_or_handlers():
    import re
    from pathlib import Path

    for path in Path("templates").rglob("*.html"):
        text = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), path
        assert not re.search(r"\sstyle=", text), path
        assert not re.search(r"\son[a-z]+=", text), path
        assert "hx-on" not in text, path


def test_the_favicon_is_served_to_anyone(client):
    """Browsers ask every site for /favicon.ico; a 404 there is a console error on each page."""
    with client.get("/favicon.ico") as icon:
        assert icon.status_code == 200
        assert icon.mimetype == "image/vnd.microsoft.icon"
        assert icon.data[:4] == b"\x00\x00\x01\x00"  # an ICO file's header
        assert "Set-Cookie" not in icon.headers
