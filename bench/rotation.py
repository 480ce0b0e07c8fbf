"""Support rotation speed: generating a schedule in the domain, as a lead's "regenerate"
does (plus the database work around it, which is a handful of rows).

Run from the repo root:  PYTHONPATH=. .venv/bin/python bench/rotation.py

Figures (stdout, `key = value`):
  rotation_schedule_ms  median time to generate 52 terms for a pool of 12 (two on duty,
                        two-sprint staggered terms) with 20 away periods, over RUNS runs
                        (target: 20 ms or less)
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import date, timedelta

from tracker.domain.rotation import Away, Setup, fair_order, plan, upcoming_spans

RUNS = 50
POOL = 12
TERMS = 52


def main() -> None:
    rng = random.Random(7)
    start = date(2026, 11, 30)
    setup = Setup(on_duty=2, term_periods=2, staggered=True)
    spans = upcoming_spans([(start, start + timedelta(days=13))], start, TERMS)
    pool = {i: f"Person {i:02}" for i in range(1, POOL + 1)}
    away = [
        Away(rng.randint(1, POOL), day, day + timedelta(days=rng.randint(2, 20)))
        for day in (start + timedelta(days=rng.randint(0, 700)) for _ in range(20))
    ]
    past = {person: rng.randint(0, 60) for person in pool}
    times = []
    for _ in range(RUNS):
        began = time.perf_counter()
        schedule = plan(spans, fair_order(pool, past), setup, away=away)
        times.append((time.perf_counter() - began) * 1000)
    assert len(schedule.terms) == TERMS, len(schedule.terms)
    print(f"rotation_schedule_ms = {statistics.median(times):.2f}")


if __name__ == "__main__":
    main()
