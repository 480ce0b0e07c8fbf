"""Engine settings per database: SQLite pragmas and its explicit transactions."""

from __future__ import annotations

import sqlite3

from sqlalchemy import event
from sqlalchemy.engine import Engine


def configure_engine(engine: Engine) -> None:
    """On SQLite: WAL, a busy timeout, foreign keys, and transactions SQLAlchemy controls.

    pysqlite's own transaction handling is switched off (isolation_level None) so that a
    use case can start its transaction with BEGIN IMMEDIATE (see services.common.lock_board);
    every other transaction starts with a plain deferred BEGIN.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        if isinstance(dbapi_conn, sqlite3.Connection):
            dbapi_conn.isolation_level = None
            for pragma in (
                "journal_mode=WAL",
                "synchronous=NORMAL",
                "busy_timeout=30000",
                "foreign_keys=ON",
            ):
                dbapi_conn.execute("PRAGMA " + pragma)

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN")
