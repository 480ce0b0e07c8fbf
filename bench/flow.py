"""Flow metrics speed: each chart of the Flow page over two years of history, in process on
SQLite.

Run from the repo root:  .venv/bin/python bench/flow.py

Builds the same throwaway history as bench/report.py (its build_history: 100,000 cards
over the last two years, about 1,000,000 events, 30 people, 52 sprints) and asks the Flow
page for one chart at a time, as its htmx requests do (GET /b/<id>/flow?section=...
with HX-Request), over the page's default range (the last twelve weeks). Requests go
through Flask's test client, logged in as the lead.

The first request computes the finished weeks' figures from the history and stores them
(tracker.services.flow_weeks); every later one reads them and replays only the running
week, as a board's Flow page does once anyone opened it that week.

Figures (stdout, `key = value`, median server time over RUNS requests):
  flow_cold_ms       the first request (cumulative flow, 12 weeks): computes and stores
                     the eleven finished weeks
  flow_cfd_ms        cumulative flow
  flow_cycle_ms      cycle and lead time of the cards done in the range (240 dots drawn)
  flow_aging_ms      aging work in progress against the last twelve weeks' percentiles
  flow_pareto_ms     where support comes from: cards and person-days by component
  flow_forecast_ms   the Monte Carlo forecast (10,000 trials)
  flow_page_ms       the whole page, every chart
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from board import Bench  # noqa: E402 - sibling scripts' helpers
from report import build_history  # noqa: E402

from tracker.extensions import db  # noqa: E402

WARMUP, RUNS = 2, 15
SECTIONS = ("cfd", "cycle", "aging", "pareto", "forecast")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="wb-bench-flow-") as tmp:
        url = "sqlite:///" + str(Path(tmp) / "bench.sqlite3")
        app, builder, counter = build_history(url, rotation=False)
        bench = Bench(app, builder, counter)
        bench.login()
        path = f"{bench.base}/flow"
        started = time.perf_counter()
        first = bench.client.get(
            path, query_string={"section": "cfd"}, headers={"HX-Request": "true"}
        )
        cold = round((time.perf_counter() - started) * 1000, 2)
        if first.status_code != 200:
            raise SystemExit(f"cfd answered {first.status_code}")
        figures = {}
        for section in SECTIONS:

            def send(_i, section=section):
                return bench.client.get(
                    path, query_string={"section": section}, headers={"HX-Request": "true"}
                )

            def ok(answer, section=section):
                if answer.status_code != 200 or f'id="flow-{section}"' not in answer.text:
                    raise SystemExit(f"{section} answered {answer.status_code}")

            figures[section] = bench.timed(f"flow {section}", send, ok).median_ms

        def whole_page(answer):
            if answer.status_code != 200 or 'id="flow-forecast"' not in answer.text:
                raise SystemExit(f"flow page answered {answer.status_code}")

        page = bench.timed("flow page", lambda _i: bench.client.get(path), whole_page)
        with app.app_context():
            db.engine.dispose()
    print(f"flow_cold_ms = {cold}")
    for section in SECTIONS:
        print(f"flow_{section}_ms = {figures[section]}")
    print(f"flow_page_ms = {page.median_ms}")


if __name__ == "__main__":
    import board as _board

    _board.WARMUP, _board.RUNS = WARMUP, RUNS
    main()
