"""Configuration: safe defaults here, then instance/config.py, then environment variables.

Every variable read here is listed in the README's "Configuration" section.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

DEFAULTS: dict[str, object] = {
    # Sessions: signed cookies carrying a per-person session token (see auth.py).
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
    # Werkzeug's default is scrypt (memory-hard); tests switch to a cheap method.
    "PASSWORD_HASH_METHOD": "scrypt",
    "DONE_SHOWN_PER_LANE": 3,
    "ARCHIVE_PAGE_SIZE": 50,
}


class ConfigError(RuntimeError):
    """The app cannot start with the configuration it was given."""


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def load(app, test_config: dict | None) -> None:
    """Fill app.config from defaults, instance/config.py, the environment and test_config."""
    app.config.from_mapping(DEFAULTS)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(
        app.instance_path, "weatherboard.sqlite3"
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        _from_environment(app)
    else:
        app.config.from_mapping(test_config)
    _require_secret_key(app)


def _from_environment(app) -> None:
    # DATABASE_URL: SQLAlchemy URL, e.g. postgresql+psycopg://user:pass@host/db.
    url = os.environ.get("DATABASE_URL")
    if url:
        if url.startswith("postgres://"):  # the Heroku-style scheme SQLAlchemy rejects
            url = "postgresql+psycopg://" + url.removeprefix("postgres://")
        elif url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        app.config["SQLALCHEMY_DATABASE_URI"] = url
    # SECRET_KEY: signs session cookies and CSRF tokens. Required outside demo/debug mode.
    if os.environ.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
    # TRACKER_DEMO=1: local demo mode (what `make run` uses); a key is made and kept in instance/.
    app.config["DEMO"] = _env_flag("TRACKER_DEMO")
    # TRACKER_SECURE_COOKIES=1: send session cookies only over HTTPS (set it behind TLS).
    if _env_flag("TRACKER_SECURE_COOKIES"):
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    # TRACKER_PROXY_COUNT=N: trust X-Forwarded-For/-Proto/-Host from N proxies in front
    # (a load balancer, nginx). 0 (the default) trusts none: never set it without a proxy.
    app.config["PROXY_COUNT"] = int(os.environ.get("TRACKER_PROXY_COUNT", "0") or 0)
    # TRACKER_SQL_ECHO=1: log every SQL statement (debugging only).
    app.config["SQLALCHEMY_ECHO"] = _env_flag("TRACKER_SQL_ECHO")


def _require_secret_key(app) -> None:
    if app.config.get("SECRET_KEY"):
        return
    if app.config.get("DEMO") or app.debug:
        key_file = Path(app.instance_path) / "secret_key"
        if not key_file.exists():
            key_file.write_text(secrets.token_hex(32))
            key_file.chmod(0o600)
        app.config["SECRET_KEY"] = key_file.read_text().strip()
        return
    raise ConfigError(
        "SECRET_KEY is not set. Set the SECRET_KEY environment variable to a long random "
        "value (for example: python -c 'import secrets; print(secrets.token_hex(32))'), "
        "or use TRACKER_DEMO=1 for a local demo."
    )
