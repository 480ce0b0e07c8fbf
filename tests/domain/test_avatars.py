"""Avatar colours: stable per person, whatever process computes them, and spread over the
whole palette."""

import os
import subprocess
import sys

from tracker.domain.avatars import AVATAR_COLOURS, avatar_colour

NAMES = [f"person{n}" for n in range(200)] + ["mia", "max", "noor", "lead", "sam", "vic"]


def test_a_colour_is_an_index_into_the_palette():
    assert all(0 <= avatar_colour(name) < AVATAR_COLOURS for name in NAMES)


def test_the_same_person_gets_the_same_colour_whatever_the_case():
    for name in NAMES:
        assert avatar_colour(name) == avatar_colour(name) == avatar_colour(name.upper())


def test_every_colour_of_the_palette_is_used_and_none_dominates():
    counts = [0] * AVATAR_COLOURS
    for name in NAMES:
        counts[avatar_colour(name)] += 1
    assert min(counts) > 0
    assert max(counts) < 3 * len(NAMES) / AVATAR_COLOURS


def test_another_process_with_another_hash_seed_paints_people_alike():
    """Two gunicorn workers (or a restart) must agree: no per-process salt in the rule."""
    code = (
        "from tracker.domain.avatars import avatar_colour;"
        f"print([avatar_colour(n) for n in {NAMES!r}])"
    )
    seen = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        seen.add(run.stdout.strip())
    assert seen == {str([avatar_colour(n) for n in NAMES])}
