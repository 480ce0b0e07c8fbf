"""API speed: a move and one page of the card list through the JSON API (tracker.web.api),
with a personal access token, on the board bench/board.py builds (its Builder: 100,000 done
cards of history, then 2,000 open cards across lanes and columns), in process on SQLite.

Run from the repo root:  .venv/bin/python bench/api.py

Requests go through Flask's test client with `Authorization: Bearer`: server time with no
network, the token looked up on every request as in production. Prints one `key = value`
line per figure on stdout; detail (min, max, CPU, statements) goes to stderr.

Figures (medians over board.RUNS requests after board.WARMUP warm-ups):
  api_move_ms        POST /api/v1/boards/<id>/cards/<card>/move, In progress <-> Review in
                     the Feature lane, answering the card (target: 10 ms or less)
  api_list_cards_ms  GET /api/v1/boards/<id>/cards, the first page (50 cards) of a board of
                     2,000 open cards: the board's filter applied, none set (target: 30 ms
                     or less)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from board import SIZES, Bench, build, log

from tracker.domain.vocabulary import TokenScope
from tracker.extensions import db
from tracker.models import User
from tracker.services import tokens

FIGURES = ("api_move_ms", "api_list_cards_ms")
PAGE = 50


class ApiBench(Bench):
    """bench/board.py's timing (warm-ups, runs, statements counted), through the API."""

    def bearer(self) -> None:
        with self.app.app_context():
            lead = db.session.get(User, self.builder.lead_id)
            secret = tokens.create_token(lead, "bench", TokenScope.READ_WRITE, None).secret
            db.session.remove()
        self.headers = {"Authorization": f"Bearer {secret}"}
        self.api = f"/api/v1/boards/{self.builder.board_id}"

    def api_move(self) -> float:
        lane = self.builder.lanes["feature"]
        progress = self.builder.columns["In progress"]
        review = self.builder.columns["Review"]
        with self.app.app_context():
            (card_id,) = self.builder.open_cards_in(lane, progress, 1)

        def send(i):
            to = review if i % 2 == 0 else progress
            body = {"lane_id": lane.id, "column_id": to.id}
            path = f"{self.api}/cards/{card_id}/move"
            return self.client.post(path, json=body, headers=self.headers)

        def ok(answer):
            if answer.status_code != 200 or answer.json["id"] != card_id:
                raise SystemExit(f"api move: {answer.status_code} {answer.text[:300]}")

        return self.timed("api move", send, ok).median_ms

    def api_list(self) -> float:
        def send(_i):
            return self.client.get(f"{self.api}/cards?limit={PAGE}", headers=self.headers)

        def ok(answer):
            page = answer.json
            if answer.status_code != 200 or len(page["items"]) != PAGE or not page["next_cursor"]:
                raise SystemExit(f"api list: {answer.status_code} {answer.text[:300]}")

        return self.timed("api list, first page", send, ok).median_ms


def measure(url: str) -> dict[str, float]:
    app, builder, counter = build(url)
    with app.app_context():
        builder.open_cards(SIZES[1] - builder.open_count())
        log(f"open cards: {builder.open_count()}")
        db.session.remove()
    bench = ApiBench(app, builder, counter)
    bench.bearer()
    figures = {"api_move_ms": bench.api_move(), "api_list_cards_ms": bench.api_list()}
    with app.app_context():
        db.engine.dispose()
    return figures


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="wb-bench-") as tmp:
        figures = measure("sqlite:///" + str(Path(tmp) / "bench.sqlite3"))
    for key in FIGURES:
        print(f"{key} = {figures[key]}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
