"""Start a move and die in the middle of it: run as a subprocess by tests/test_crash.py.

argv: database URL, board id, card id, lane id, column id. The move runs up to the point
where the card has changed in the transaction and its history event is written (the
store's writes before the commit), prints "MIDWAY" and waits to be killed (SIGKILL: no
cleanup, no rollback of its own).
"""

from __future__ import annotations

import sys
import time


def main() -> None:
    url, board_id, card_id, lane_id, column_id = sys.argv[1:6]
    sys.path.insert(0, ".")
    from tests.helpers import app_config
    from tracker import create_app, store
    from tracker.extensions import db
    from tracker.services import cards
    from tracker.services.common import Actor

    real_write = store._write_change

    def write_then_hang(*args, **kwargs):
        events = real_write(*args, **kwargs)
        db.session.flush()  # the changed card and the event are in the open transaction
        print("MIDWAY", flush=True)
        time.sleep(120)
        return events

    store._write_change = write_then_hang
    app = create_app(app_config(url))
    with app.app_context():
        cards.move_card(
            int(board_id),
            Actor(1, "worker", "lead"),
            int(card_id),
            lane_id=int(lane_id),
            column_id=int(column_id),
            reason="crash test",
        )


if __name__ == "__main__":
    main()
