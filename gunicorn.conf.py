"""gunicorn settings for production: `gunicorn app:app` reads this file from the repo root.

Every value can be overridden on the command line or with the environment variables below.
"""

import multiprocessing
import os

# GUNICORN_BIND: where to listen (default 0.0.0.0:8000; put a proxy or load balancer in front).
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# WEB_CONCURRENCY: worker processes (default: 2 per core, plus one, at most 9).
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 9)))
# Threads per worker, so a slow client or a long poll does not block a whole process.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 30
graceful_timeout = 30
keepalive = 5
# Worker recycling is off by default: a recycled worker is gone until its replacement is
# up, and with a limit of 2000 and a jitter of 200 both workers of a busy host came due
# within moments of each other and every request waited 11.6 s. bench/recycle.py measures
# what recycling would guard against: a worker's memory after tens of thousands of
# requests (README, "Benchmarks"). GUNICORN_MAX_REQUESTS turns it on; the jitter
# (GUNICORN_MAX_REQUESTS_JITTER, default half the limit) spreads the workers' turns.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", max_requests // 2))
# The master builds the app once (imports, templates, the route table) and each worker is a
# fork of it, ready at once: a new or recycled worker does not import anything. Nothing
# in the app connects to a database or starts a thread while it is built; post_fork below
# still gives each worker empty connection pools of its own. GUNICORN_PRELOAD=0 turns
# it off (each worker then builds its own app, as gunicorn does by default).
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") != "0"
# No access log of gunicorn's own by default: its lines carry the request path and query
# string, which can hold a status link's token or an email searched for erasure. The app
# logs every request itself as JSON (`http.request`: endpoint, status, duration, request
# id, ids only). GUNICORN_ACCESSLOG=- brings gunicorn's back (on stdout).
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# gunicorn 27's control socket (`gunicornc`) defaults to one path per user
# ($XDG_RUNTIME_DIR/gunicorn.ctl or ~/.gunicorn/gunicorn.ctl): a second gunicorn of the same
# user takes it over, and the first to stop deletes it. Off unless GUNICORN_CONTROL_SOCKET
# names a path of this instance's own.
_control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET")
control_socket_disable = not _control_socket
if _control_socket:
    control_socket = _control_socket

# PROMETHEUS_MULTIPROC_DIR: a folder the workers share for /metrics (prometheus_client's
# multi-process mode), so the figures add up every worker, not just the one that answers.
# It must be empty when gunicorn starts: on_starting empties it (one folder per gunicorn).
_metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")


def on_starting(server):
    """Empty the metrics folder: files left by an earlier run would be counted again."""
    if _metrics_dir:
        os.makedirs(_metrics_dir, exist_ok=True)
        for name in os.listdir(_metrics_dir):
            if name.endswith(".db"):
                os.remove(os.path.join(_metrics_dir, name))


def child_exit(server, worker):
    """A worker ended (recycled or killed): let its figures stay counted but not live."""
    if _metrics_dir:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def _tracker(app):
    """The app if it is Weatherboard's (a Flask app), else None: bench/serve.py serves a
    plain WSGI floor with this same file, which has no templates or engines."""
    from flask import Flask

    return app if isinstance(app, Flask) else None


def when_ready(server):
    """The preloaded app, before any worker is forked: compile its templates and warm it up
    (tracker.web.warm) once, so every worker starts with them: a worker's first page would
    pay for both otherwise."""
    if server.cfg.preload_app and (app := _tracker(server.app.wsgi())):
        _warm(app)


def post_worker_init(worker):
    """Without preloading, each worker compiles the templates of its own app and warms it up
    at start. Either way the worker opens its database connections before it takes its
    first request (tracker.database.open_connections)."""
    if (app := _tracker(worker.wsgi)) is None:
        return
    if not worker.cfg.preload_app:
        _warm(app)
    from tracker.database import open_connections

    open_connections(app)


def _warm(app):
    from tracker import compile_templates
    from tracker.web.warm import warm_up

    compile_templates(app)
    warm_up(app)


def post_fork(server, worker):
    """A preloaded app's engines were made in the master: the worker drops their pools
    (without closing anything the master might hold) and opens connections of its own."""
    if server.cfg.preload_app and (app := _tracker(server.app.wsgi())):
        from tracker.database import after_fork

        after_fork(app)
