"""Pull next from many threads at once; run as a separate OS process by test_concurrency.

Used two ways: tests/test_concurrency.py imports `pull_at_once` for its in-process threads,
and runs this file as a script (several processes at once) against one PostgreSQL database.

The script speaks JSON lines. On stdin, first {"config": {...app config...}};
it answers {"ready": true, "pid": ...} once the app is built and its connections are open.
Then one line per round, {"board_id": B, "start_at": EPOCH, "actors": [[id, name], ...]}: it
waits until start_at, pulls once per actor from its own thread, and answers
{"board_id": B, "results": [...]}. {"stop": true} or end of input ends it. It also ends by
itself (exit 3) when no line comes for IDLE_TIMEOUT seconds, and (exit 4) when a pull does
not finish within PULL_TIMEOUT, so a stuck test never leaves it behind.
"""

from __future__ import annotations

import json
import os
import select
import sys
import threading
import time
import traceback
from typing import Any

IDLE_TIMEOUT = 120.0
PULL_TIMEOUT = 60.0


def pull_at_once(
    app, board_id: int, actors: list[Any], start_at: float | None = None
) -> list[dict[str, Any]]:
    """Pull next once per actor, each from its own thread, app context and session, at once.

    Every thread first opens its database connection, then all meet at a barrier and (when
    start_at is given, to line up with other processes) sleep until that moment. Returns one
    dict per actor: user_id, card_id (None when refused), reasons, error (a traceback or
    None), and the started/finished times of the pull_next call.
    """
    from sqlalchemy import text

    from tracker.extensions import db
    from tracker.services import cards

    barrier = threading.Barrier(len(actors))
    results: list[dict[str, Any]] = [
        {"user_id": a.id, "card_id": None, "reasons": [], "error": "did not finish"} for a in actors
    ]

    def run(index: int) -> None:
        who = actors[index]
        out = results[index]
        with app.app_context():
            try:
                db.session.execute(text("SELECT 1"))  # open the connection before the start
                db.session.rollback()
                barrier.wait(timeout=PULL_TIMEOUT)
                if start_at is not None:
                    time.sleep(max(0.0, start_at - time.time()))
                out["started"] = time.time()
                result = cards.pull_next(board_id, who)
                out["finished"] = time.time()
                out["card_id"] = result.card.id if result.card is not None else None
                out["reasons"] = list(result.reasons)
                out["error"] = None
            except BaseException:
                barrier.abort()
                out["error"] = traceback.format_exc()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(actors))]
    for thread in threads:
        thread.start()
    deadline = (
        time.monotonic() + PULL_TIMEOUT + (max(0.0, start_at - time.time()) if start_at else 0)
    )
    for thread in threads:
        thread.join(timeout=max(0.1, deadline - time.monotonic()))
    if any(thread.is_alive() for thread in threads):
        raise TimeoutError(f"pull_next on board {board_id} did not finish in {PULL_TIMEOUT} s")
    return results


class Lines:
    """Read stdin line by line with a timeout (select on the raw descriptor, own buffer)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = b""

    def read(self, timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no instruction on stdin for {timeout} s")
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(self.fd, 65536)
            if not chunk:
                return None if not self.buffer else self._take(len(self.buffer))
            self.buffer += chunk
        return self._take(self.buffer.index(b"\n") + 1)

    def _take(self, n: int) -> str:
        line, self.buffer = self.buffer[:n], self.buffer[n:]
        return line.decode()


def say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main() -> int:
    from tracker import create_app
    from tracker.services.common import Actor

    lines = Lines(sys.stdin.fileno())
    try:
        first = lines.read(IDLE_TIMEOUT)
        if first is None:
            return 0
        setup = json.loads(first)
        app = create_app(setup["config"])
        say({"ready": True, "pid": os.getpid()})
        while True:
            line = lines.read(IDLE_TIMEOUT)
            if line is None:
                return 0
            message = json.loads(line)
            if message.get("stop"):
                return 0
            actors = [Actor(int(uid), name, "member") for uid, name in message["actors"]]
            results = pull_at_once(app, int(message["board_id"]), actors, message["start_at"])
            say({"board_id": message["board_id"], "results": results})
    except TimeoutError as exc:
        print(f"pg_pull_worker {os.getpid()}: {exc}; giving up", file=sys.stderr, flush=True)
        os._exit(3 if "stdin" in str(exc) else 4)


if __name__ == "__main__":
    sys.exit(main())
