"""Login rate limits: per account typed and per client address, on POST /login only, with a
clear message and the form kept; counted in memory, or in the real Redis shared by several
app instances (hosts). Redis tests need TRACKER_TEST_REDIS_URL (CI sets it)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import time_machine

from tests.helpers import PASSWORD, REDIS_URL, make_user, new_app
from tests.helpers import app_config as config_for
from tracker.config import ConfigError
from tracker.extensions import db

LIMITS = {
    "RATELIMIT_ENABLED": True,
    "LOGIN_RATE_PER_ACCOUNT": "3 per minute",
    "LOGIN_RATE_PER_IP": "5 per minute",
}


def limited_app(url: str, **extra):
    return new_app(config_for(url, **LIMITS, **extra))


@pytest.fixture
def people(app):
    with app.app_context():
        for name in ("ann", "bob", "cy", "dee", "eve", "fay", "gus"):
            make_user(name)
        db.session.remove()
    return app.config["SQLALCHEMY_DATABASE_URI"]


WRONG = "wrong password"


def attempt(client, username, password=WRONG, address="192.0.2.1"):
    return client.post(
        "/login",
        data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_an_account_is_limited_whatever_the_address(people):
    client = limited_app(people).test_client()
    for i in range(3):
        assert attempt(client, "ann", address=f"192.0.2.{i}").status_code == 422
    refused = attempt(client, " ANN ", address="198.51.100.7")  # the same account, normalised
    assert refused.status_code == 429
    assert "Too many login attempts" in refused.text and "try again" in refused.text
    assert 'value=" ANN "' in refused.text or 'value="ANN"' in refused.text  # the form kept
    assert "wrong password" not in refused.text
    assert refused.headers["Retry-After"]
    # Even the right password waits: guessing cannot go on in the meantime.
    assert attempt(client, "ann", PASSWORD, address="198.51.100.8").status_code == 429
    # Another account from the same address is not affected.
    assert attempt(client, "bob", PASSWORD, address="192.0.2.1").status_code == 302


def test_an_address_is_limited_whatever_the_account(people):
    client = limited_app(people).test_client()
    for name in ("ann", "bob", "cy", "dee", "eve"):
        assert attempt(client, name).status_code == 422
    refused = attempt(client, "fay", PASSWORD)
    assert refused.status_code == 429 and "Too many login attempts" in refused.text
    assert attempt(client, "fay", PASSWORD, address="192.0.2.99").status_code == 302


def test_the_limit_lifts_after_a_minute_and_get_is_never_limited(people):
    client = limited_app(people).test_client()
    with time_machine.travel("2026-03-02 09:00:00", tick=False) as traveller:
        for _ in range(3):
            attempt(client, "ann")
        assert attempt(client, "ann").status_code == 429
        for _ in range(10):
            assert client.get("/login").status_code == 200
        traveller.shift(timedelta(seconds=61))
        assert attempt(client, "ann", PASSWORD).status_code == 302


def test_each_app_counts_in_its_own_memory(people):
    first, second = limited_app(people).test_client(), limited_app(people).test_client()
    for _ in range(3):
        attempt(first, "ann")
    assert attempt(first, "ann").status_code == 429
    assert attempt(second, "ann").status_code == 422  # memory:// is per process


def test_rates_come_from_the_environment_and_bad_ones_stop_the_app(app, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("DATABASE_URL", app.config["SQLALCHEMY_DATABASE_URI"])
    monkeypatch.setenv("TRACKER_LOGIN_RATE_PER_IP", "100/hour")
    monkeypatch.setenv("TRACKER_LOGIN_RATE_PER_ACCOUNT", "2 per minute")
    monkeypatch.setenv("TRACKER_RATELIMIT_STORAGE_URL", "memory://")
    configured = new_app()
    assert configured.config["LOGIN_RATE_PER_IP"] == "100/hour"
    assert configured.config["LOGIN_RATE_PER_ACCOUNT"] == "2 per minute"
    assert configured.config["RATELIMIT_STORAGE_URI"] == "memory://"
    monkeypatch.setenv("TRACKER_LOGIN_RATE_PER_IP", "lots")
    with pytest.raises(ConfigError, match="TRACKER_LOGIN_RATE_PER_IP"):
        new_app()


def test_the_default_is_in_memory_and_on(app, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("DATABASE_URL", app.config["SQLALCHEMY_DATABASE_URI"])
    monkeypatch.delenv("TRACKER_RATELIMIT_STORAGE_URL", raising=False)
    configured = new_app()
    assert configured.config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert configured.config["RATELIMIT_ENABLED"] is True
    assert configured.config["LOGIN_RATE_PER_IP"] == "30 per minute"
    assert configured.config["LOGIN_RATE_PER_ACCOUNT"] == "5 per minute"


# --- the real Redis ----------------------------------------------------------------------


@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own; its keys (and only those) are deleted after."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    prefix = f"wbtest-{uuid.uuid4().hex[:12]}"
    yield client, prefix
    for key in client.scan_iter(match=f"*{prefix}*", count=500):
        client.delete(key)
    client.close()


def test_several_hosts_share_the_count_in_redis(people, redis_prefix):
    redis_client, prefix = redis_prefix
    hosts = [
        limited_app(people, RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_KEY_PREFIX=prefix)
        for _ in range(2)
    ]
    clients = [host.test_client() for host in hosts]
    for i in range(3):  # the attempts alternate between the two "hosts"
        assert attempt(clients[i % 2], "ann", address=f"192.0.2.{i}").status_code == 422
    assert attempt(clients[1], "ann", PASSWORD, address="192.0.2.50").status_code == 429
    assert attempt(clients[0], "ann", PASSWORD, address="192.0.2.51").status_code == 429
    keys = [key.decode() for key in redis_client.scan_iter(match=f"*{prefix}*")]
    assert keys, "the counts are in Redis"
    assert not any("ann" in key for key in keys)  # the account is hashed
    # The address limit is shared too.
    for name in ("bob", "cy", "dee", "eve", "fay"):
        attempt(clients[0] if name < "d" else clients[1], name, address="203.0.113.5")
    assert attempt(clients[0], "gus", PASSWORD, address="203.0.113.5").status_code == 429


def test_redis_counts_outlive_an_app_restart(people, redis_prefix):
    _redis, prefix = redis_prefix
    config = {"RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": prefix}
    before = limited_app(people, **config).test_client()
    for _ in range(3):
        attempt(before, "bob")
    after = limited_app(people, **config).test_client()  # a restarted worker
    assert attempt(after, "bob", PASSWORD).status_code == 429


def test_an_unreachable_redis_falls_back_to_memory_instead_of_refusing_logins(people):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    client = limited_app(people, RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{port}/0").test_client()
    assert attempt(client, "ann", PASSWORD).status_code == 302
    client.post("/logout", data={})
    for _ in range(3):
        assert attempt(client, "bob").status_code == 422
    assert attempt(client, "bob").status_code == 429  # still limited, in this process


def test_only_failed_attempts_count(people):
    """An office behind one address logging in at nine, or one person on several devices,
    is not an attack: successful logins use up neither limit."""
    client = limited_app(people).test_client()
    for name in ("ann", "bob", "cy", "dee", "eve", "fay", "gus"):  # 7 > 5 per address
        assert attempt(client, name, PASSWORD).status_code == 302
        client.post("/logout", data={})
    for _ in range(4):  # 4 > 3 per account
        assert attempt(client, "ann", PASSWORD, address="192.0.2.50").status_code == 302
        client.post("/logout", data={})
    # Failures still count, from the same address as all those logins.
    for name in ("ann", "bob", "cy", "dee", "eve"):
        assert attempt(client, name).status_code == 422
    assert attempt(client, "fay", PASSWORD).status_code == 429


def _database_away(*args, **kwargs):
    from sqlalchemy.exc import OperationalError

    raise OperationalError("SELECT users", {}, ConnectionError("server closed the connection"))


def test_answers_during_a_database_outage_do_not_count(people, monkeypatch):
    """The right password during a database hiccup (503) is not a wrong password: once the
    database is back it logs in at once, with no 429 from either limit."""
    from tracker.services import users

    client = limited_app(people).test_client()
    tries = 6  # more than both limits (3 per account, 5 per address)
    with monkeypatch.context() as outage:
        outage.setattr(users, "_by_username", _database_away)
        for _ in range(tries):
            assert attempt(client, "ann", PASSWORD).status_code == 503
    assert attempt(client, "ann", PASSWORD).status_code == 302


def test_answers_that_check_no_credentials_do_not_count(people):
    """A form missing its password (shape error) or posted without its CSRF token checks no
    credentials, so it uses up neither limit."""
    client = limited_app(people).test_client()
    for _ in range(6):
        assert attempt(client, "ann", "").status_code == 422
    assert attempt(client, "ann", PASSWORD).status_code == 302

    guarded = limited_app(people, WTF_CSRF_ENABLED=True).test_client()
    for _ in range(6):
        assert attempt(guarded, "bob", PASSWORD).status_code == 400
    page = guarded.get("/login", environ_base={"REMOTE_ADDR": "192.0.2.1"}).text
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    answer = guarded.post(
        "/login",
        data={"username": "bob", "password": PASSWORD, "csrf_token": token},
        environ_base={"REMOTE_ADDR": "192.0.2.1"},
    )
    assert answer.status_code == 302


def test_a_wrong_password_still_counts_after_a_database_outage(people, monkeypatch):
    from tracker.services import users

    client = limited_app(people).test_client()
    with monkeypatch.context() as outage:
        outage.setattr(users, "_by_username", _database_away)
        attempt(client, "ann", PASSWORD)
    for _ in range(3):
        assert attempt(client, "ann").status_code == 422
    assert attempt(client, "ann", PASSWORD).status_code == 429


# Ways of typing ann that the login takes as ann (tests/domain/test_accounts.py has more).
ANN_VARIANTS = [
    "ann\x00",
    "ann" + "\x00" * 40,
    "a\x00nn",
    "ann\x01",
    " ann\t",
    "ANN",
    "\uff41\uff4e\uff4e",  # fullwidth
    "ann\u200b",  # zero-width space
]


@pytest.mark.parametrize("typed", ANN_VARIANTS)
def test_every_form_of_a_name_logs_in_as_that_person(people, typed):
    client = new_app(config_for(people)).test_client()
    assert attempt(client, typed, PASSWORD).status_code == 302
    assert "Ann Person" in client.get("/", follow_redirects=True).text


@pytest.mark.parametrize("typed", ANN_VARIANTS)
def test_every_form_of_a_name_shares_one_account_budget(people, typed):
    """Guesses typed as ann with NULs, control characters, spaces, another case or another
    Unicode form are guesses at ann: they use up ann's budget, not a budget of their own."""
    client = limited_app(people).test_client()
    for i in range(3):
        assert attempt(client, typed, address=f"192.0.2.{i}").status_code == 422
    assert attempt(client, "ann", PASSWORD, address="198.51.100.1").status_code == 429
    assert attempt(client, typed, PASSWORD, address="198.51.100.2").status_code == 429

    other = limited_app(people).test_client()
    for i in range(3):
        assert attempt(other, "ann", address=f"192.0.2.{i}").status_code == 422
    assert attempt(other, typed, PASSWORD, address="198.51.100.3").status_code == 429
