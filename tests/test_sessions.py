"""Session cookies: HttpOnly, SameSite=Lax, Secure over https (or when told); a fresh
session at login (nothing planted before survives); logout really ends it."""

from __future__ import annotations

import pytest

from tests.helpers import PASSWORD, make_user, new_app
from tests.helpers import app_config as config_for
from tracker.extensions import db


@pytest.fixture
def person(app):
    with app.app_context():
        make_user("ann")
        db.session.remove()


def session_cookie(response) -> str:
    (header,) = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]
    return header


def login(client, **kwargs):
    return client.post("/login", data={"username": "ann", "password": PASSWORD}, **kwargs)


def test_the_session_cookie_is_httponly_and_samesite_lax(client, person):
    cookie = session_cookie(login(client))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http (a local demo) keeps working


def test_the_cookie_is_secure_when_the_request_came_over_https(client, person):
    cookie = session_cookie(login(client, base_url="https://tracker.example.com"))
    assert "; Secure" in cookie and "HttpOnly" in cookie


def test_the_cookie_is_secure_behind_a_tls_proxy_that_is_trusted(app, person):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    proxied = new_app(config_for(url, PROXY_COUNT=1)).test_client()
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    assert "; Secure" in session_cookie(login(proxied, headers=forwarded))
    # Without a trusted proxy the header is ignored: a client cannot claim https.
    direct = new_app(config_for(url)).test_client()
    assert "Secure" not in session_cookie(login(direct, headers=forwarded))


def test_tracker_secure_cookies_makes_it_secure_even_over_http(app, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("DATABASE_URL", app.config["SQLALCHEMY_DATABASE_URI"])
    monkeypatch.setenv("TRACKER_SECURE_COOKIES", "1")
    secure = new_app()
    assert secure.config["SESSION_COOKIE_SECURE"] is True
    with secure.app_context():
        make_user("sue")
        db.session.remove()
    client = secure.test_client()
    response = client.post("/login", data={"username": "sue", "password": PASSWORD})
    assert "; Secure" in session_cookie(response)
    with secure.app_context():
        db.session.remove()
        db.engine.dispose()


def test_login_starts_a_fresh_session(client, person):
    client.get("/login")  # an anonymous session with its CSRF secret
    with client.session_transaction() as session:
        session["planted"] = "by an attacker who fixed this cookie"
        before_csrf = session.get("csrf_token")
    before = client.get_cookie("session").value
    assert before_csrf  # the login form put one there
    response = login(client)
    assert response.status_code == 302
    after = client.get_cookie("session").value
    assert after != before
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("csrf_token") in (None, "") or session["csrf_token"] != before_csrf
        assert session.get("_user_id")


def test_logout_ends_the_session_even_for_a_copied_cookie(app, client, person):
    login(client)
    stolen = app.test_client()
    stolen.set_cookie("session", client.get_cookie("session").value)
    assert stolen.get("/").status_code == 200
    client.post("/logout")
    assert client.get("/").status_code == 302
    assert stolen.get("/").status_code == 302  # the copy ended with it


def test_a_boosted_login_reloads_the_page_so_it_carries_the_new_csrf_token(app, person):
    import re

    url = app.config["SQLALCHEMY_DATABASE_URI"]
    client = new_app(config_for(url, WTF_CSRF_ENABLED=True)).test_client()
    token = re.compile(r'"X-CSRFToken": "([^"]+)"')
    old = token.search(client.get("/login").text).group(1)
    hx = {"HX-Request": "true", "HX-Boosted": "true", "X-CSRFToken": old}
    answer = client.post(
        "/login?next=/", data={"username": "ann", "password": PASSWORD}, headers=hx
    )
    assert answer.status_code == 200 and answer.headers["HX-Redirect"] == "/"
    new = token.search(client.get("/").text).group(1)
    # The pre-login token died with the pre-login session; the new page's token works.
    assert (
        client.post("/logout", headers={"HX-Request": "true", "X-CSRFToken": old}).status_code
        == 400
    )
    logout = client.post("/logout", headers={"HX-Request": "true", "X-CSRFToken": new})
    assert logout.status_code == 302 and client.get("/").status_code == 302
