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
# Recycle workers now and then, so a slow leak never grows for weeks.
max_requests = 2000
max_requests_jitter = 200
# Each worker builds its own app and database pool after the fork (no shared connections).
preload_app = False
# No access log of gunicorn's own by default: its lines carry the request path and query
# string, which can hold a status link's token or an email searched for erasure. The app
# logs every request itself as JSON (`http.request`: endpoint, status, duration, request
# id, ids only). GUNICORN_ACCESSLOG=- brings gunicorn's back (on stdout).
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

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
