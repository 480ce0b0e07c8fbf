"""Screenshots of the main pages with the demo data, for the README and for review:
docs/screens/<page>-<desktop|phone>-<light|dark>.png. README "Look and feel".

Run from the repo root:  PYTHONPATH=. .venv/bin/python bench/screens.py   (or `make screens`)
About a minute on the 2-core machine, most of it the demo seed.

Builds the demo (`flask db upgrade`, `flask seed-demo`, as `make run` does) in a SQLite file
of a temporary directory, never the instance one; serves the app on a free port of
127.0.0.1 in this process; then drives Debian's Chromium (/usr/bin/chromium, headless, as
the browser tests do: never `playwright install`) at 1440x900 and 390x844, with the system
theme light and dark (prefers-color-scheme, the default a person gets), and saves the
visible part of each page. Pages: the board (as the lead), a card's panel open on it, the
capacity report, settings (the lead), the intake form and My requests (sam, support staff).
Stops when a page answers an error or logs one, saying which. When pngquant is installed
(`apt-get install pngquant`) each image is quantized to a palette, a third of its size.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screens"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SIZES = {"desktop": (1440, 900), "phone": (390, 844)}
THEMES = ("light", "dark")
PASSWORD = "weatherboard"  # the demo's (tracker.demo.DEMO_PASSWORD, shown in the README)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def seed(env: dict) -> None:
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    for command in (["db", "upgrade"], ["seed-demo"]):
        log("flask " + " ".join(command))
        subprocess.run([*flask, *command], cwd=ROOT, env=env, check=True, capture_output=True)


def serve(env: dict):
    """The app in a thread of this process, on the seeded database."""
    os.environ.update(env)
    from tracker import create_app

    app = create_app()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def logged_in_state(browser, base: str, username: str) -> tuple[dict, str]:
    """A person's cookies after logging in through the form, for every context of theirs,
    and the page the login led to (the board, for a person on one board)."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login" not in url)
    state, landed = context.storage_state(), page.url
    context.close()
    return state, landed


def open_card_url(page, base: str, board: str) -> str:
    """The address of an open card a person would look at: one in progress, with an assignee."""
    page.goto(f"{base}{board}")
    href = page.locator(".cellwrap.support.active .card:has(abbr) .ref").first.get_attribute("href")
    return f"{base}{board}?card={href.rsplit('/', 1)[1]}"


def smaller(path: Path) -> None:
    """The image quantized to at most 256 colours, if pngquant is here (it keeps the
    original when it cannot do well enough)."""
    if shutil.which("pngquant"):
        command = ["pngquant", "--force", "--skip-if-larger", "--strip", "--quality", "70-95"]
        subprocess.run([*command, "--output", str(path), str(path)], check=False)


def watch(page) -> list[str]:
    """What goes wrong on the page: console errors, uncaught exceptions, error answers."""
    problems: list[str] = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status} {r.url}"))
    return problems


def shoot(browser, base: str, states: dict, board: str, card_url: str) -> list[Path]:
    shots = [
        ("board", "lead", f"{base}{board}", "#board"),
        ("card", "lead", card_url, "#panel .card-detail"),
        ("report", "lead", f"{base}{board}/report", ".report .chart"),
        ("settings", "lead", f"{base}{board}/settings", ".settings"),
        ("intake", "sam", f"{base}{board}/intake", ".intake form"),
        ("requests", "sam", f"{base}{board}/requests", ".requests table"),
    ]
    saved = []
    for size, (width, height) in SIZES.items():
        for theme in THEMES:
            for name, who, url, ready in shots:
                context = browser.new_context(
                    viewport={"width": width, "height": height},
                    color_scheme=theme,
                    storage_state=states[who],
                    is_mobile=size == "phone",
                    has_touch=size == "phone",
                )
                page = context.new_page()
                problems = watch(page)
                page.goto(url)
                page.locator(ready).first.wait_for()
                page.wait_for_load_state("networkidle")
                path = OUT / f"{name}-{size}-{theme}.png"
                page.screenshot(path=path)
                context.close()
                if problems:
                    raise SystemExit(f"{path.name}: the page had errors: {problems}")
                smaller(path)
                saved.append(path)
                log(f"{path.relative_to(ROOT)}: {path.stat().st_size:,} bytes")
    return saved


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="weatherboard-screens-") as tmp:
        env = {
            **os.environ,
            "DATABASE_URL": "sqlite:///" + str(Path(tmp) / "demo.sqlite3"),
            "SECRET_KEY": "screens only",
            "TRACKER_DEMO": "1",
            "TRACKER_METRICS": "off",
            "TRACKER_LOG_LEVEL": "warning",
        }
        seed(env)
        server, base = serve(env)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                logins = {who: logged_in_state(browser, base, who) for who in ("lead", "sam")}
                states = {who: state for who, (state, _) in logins.items()}
                # The demo's one board: the lead's login opens it.
                board = "/" + logins["lead"][1].split("/", 3)[3].split("?")[0]
                page = browser.new_context(storage_state=states["lead"]).new_page()
                card_url = open_card_url(page, base, board)
                page.context.close()
                saved = shoot(browser, base, states, board, card_url)
                browser.close()
        finally:
            server.shutdown()
    total = sum(path.stat().st_size for path in saved)
    print(f"screens = {len(saved)}")
    print(f"screens_bytes = {total}")


if __name__ == "__main__":
    main()
