"""The design system's colours meet WCAG AA in both themes, read from static/app.css itself
so they cannot drift; and the icon sprite holds exactly the icons the pages use.

Every colour token of app.css's :root is in a pair below (text on a background: 4.5:1;
large text, UI components and focus rings against what they sit on: 3:1), or named
decorative: a new token fails this test until someone says where it is used.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tracker.domain.avatars import AVATAR_COLOURS

ROOT = Path(__file__).resolve().parent.parent
CSS = (ROOT / "static" / "app.css").read_text()
TEXT, LARGE = 4.5, 3.0
LANES = ("exp", "sup", "feat")
CELLS = tuple(f"cell-{lane}" for lane in LANES)  # a lane's tint over the page, as drawn

# Only separators: nothing is identified by these lines alone.
DECORATIVE = {"line"}

PAIRS: list[tuple[str, str, float]] = [
    # Text on the surfaces it appears on
    *[("fg", bg, TEXT) for bg in ("bg", "surface", "surface-2", "accent-soft", *LANES, *CELLS)],
    *[("muted", bg, TEXT) for bg in ("bg", "surface", "surface-2", *LANES)],
    *[("accent", bg, TEXT) for bg in ("bg", "surface", "surface-2", *CELLS)],
    *[("accent-hover", bg, TEXT) for bg in ("bg", "surface", "surface-2")],
    ("on-accent", "accent", TEXT),
    ("on-accent", "accent-hover", TEXT),
    *[("over", bg, TEXT) for bg in ("bg", "surface", *LANES)],
    *[("full", bg, TEXT) for bg in ("bg", "surface", *LANES)],
    ("on-state", "full", TEXT),
    ("on-state", "over", TEXT),
    *[("ok", bg, TEXT) for bg in ("bg", "surface")],
    *[(f"on-s{n}", f"s{n}", TEXT) for n in range(1, 5)],
    ("on-alarm", "alarm", TEXT),
    *[("on-av", f"av{n}", TEXT) for n in range(AVATAR_COLOURS)],
    # UI components: control borders, the lanes' edges on a tile, the focus ring
    *[("line-strong", bg, LARGE) for bg in ("bg", "surface")],
    *[(f"{lane}-edge", bg, LARGE) for lane in LANES for bg in ("surface", "bg", lane)],
    *[("focus", bg, LARGE) for bg in ("bg", "surface", *LANES, *CELLS)],
    ("accent", "bg", LARGE),
]


def root_block() -> str:
    return re.search(r":root \{(.*?)\n\}", CSS, re.S).group(1)


def tokens() -> dict[str, tuple[str, str]]:
    """Each colour token's (light, dark) value, from `--name: light-dark(#a, #b);` or
    `--name: #a;` (the same in both)."""
    found = {}
    for name, value in re.findall(r"--([\w-]+):\s*([^;]+);", root_block()):
        pair = re.fullmatch(r"light-dark\((#[0-9a-f]{6}),\s*(#[0-9a-f]{6})\)", value.strip())
        single = re.fullmatch(r"#[0-9a-f]{6}", value.strip())
        if pair:
            found[name] = pair.groups()
        elif single:
            found[name] = (value.strip(), value.strip())
        else:
            assert "#" not in value or "rgb(" in value, f"--{name}: write it as light-dark(#, #)"
    return found


def rgb(colour: str) -> tuple[float, float, float]:
    return tuple(int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))


def luminance(colour: tuple[float, float, float]) -> float:
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def cell_share(lane: str) -> float:
    """How much of the lane's tint a cell of the board shows over the page (app.css's
    color-mix for .cellwrap.<kind>)."""
    kind = {"exp": "expedite", "sup": "support", "feat": "feature"}[lane]
    rule = (
        rf"\.cellwrap\.{kind} \{{ background: "
        rf"color-mix\(in srgb, var\(--{lane}\) (\d+)%, transparent\); \}}"
    )
    return int(re.search(rule, CSS).group(1)) / 100


def colour(name: str, theme: int) -> tuple[float, float, float]:
    table = tokens()
    if name.startswith("cell-"):
        lane = name.removeprefix("cell-")
        tint, page, share = rgb(table[lane][theme]), rgb(table["bg"][theme]), cell_share(lane)
        return tuple(share * t + (1 - share) * p for t, p in zip(tint, page, strict=True))
    return rgb(table[name][theme])


@pytest.mark.parametrize("theme", [0, 1], ids=["light", "dark"])
@pytest.mark.parametrize(("fore", "back", "least"), PAIRS, ids=[f"{f}-on-{b}" for f, b, _ in PAIRS])
def test_each_pair_meets_wcag_aa(theme, fore, back, least):
    ratio = contrast(colour(fore, theme), colour(back, theme))
    assert ratio >= least, f"--{fore} on --{back}: {ratio:.2f}:1, needs {least}:1"


def test_every_colour_token_is_checked_or_named_decorative():
    used = {
        name for fore, back, _ in PAIRS for name in (fore, back) if not name.startswith("cell-")
    }
    assert set(tokens()) - used - DECORATIVE == set()
    assert used - set(tokens()) == set(), "a pair names a token app.css does not define"


def test_there_is_one_avatar_colour_and_class_per_palette_entry():
    assert {n for n in tokens() if re.fullmatch(r"av\d+", n)} == {
        f"av{n}" for n in range(AVATAR_COLOURS)
    }
    for n in range(AVATAR_COLOURS):
        assert f".a{n} {{ background: var(--av{n}); }}" in CSS


def test_a_chosen_theme_overrides_the_system_one():
    """light-dark() follows color-scheme: <html data-theme> (static/theme.js) must set it."""
    assert "color-scheme: light dark;" in root_block()
    assert ':root[data-theme="light"] { color-scheme: light; }' in CSS
    assert ':root[data-theme="dark"] { color-scheme: dark; }' in CSS


# The icons ---------------------------------------------------------------------------------

MACROS = (ROOT / "templates" / "_macros.html").read_text()


def sprite() -> Path:
    (name,) = re.findall(r"vendor/(lucide-[\d.]+-sprite\.svg)", MACROS)
    return ROOT / "static" / "vendor" / name


def used_icons() -> set[str]:
    names = set()
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        names |= set(re.findall(r"""icon\(["']([\w-]+)["']\)""", text))
        # Names passed through a list (the board's links, the theme buttons): quoted strings
        # in a template that calls icon(name) with a variable.
        if re.search(r"icon\(name\)", text) and "macro icon" not in text:
            names |= set(re.findall(r'"([a-z]+(?:-[a-z]+)*)"\)', text))
    return names


def test_the_sprite_holds_every_icon_the_pages_use_and_no_other():
    symbols = set(re.findall(r'<symbol id="([\w-]+)"', sprite().read_text()))
    used = used_icons()
    assert used - symbols == set(), "an icon the pages use is missing from the sprite"
    assert symbols - used == set(), "the sprite carries icons no page uses"


def test_the_sprite_is_pinned_with_its_license_beside_it():
    path = sprite()
    version = re.search(r"lucide-([\d.]+)-sprite", path.name).group(1)
    assert f"Lucide {version}" in path.read_text()
    license_file = path.with_name(f"lucide-{version}.LICENSE")
    assert "ISC License" in license_file.read_text()
