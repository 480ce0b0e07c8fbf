"""Login rate limits (Flask-Limiter): per client address and per account, on POST /login.

Only wrong credentials count (the login view marks them with note_wrong_credentials): an
office of fifty people behind one address all logging in at nine is not a brute-force
attack, a person who logs in on three devices is not either, and neither is the right
password answered 503 while the database is away, a form whose CSRF token expired (400) or
one missing its password (no credentials were checked). Once a limit is reached every attempt
waits, the right password included, so guessing cannot go on in the meantime.

Counted in memory by default (one process: fine for one gunicorn worker per host, or
several on one host with a generous limit) and in Redis when TRACKER_RATELIMIT_STORAGE_URL
names one, so every worker on every host shares the counts. The account key is a keyed
hash of the username typed: neither Redis nor any log sees usernames.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Callable

from flask import Flask, current_app, g, render_template, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from limits import parse_many

from tracker import observability
from tracker.config import ConfigError
from tracker.domain.accounts import normal_username
from tracker.web import access
from tracker.web.api import answers
from tracker.web.errors import message_page
from tracker.web.forms import LoginForm

LOGIN_ENDPOINT = "auth.login"
# app.extensions keys: the app's limiter, and the login view under its limits.
LIMITER, LIMITED_LOGIN = "tracker_limiter", "tracker_limited_login"
TOO_MANY = (
    "Too many login attempts from this address or for this account. Wait a minute, then try again."
)


def account_key() -> str:
    """The account tried, hashed with the app's secret (never stored in clear): the typed
    username in the one normal form the login looks people up by, so NULs, case, spaces or
    another Unicode form of a name never get a budget of their own."""
    typed = normal_username(request.form.get("username") or "")
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return "account:" + hmac.new(secret, typed.encode(), hashlib.sha256).hexdigest()[:40]


def _per_address() -> str:
    return current_app.config["LOGIN_RATE_PER_IP"]


def _per_account() -> str:
    return current_app.config["LOGIN_RATE_PER_ACCOUNT"]


def note_wrong_credentials() -> None:
    """Mark this login request as a real credential failure: a username and password were
    checked and did not match. Only such answers count against the limits."""
    g.wrong_credentials = True


def failed(response) -> bool:
    """Whether a login answer counts against the limits: only one the login view marked as
    wrong credentials (never a 5xx, a CSRF refusal or a form shape error)."""
    return bool(g.get("wrong_credentials"))


def _per_token() -> str:
    return current_app.config["API_RATE_PER_TOKEN"]


def token_key() -> str:
    """The API token a request bears (tracker.web.access.guard_token found it): each token
    has its own budget, whoever uses it from wherever."""
    return f"token:{g.get('token_id')}"


def too_many_attempts(error: RateLimitExceeded):
    """The login form again, with the typed username kept and a message saying what to do."""
    if request.blueprint in access.BEARER_BLUEPRINTS:
        return answers.http_error(error)  # JSON, as every API answer
    observability.note_error(error)
    if request.endpoint != LOGIN_ENDPOINT:
        return message_page(429, TOO_MANY)
    form = LoginForm()  # keeps the username typed
    form.password.data = ""
    return render_template("auth/login.html", form=form, throttled=TOO_MANY), 429


# The login view, as tracker.web.auth defines it (login_limits keeps it for register).
_login_views: list[Callable] = []


def login_limits(view: Callable) -> Callable:
    """Decorate the login view: it runs under the per-address and per-account limits.

    A limiter belongs to one app (its storage, its switch), and the module defining the
    view exists once for every app: so register() puts the limits on the view with each
    app's own limiter, once, and the decorated view calls that app's limited one.
    """
    _login_views.append(view)

    @functools.wraps(view)
    def limited(**kwargs):
        return current_app.extensions[LIMITED_LOGIN](**kwargs)

    return limited


def allow(scope: str, key: str, rate: str) -> bool:
    """Count one request against `rate` for `key` (e.g. an alert token's id) in the app's
    limiter storage, shared with the login limits: False once the rate is used up. Off
    (always True) where the app's limits are off; a storage that fails lets it through,
    as the login limits fall back rather than refuse."""
    limiter: Limiter = current_app.extensions[LIMITER]
    if not limiter.enabled:
        return True
    try:
        return all(limiter.limiter.hit(item, scope, key) for item in parse_many(rate))
    except Exception:  # the storage is away: count nothing rather than refuse
        return True


def register(app: Flask) -> Limiter:
    """Bind a limiter of this app's own (its storage and switch are per app) and put the two
    limits on the login view (see login_limits)."""
    for key in (
        "LOGIN_RATE_PER_IP",
        "LOGIN_RATE_PER_ACCOUNT",
        "ALERT_RATE",
        "API_RATE_PER_TOKEN",
        "STATUS_REPLY_RATE",
    ):
        try:
            parse_many(app.config[key])
        except ValueError:
            variable = "TRACKER_" + key
            raise ConfigError(
                f"{variable} must be a rate such as '10 per minute' or '100/hour'."
            ) from None
    limiter = Limiter(get_remote_address, app=app)
    app.extensions[LIMITER] = limiter
    (view,) = _login_views
    failures_only = {"methods": ["POST"], "deduct_when": failed}
    view = limiter.limit(_per_address, scope="login-address", **failures_only)(view)
    view = limiter.limit(
        _per_account, key_func=account_key, scope="login-account", **failures_only
    )(view)
    app.extensions[LIMITED_LOGIN] = view
    # Every API request bearing a token counts against that token (the guard has found it
    # before the limiter runs; a request without one was answered 401 already).
    from tracker.web.api.views import bp as api

    limiter.limit(
        _per_token, key_func=token_key, scope="api-token", exempt_when=lambda: "token_id" not in g
    )(api)
    app.register_error_handler(RateLimitExceeded, too_many_attempts)
    return limiter


def within_rate(scope: str, key: str, rate: str) -> bool:
    """Count one try against `rate` for this key (with the login limits' storage), and say
    whether it is within the rate. Always within when rate limits are off."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return True
    strategy = current_app.extensions[LIMITER].limiter
    return all(strategy.hit(item, scope, key) for item in parse_many(rate))
