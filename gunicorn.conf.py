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
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
