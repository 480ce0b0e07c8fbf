"""The floor for bench/serve.py: a WSGI app that does nothing but answer every request
with the bytes of a page captured from the real server (the file named by
WB_FLOOR_BODY). Served by gunicorn like the app, it measures what gunicorn, the loopback
and the load generator cost by themselves."""

import os
from pathlib import Path

BODY = Path(os.environ["WB_FLOOR_BODY"]).read_bytes()
HEADERS = [
    ("Content-Type", "text/html; charset=utf-8"),
    ("Content-Length", str(len(BODY))),
]


def app(environ, start_response):
    """Every request: 200 and the captured page."""
    start_response("200 OK", HEADERS)
    return [BODY]
