"""A throwaway PostgreSQL database for a benchmark (the role needs CREATEDB), set to commit
as SQLite does in the app, and what a flushed commit costs that server, printed apart."""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable

from sqlalchemy import make_url


def throwaway_postgres(server_url: str, prefix: str) -> tuple[str, Callable[[], None]]:
    """A fresh database named <prefix>_<random> on the PostgreSQL server at server_url: its
    URL (psycopg driver), and a function that drops it."""
    import psycopg  # only the PostgreSQL runs need the driver

    base = make_url(server_url)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    url = base.set(database=name, drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False), drop


FLUSHES = 200


def unflushed(url: str) -> None:
    """Set the throwaway database at url to commit without waiting for the disk's flush
    (synchronous_commit = off), as the app's SQLite does (WAL with synchronous=NORMAL): a
    crash may lose the last commits, never corrupt. Both benches compare the databases
    committing alike; what the flush costs is commit_flush_ms, printed on its own."""
    import psycopg

    name = make_url(url).database
    admin = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')


def commit_flush_ms(url: str) -> float:
    """The median time in ms of a durable one-row commit (synchronous_commit on) on the
    server at url, over FLUSHES commits to a table of its own, made and dropped here: the
    disk's flush, which a server with synchronous_commit on adds to every write."""
    import psycopg

    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    seconds = []
    with psycopg.connect(plain) as conn:
        conn.execute("SET synchronous_commit = on")
        conn.execute("CREATE TABLE bench_flush (n integer)")
        conn.commit()
        for n in range(FLUSHES):
            start = time.perf_counter()
            conn.execute("INSERT INTO bench_flush VALUES (%s)", (n,))
            conn.commit()
            seconds.append(time.perf_counter() - start)
        conn.execute("DROP TABLE bench_flush")
        conn.commit()
    return round(statistics.median(seconds) * 1000, 2)
