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
    # How many boards (the busiest first) a started server reads and renders before it takes
    # requests, so that their first page is as fast as the next ones (tracker.web.warm).
    "WARM_BOARDS": 10,
    # How many board grids each process keeps, by board version (tracker.web.presenters.grid):
    # a board nobody changed is shown again without reading its cards. 0 keeps none.
    "KEPT_GRIDS": 64,
    # Login rate limits (tracker.web.ratelimit, Flask-Limiter): per client address and per
    # account typed, on POST /login; only failed attempts count. Counted in memory unless a
    # Redis URL is given.
    "LOGIN_RATE_PER_IP": "30 per minute",
    "LOGIN_RATE_PER_ACCOUNT": "5 per minute",
    # API requests per personal access token (tracker.web.ratelimit), every request counted.
    "API_RATE_PER_TOKEN": "600 per minute",
    # Replies a requester may post through one status link (tracker.web.desk).
    "STATUS_REPLY_RATE": "10 per hour",
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_STRATEGY": "moving-window",
    "RATELIMIT_KEY_PREFIX": "weatherboard",
    "RATELIMIT_HEADERS_ENABLED": True,
    # Redis down: count in this process's memory meanwhile rather than refuse every login.
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
    "ARCHIVE_PAGE_SIZE": 50,
    # How many seconds a move, a close or a block can be undone from its notice: the server
    # refuses an undo after that, and the notice (static/app.js) goes then. A number; tests
    # of the notice's timer set it lower (tracker.web.board.undo_window).
    "UNDO_SECONDS": 10,
    # The largest request body accepted, in bytes; a bigger one is answered 413 before it is
    # read (the longest form, a request with its description, is far below this).
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    # Answers compressed for clients that accept it (Flask-Compress): zstd, brotli or gzip,
    # whichever the client prefers, for text answers of 500 bytes or more. The 200-card
    # board page, 64 KB, goes out as about 8.5 KB (zstd, level 3, 0.06 ms).
    "COMPRESS_ALGORITHM": ["zstd", "br", "gzip"],
    "COMPRESS_MIMETYPES": [
        "text/html",
        "text/css",
        "text/javascript",
        "application/javascript",
        "application/json",
        "text/csv",
        "image/svg+xml",
    ],
    # Files from static/ are sent as they are: Flask-Compress would compress them as a
    # stream without closing the file it reads; browsers keep them (SEND_FILE_MAX_AGE).
    "COMPRESS_STREAMS": False,
    "COMPRESS_REGISTER": True,
    # Alerts from monitoring (tracker.web.alerts): posts per alert token, counted like the
    # login limits (same storage), e.g. "120 per minute".
    "ALERT_RATE": "120 per minute",
    # Outgoing webhooks (services.webhooks): seconds to wait for a receiver (connect and
    # answer), and whether loopback, private and link-local addresses may receive them.
    "WEBHOOK_TIMEOUT": 10,
    "WEBHOOK_ALLOW_PRIVATE": False,
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
    _observability_from_environment(app)
    _check_mail(app)
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
    # Without it, a request that arrives over https (directly, or through a trusted proxy's
    # X-Forwarded-Proto) still gets a Secure cookie (auth.SessionInterface).
    if _env_flag("TRACKER_SECURE_COOKIES"):
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    # TRACKER_PROXY_COUNT=N: trust X-Forwarded-For/-Proto/-Host from N proxies in front
    # (a load balancer, nginx). 0 (the default) trusts none: never set it without a proxy.
    app.config["PROXY_COUNT"] = int(os.environ.get("TRACKER_PROXY_COUNT", "0") or 0)
    # TRACKER_LOGIN_RATE_PER_IP / TRACKER_LOGIN_RATE_PER_ACCOUNT: failed login attempts per
    # client address / per account typed, e.g. "10 per minute", "100/hour".
    for variable, key in (
        ("TRACKER_LOGIN_RATE_PER_IP", "LOGIN_RATE_PER_IP"),
        ("TRACKER_LOGIN_RATE_PER_ACCOUNT", "LOGIN_RATE_PER_ACCOUNT"),
        ("TRACKER_API_RATE_PER_TOKEN", "API_RATE_PER_TOKEN"),
        # TRACKER_STATUS_REPLY_RATE: replies a requester may post through one status link,
        # e.g. "10 per hour" (the default).
        ("TRACKER_STATUS_REPLY_RATE", "STATUS_REPLY_RATE"),
    ):
        if os.environ.get(variable, "").strip():
            app.config[key] = os.environ[variable].strip()
    # TRACKER_RATELIMIT_STORAGE_URL: where login attempts are counted. memory:// (default)
    # counts per process; with several workers or hosts use Redis, e.g.
    # redis://127.0.0.1:6379/0, so they all share one count.
    if os.environ.get("TRACKER_RATELIMIT_STORAGE_URL", "").strip():
        app.config["RATELIMIT_STORAGE_URI"] = os.environ["TRACKER_RATELIMIT_STORAGE_URL"].strip()
    # TRACKER_MAX_CONTENT_LENGTH: the largest request body accepted, in bytes (default 1 MiB).
    limit = os.environ.get("TRACKER_MAX_CONTENT_LENGTH", "").strip()
    if limit:
        if not limit.isdigit() or int(limit) < 1:
            raise ConfigError(
                "TRACKER_MAX_CONTENT_LENGTH must be a number of bytes, e.g. 1048576; "
                f"got {limit!r}."
            )
        app.config["MAX_CONTENT_LENGTH"] = int(limit)
    # TRACKER_WARM_BOARDS: how many boards a started server warms up (default 10; 0: none).
    # TRACKER_KEPT_GRIDS: how many board grids each process keeps (default 64; 0: none).
    for variable, key in (
        ("TRACKER_WARM_BOARDS", "WARM_BOARDS"),
        ("TRACKER_KEPT_GRIDS", "KEPT_GRIDS"),
    ):
        value = os.environ.get(variable, "").strip()
        if value:
            if not value.isdigit():
                raise ConfigError(f"{variable} must be a whole number, e.g. 10; got {value!r}.")
            app.config[key] = int(value)
    # TRACKER_ALERT_RATE: Alertmanager posts accepted per alert token, e.g. "120 per minute".
    if os.environ.get("TRACKER_ALERT_RATE", "").strip():
        app.config["ALERT_RATE"] = os.environ["TRACKER_ALERT_RATE"].strip()
    # TRACKER_WEBHOOK_ALLOW_PRIVATE=1: let webhooks go to loopback, private (10/8, 192.168/16,
    # fc00::/7 ...) and link-local addresses too. Off by default: a lead could otherwise make
    # the server call internal services (SSRF). Only for receivers on your own network.
    app.config["WEBHOOK_ALLOW_PRIVATE"] = _env_flag("TRACKER_WEBHOOK_ALLOW_PRIVATE")
    # TRACKER_WEBHOOK_TIMEOUT: seconds to wait for a webhook receiver (default 10).
    timeout = os.environ.get("TRACKER_WEBHOOK_TIMEOUT", "").strip()
    if timeout:
        if not timeout.isdigit() or not 1 <= int(timeout) <= 60:
            raise ConfigError(
                f"TRACKER_WEBHOOK_TIMEOUT must be a number of seconds, 1 to 60; got {timeout!r}."
            )
        app.config["WEBHOOK_TIMEOUT"] = int(timeout)
    # TRACKER_COMPRESS=off: answers go out uncompressed (when a proxy in front compresses).
    if os.environ.get("TRACKER_COMPRESS", "on").strip().lower() in _OFF:
        app.config["COMPRESS_REGISTER"] = False
    # TRACKER_SQL_ECHO=1: log every SQL statement (debugging only).
    app.config["SQLALCHEMY_ECHO"] = _env_flag("TRACKER_SQL_ECHO")
    _mail_from_environment(app)


_OFF = {"0", "off", "false", "no"}


def _observability_from_environment(app) -> None:
    """Metrics and log settings (tracker.observability). Read with test settings too, and
    only where neither instance/config.py nor the test settings gave the key."""
    # TRACKER_METRICS=off: no /metrics endpoint at all (404). On by default.
    app.config.setdefault(
        "METRICS", os.environ.get("TRACKER_METRICS", "on").strip().lower() not in _OFF
    )
    # TRACKER_METRICS_TOKEN: when set, /metrics answers anyone who sends
    # `Authorization: Bearer <token>` and nobody else. Unset: loopback clients only.
    app.config.setdefault("METRICS_TOKEN", os.environ.get("TRACKER_METRICS_TOKEN") or None)
    # TRACKER_LOG_LEVEL: the "tracker" logger's level (debug, info, warning, error). Below
    # debug, a live board's unchanged polls are logged neither by the app nor by the
    # development server (observability.quiet_polls).
    app.config.setdefault("LOG_LEVEL", os.environ.get("TRACKER_LOG_LEVEL", "info").upper())
    # PROMETHEUS_MULTIPROC_DIR: the folder the gunicorn workers of one host share for their
    # metrics (gunicorn.conf.py empties it at start); set, /metrics adds up every worker.
    # prometheus_client reads the same variable itself, when it is imported, to write there.
    app.config.setdefault(
        "METRICS_MULTIPROCESS_DIR", os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
    )


# Mail to requesters (services.mail): environment variable -> config key.
MAIL_VARIABLES = {
    # The SMTP server's host name. Unset: no mail is sent, and the pages say so.
    "TRACKER_SMTP_HOST": "SMTP_HOST",
    # Its port; default 587 (465 with TRACKER_SMTP_TLS=ssl, 25 with none).
    "TRACKER_SMTP_PORT": "SMTP_PORT",
    # The From address, e.g. "Support <support@example.com>". Required with a host.
    "TRACKER_SMTP_SENDER": "SMTP_SENDER",
    # starttls (the default: plain connection upgraded to TLS), ssl (TLS from the first
    # byte, usually port 465) or none (loopback relays only).
    "TRACKER_SMTP_TLS": "SMTP_TLS",
    # Login for the SMTP server, when it wants one (both or neither).
    "TRACKER_SMTP_USER": "SMTP_USER",
    "TRACKER_SMTP_PASSWORD": "SMTP_PASSWORD",
    # The address people reach the tracker at, e.g. https://tracker.example.com: links in
    # mail are built on it (mail is sent outside any web request). Required with a host.
    "TRACKER_PUBLIC_URL": "PUBLIC_URL",
    # Requesters' replies by email (services.inbound, `flask fetch-replies`): the desk's
    # mailbox address, e.g. support@example.com. Set, mail to a requester carries the
    # Reply-To support+<token>@example.com (the server must deliver plus addresses to it).
    "TRACKER_MAIL_REPLY_ADDRESS": "MAIL_REPLY_ADDRESS",
    # The IMAP server holding that mailbox, its port (default 993, or 143 with
    # TRACKER_IMAP_SSL=0), the login, and the folder read (default INBOX).
    "TRACKER_IMAP_HOST": "IMAP_HOST",
    "TRACKER_IMAP_PORT": "IMAP_PORT",
    "TRACKER_IMAP_USER": "IMAP_USER",
    "TRACKER_IMAP_PASSWORD": "IMAP_PASSWORD",
    "TRACKER_IMAP_MAILBOX": "IMAP_MAILBOX",
    # 1 (the default): TLS from the first byte; 0: a plain connection (loopback only).
    "TRACKER_IMAP_SSL": "IMAP_SSL",
}
SMTP_TLS_MODES = ("starttls", "ssl", "none")
SMTP_DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


def _mail_from_environment(app) -> None:
    for variable, key in MAIL_VARIABLES.items():
        value = os.environ.get(variable, "").strip()
        if value:
            app.config[key] = value


def _check_mail(app) -> None:
    """Mail settings that cannot work stop the app at start, saying which variable to fix."""
    config = app.config
    if not config.get("SMTP_HOST"):
        return
    for key, variable in (
        ("SMTP_SENDER", "TRACKER_SMTP_SENDER"),
        ("PUBLIC_URL", "TRACKER_PUBLIC_URL"),
    ):
        if not config.get(key):
            raise ConfigError(
                f"TRACKER_SMTP_HOST is set but {variable} is not: set both, or neither."
            )
    tls = str(config.get("SMTP_TLS") or "starttls").lower()
    if tls not in SMTP_TLS_MODES:
        raise ConfigError("TRACKER_SMTP_TLS must be starttls, ssl or none.")
    config["SMTP_TLS"] = tls
    try:
        config["SMTP_PORT"] = int(config.get("SMTP_PORT") or SMTP_DEFAULT_PORTS[tls])
    except ValueError:
        raise ConfigError("TRACKER_SMTP_PORT must be a port number, e.g. 587.") from None
    if bool(config.get("SMTP_USER")) != bool(config.get("SMTP_PASSWORD")):
        raise ConfigError("Set both TRACKER_SMTP_USER and TRACKER_SMTP_PASSWORD, or neither.")
    url = str(config["PUBLIC_URL"]).rstrip("/")
    if not url.startswith(("https://", "http://")):
        raise ConfigError(
            "TRACKER_PUBLIC_URL must start with https://, e.g. https://tracker.example.com"
        )
    config["PUBLIC_URL"] = url


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
