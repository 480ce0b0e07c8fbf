"""A throwaway PostgreSQL database for a benchmark (the role needs CREATEDB)."""

from __future__ import annotations

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
