"""Fixtures: a throwaway database per run (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import make_url, text

from tests.helpers import Auth
from tracker import create_app
from tracker.extensions import db

PG_URL = os.environ.get("TRACKER_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgres"]


def test_config(url: str, **extra) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
        # Tests log in far more often than a person; tests/test_rate_limit.py turns it on.
        "RATELIMIT_ENABLED": False,
        "SQLALCHEMY_DATABASE_URI": url,
        **extra,
    }


def postgres_database():
    """Create a throwaway PostgreSQL database; returns (url, drop function)."""
    import psycopg

    base = make_url(PG_URL)
    name = f"wb_test_{uuid.uuid4().hex[:10]}"
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return base.set(database=name).render_as_string(hide_password=False), drop


def require_postgres():
    if not PG_URL:
        pytest.skip("PostgreSQL tests need TRACKER_TEST_POSTGRES_URL (CI sets it)")


@pytest.fixture(scope="session")
def pg_url():
    """A throwaway PostgreSQL database URL for this run, dropped at the end."""
    require_postgres()
    url, drop = postgres_database()
    yield url
    drop()


@pytest.fixture(scope="session", params=BACKENDS)
def app_session(request, tmp_path_factory):
    if request.param == "postgres":
        url = request.getfixturevalue("pg_url")
    else:
        url = "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")
    yield from serve_app(test_config(url))


def serve_app(config: dict):
    """An app with its tables created, disposed of afterwards (a generator for fixtures)."""
    app = create_app(config)
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def wipe(app) -> None:
    """Empty every table (the database is this run's own, so this is safe)."""
    with app.app_context():
        db.session.remove()
        tables = db.metadata.sorted_tables
        if db.engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):
                db.session.execute(table.delete())
        db.session.commit()


_made: list = []


def new_app(config: dict | None = None):
    """An app of the test's own (from the environment when config is None); its database
    connections are closed after the test."""
    made = create_app(config)
    _made.append(made)
    return made


@pytest.fixture(autouse=True)
def _close_apps():
    yield
    while _made:
        with _made.pop().app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(app_session):
    yield app_session
    wipe(app_session)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def auth(client):
    return Auth(client)


@pytest.fixture
def ctx(app):
    """An app context for calling services directly."""
    with app.app_context():
        yield
        db.session.remove()
