"""Accessibility: axe-core (vendored in tests/browser/vendor/) on every page of the app, at
desktop and phone sizes, in the light and the dark theme: zero violations of any impact,
colour contrast included.

SCREENS is the list of pages, one line each; `test_every_html_page_is_screened` fails when
an app route that answers GET with a page is in neither SCREENS nor NOT_PAGES (the routes
that answer something else, each with its reason). The board the pages show has cards in
every lane (in Ready, In progress, Review and Done), a blocked card, an S1 waiting (the
emergency banner), a full lane and a lane over its limit, a closed card, a request with
comments and a status link, sprints. Each page is also checked for sideways scrolling on a
phone (WCAG 1.4.10), and a second test measures the keyboard's focus ring on the board.

axe goes in with page.evaluate (a DevTools evaluation, which the page's Content-Security-
Policy does not govern, unlike a <script> tag), after the page has loaded and htmx started.
The dark theme is both the system's (prefers-color-scheme: dark) and the page's own
(<html data-theme="dark">, the manual theme toggle's attribute), so either way of choosing
it is checked. Closed <details> are opened first, so the forms inside them are checked too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

try:
    from playwright.sync_api import Page, expect
except ImportError:  # conftest's autouse fixture skips these (fails under TRACKER_REQUIRE_BROWSER)
    Page = expect = None

from tests.browser.helpers import close, log_in
from tests.helpers import REQUEST, BoardSpec, CardSpec, actor, add_webhook_row, build_board, wipe
from tracker import clock, database
from tracker.domain.vocabulary import NoticeKind
from tracker.extensions import db
from tracker.models import User
from tracker.services import (
    alerts,
    cards,
    conversation,
    desk,
    incidents,
    intake,
    notifications,
    reports,
    reviews,
    rotation,
    webhooks,
)
from tracker.services.reports import SprintInput

pytestmark = pytest.mark.browser

AXE_VERSION = "4.14.1"
AXE = Path(__file__).parent / "vendor" / f"axe-core-{AXE_VERSION}.min.js"


@dataclass(frozen=True)
class Screen:
    """A page to check: its path (with {names} from the world's ids), who looks at it
    (a username, or None: signed out), the status it answers with, and what to do on it
    first (a name in ACTIONS)."""

    name: str
    path: str
    who: str | None = "lee"
    status: int = 200
    then: str | None = None


SCREENS = (
    Screen("log in", "/login", who=None),
    Screen("log in, errors", "/login", who=None, status=422, then="submit empty"),
    Screen("boards", "/"),
    Screen("boards, errors", "/", status=422, then="submit empty"),
    Screen("board", "/b/{board}"),
    Screen("board, read only", "/b/{board}", who="vic"),
    Screen("board, filtered", "/b/{board}?q=login"),
    Screen("board, card panel", "/b/{board}?card={blocked}"),
    Screen("board, shortcuts", "/b/{board}", then="shortcuts"),
    Screen("board, new card panel", "/b/{board}", then="add card"),
    Screen("board, refused move", "/b/{board}?card={ready}", status=422, then="move to full"),
    Screen("card", "/b/{board}/cards/{reviewed}"),
    Screen("closed card", "/b/{board}/cards/{closed}"),
    Screen("new card", "/b/{board}/cards/new"),
    Screen("new card, errors", "/b/{board}/cards/new", status=422, then="submit empty"),
    Screen("archive", "/b/{board}/done"),
    Screen("settings", "/b/{board}/settings"),
    Screen("alerts and webhooks", "/b/{board}/settings/integrations"),
    Screen(
        "alerts and webhooks, errors",
        "/b/{board}/settings/integrations",
        status=422,
        then="submit empty",
    ),
    Screen("sprints", "/b/{board}/sprints"),
    Screen("sprints, errors", "/b/{board}/sprints", status=422, then="submit empty"),
    Screen("report", "/b/{board}/report"),
    Screen("flow", "/b/{board}/flow"),
    Screen("audit", "/b/{board}/audit"),
    Screen("incident card", "/b/{board}/cards/{incident}"),
    Screen("incident card, read only", "/b/{board}/cards/{incident}", who="vic"),
    Screen("break-glass access", "/b/{board}/grants"),
    Screen("incident review", "/b/{board}/incidents/{resolved}/review"),
    Screen("incident review, read only", "/b/{board}/incidents/{resolved}/review", who="vic"),
    Screen("intake", "/b/{board}/intake"),
    Screen("intake, errors", "/b/{board}/intake", status=422, then="submit empty"),
    Screen("my requests", "/b/{board}/requests", who="sam"),
    Screen("request", "/b/{board}/requests/{request}"),
    Screen("requests", "/b/{board}/queue"),
    Screen("requests, most urgent", "/b/{board}/queue?sort=urgent&severity=S1", who="sam"),
    Screen("desk settings", "/b/{board}/settings/desk"),
    Screen("status", "/status/{token}", who=None),
    Screen("password", "/account/password"),
    Screen("notifications", "/notifications", who="ann"),
    Screen("unsubscribe", "/notifications/unsubscribe/{unsubscribe}", who=None),
    Screen("rotation", "/b/{board}/rotation"),
    Screen("rotation, read only", "/b/{board}/rotation", who="vic"),
    Screen("rotation, errors", "/b/{board}/rotation", status=422, then="submit empty"),
    Screen("password, errors", "/account/password", status=422, then="submit empty"),
    Screen("password, new token", "/account/password", then="make token"),
    Screen("people", "/admin/people"),
    Screen("new person", "/admin/people/new"),
    Screen("new person, errors", "/admin/people/new", status=422, then="submit empty"),
    Screen("new person, added", "/admin/people/new", then="add person"),
    Screen("person", "/admin/people/{ann}"),
    Screen("board people", "/admin/boards/{board}/people"),
    Screen("erasure", "/admin/erasure?q=Dana"),
    Screen("site audit", "/admin/audit"),
    Screen("not found", "/b/{board}/cards/999999", status=404),
    Screen("forbidden", "/b/{board}/settings", who="vic", status=403),
)

SCREENS_BY_NAME = {screen.name: screen for screen in SCREENS}

# GET routes that answer no HTML page of their own, so no screen shows them.
NOT_PAGES = {
    "static": "files (CSS, scripts)",
    "ops.favicon": "an icon",
    "ops.healthz": "a health check for the load balancer (text)",
    "ops.readyz": "a readiness check for the load balancer (text)",
    "observability.show_metrics": "Prometheus metrics (text)",
    "audit.export_all": "a CSV download",
    "audit.export_board": "a CSV download",
    "reports.export": "a CSV download",
    "flow.export": "a CSV download",
    "incidents.export_grants": "a CSV download",
    "incidents.export_review": "a Markdown download",
    "board.live": "the board's poll: 204, or the #board fragment the board page shows",
    "emergency.check": "the banner's poll: 204, or the #emergency fragment every board page shows",
    "conversation.mentions": "the @mention choices: a fragment of the card panel's comment box",
    # The JSON API (tracker.web.api): answers for programs, never HTML.
    **{
        endpoint: "the JSON API (tests/test_api.py)"
        for endpoint in (
            "api.openapi",
            "api.list_boards",
            "api.show_board",
            "api.list_lanes",
            "api.list_columns",
            "api.list_cards",
            "api.show_card",
            "api.show_request",
            "api.show_rotation",
            "api.list_incidents",
            "api.show_incident",
        )
    },
}

SIZES = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
THEMES = ("light", "dark")

# The board: Expedite's S1 waits (the banner); Support is full (2 of 2); Feature is over its
# limit (2 of 1); a blocked card; done and closed cards; someone on each role.
SPEC = BoardSpec(
    limits={"support": 2, "feature": 1},
    people={"ann": "member", "lee": "lead", "sam": "support", "vic": "viewer"},
    components=("Billing", "Login"),
    cards=(
        CardSpec("ready", "support", "Password reset mail is late", fields={"severity": "S3"}),
        CardSpec("doing", "support", "Login fails for SSO users", "In progress"),
        CardSpec("reviewed", "support", "Invoice totals round wrong", "Review"),
        CardSpec("done", "support", "Typo on the pricing page", "Done"),
        CardSpec("feature", "feature", "Dark mode", fields={"estimate": 3}),
        CardSpec("blocked", "feature", "Export to PDF", "In progress"),
        CardSpec("building", "feature", "Keyboard shortcuts", "In progress"),
        CardSpec("shipped", "feature", "Search by reference", "Done"),
        CardSpec("closed", "feature", "Fax integration"),
    ),
)


def resolved_incident(board: int, lee, ids: dict) -> int:
    """An S1 worked, mitigated and resolved, with its review written in part and a
    follow-up card."""
    expedite = ids["expedite_lane"]
    fields = {"title": "Search is down", "severity": "S1"}
    card = cards.create_card(board, lee, expedite, fields)
    cards.move_card(board, lee, card.id, lane_id=expedite, column_id=ids["In progress"], take=True)
    incidents.add_log_entry(board, lee, card.id, "Index rebuilt")
    incidents.mitigate(board, lee, card.id, "restarted the search pods")
    cards.move_card(board, lee, card.id, lane_id=expedite, column_id=ids["Done"])
    reviews.start_review(board, lee, card.id)
    sections = {"what_happened": "Search answered 500.", "impact": "No search for 20 min."}
    reviews.save_review(board, lee, card.id, sections)
    reviews.add_follow_up(board, lee, card.id, "Alert when search fails", "support")
    return card.id


@pytest.fixture(scope="module")
def world(live_app) -> dict:
    """The board and the rest (ids by name), made once for the module; emptied at its end."""
    with live_app.app_context(), database.reading():
        ids = build_board(SPEC, "Platform")
        lee = actor(db.session.get(User, ids["lee"]), "lead")
        sam = actor(db.session.get(User, ids["sam"]), "support")
        board = ids["board"]
        db.session.get(User, ids["lee"]).is_admin = True
        db.session.commit()
        cards.assign_card(board, lee, ids["doing"], ids["ann"])
        cards.assign_card(board, lee, ids["reviewed"], ids["lee"])
        cards.set_blocked(board, lee, ids["blocked"], True, "Waiting for the vendor's keys")
        cards.close_card(board, lee, ids["closed"], "wont_do", "Nobody has a fax")
        filed = intake.file_request(board, sam, REQUEST, intake.new_intake_key()).card
        intake.add_comment(board, lee, filed.id, "Looking into it.", "reply")
        intake.add_comment(board, lee, filed.id, "Probably the export job.", "internal")
        ids["request"] = filed.id
        ids["token"] = intake.create_status_link(board, lee, filed.id).token
        desk.add_canned_reply(board, lee, "Need logs", "Could you send the logs, please?")
        emergency = {**REQUEST, "title": "Checkout is down", "severity": "S1"}
        s1 = intake.file_request(board, sam, emergency, intake.new_intake_key()).card
        ids["incident"] = s1.id
        incidents.add_log_entry(board, lee, s1.id, "Checkout answers 502; looking at the pods")
        now = clock.now()
        access = incidents.GrantInput(
            ids["ann"],
            "orders-db primary, write",
            "fix stuck orders",
            ids["lee"],
            "",
            now,
            now + timedelta(hours=2),
        )
        incidents.record_grant(board, lee, s1.id, access)
        ids["resolved"] = resolved_incident(board, lee, ids)
        today = date.today()
        for n, start in enumerate((today - timedelta(days=14), today), start=1):
            data = SprintInput(f"Sprint {n}", start, start + timedelta(days=13), 20, 10)
            reports.add_sprint(board, lee, data)
        pool = [ids["ann"], ids["lee"]]
        rotation.save_setup(
            board, lee, enabled=True, on_duty=2, term_periods=2, staggered=True, pool=pool
        )
        rotation.add_away(
            board, lee, ids["ann"], today + timedelta(days=30), today + timedelta(days=32)
        )
        conversation.add_comment(
            board, lee, ids["doing"], "@ann see `export.py`, https://example.com"
        )
        ids["unsubscribe"] = notifications.unsubscribe_token(ids["lee"], NoticeKind.ASSIGNED)
        alerts.create_token(board, lee, "prod-eu")
        # A hook whose test event the sender refuses (a loopback address): a log line, no network.
        hook = add_webhook_row(board, "http://127.0.0.1:9/hooks/weatherboard")
        webhooks.send_test(board, lee, hook.id)
        db.session.remove()
    yield ids
    wipe(live_app)


@pytest.fixture(scope="module")
def signed_in(browser, live_server, world) -> dict:
    """Each person's signed-in browser state (cookies), logged in once through the form."""
    states = {}
    for username in {s.who for s in SCREENS if s.who}:
        context = browser.new_context()
        page = context.new_page()
        log_in(page, live_server, username)
        states[username] = context.storage_state()
        close(context)
    return states


def show_shortcuts(page: Page) -> None:
    page.keyboard.press("?")
    expect(page.locator("#shortcuts")).to_be_visible()


def add_card(page: Page) -> None:
    switch = page.locator('.colswitch button[data-column="1"]')
    if switch.is_visible():  # a phone shows one column: the first holds "+ Add card"
        switch.click()
    page.locator("a.add:visible").first.click()
    expect(page.locator("#panel #new-card")).to_be_visible()


def submit_empty(page: Page) -> None:
    """Send the page's main form as it is (required fields empty): it comes back with errors."""
    page.locator("main form").filter(has=page.locator("input:not([type=hidden])")).last.locator(
        "button[type=submit]"
    ).click()
    expect(page.locator("main .field.invalid").first).to_be_visible()


def add_person(page: Page) -> None:
    """Add someone with no password typed: the next page shows the generated one, once."""
    page.get_by_label("Name", exact=True).fill("Kim Person")
    page.get_by_label("Username").fill("kim")
    page.get_by_role("button", name="Add person").click()
    expect(page.get_by_label("Temporary password")).to_be_visible()


def make_token(page: Page) -> None:
    """Make an API token: the page shows it once, and the list of tokens with Revoke."""
    page.get_by_label("Name", exact=True).fill("deploy script")
    page.get_by_role("button", name="Make a token").click()
    expect(page.locator("#new-token")).to_be_visible()
    expect(page.get_by_role("button", name="Revoke the token deploy script")).to_be_visible()


def move_to_full(page: Page) -> None:
    """Move the open card into the full Support lane: refused, with the lead's override form."""
    page.locator("#panel").get_by_label("Move to").select_option(label="Support · In progress")
    page.locator("#panel").get_by_role("button", name="Move", exact=True).click()
    expect(page.locator("#notices .override")).to_be_visible()


ACTIONS = {
    "shortcuts": show_shortcuts,
    "add card": add_card,
    "submit empty": submit_empty,
    "move to full": move_to_full,
    "add person": add_person,
    "make token": make_token,
}


def open_details(page: Page) -> None:
    """Open every <details>, so that the forms inside are checked too."""
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")


def set_theme(page: Page, theme: str) -> None:
    """The theme both ways: the system's colour scheme and <html data-theme>; any transition
    the change starts is finished at once, so axe sees the theme's own colours. The page's
    background must then be light or dark as asked, or the check would prove nothing."""
    page.emulate_media(color_scheme=theme)
    background = page.evaluate(
        r"""theme => {
            document.documentElement.dataset.theme = theme;
            document.getAnimations().forEach(a => a.finish());
            const painted = [document.body, document.documentElement]
                .map(e => getComputedStyle(e).backgroundColor)
                .filter(c => !/^rgba\(.*, 0\)$|^transparent$/.test(c));
            return painted[0] || 'rgb(255, 255, 255)';  // nothing painted: the canvas
        }""",
        theme,
    )
    red, green, blue = (int(n) for n in re.findall(r"\d+", background)[:3])
    light = (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255 > 0.5
    assert light == (theme == "light"), f"the {theme} theme did not apply: {background}"


# axe's default rules, and WCAG 2.2's target size (24 by 24 px, or that much room), which
# axe leaves out by default: a phone is one of the sizes checked.
AXE_RUN = """async () => {
    const options = {resultTypes: ['violations'], rules: {'target-size': {enabled: true}}};
    const result = await axe.run(document, options);
    return result.violations.flatMap(v => v.nodes.map(n =>
        `${v.impact} ${v.id}: ${n.target.join(' ')}: ${n.failureSummary.replace(/\\s+/g, ' ')}`));
}"""


def violations(page: Page) -> list[str]:
    """axe's violations on the page as it is, one line per rule and element."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    return page.evaluate(AXE_RUN)


def look_at(page: Page, url: str, screen: Screen) -> None:
    """Open the screen's page, let htmx start, and do the screen's action."""
    answer = page.goto(url)
    status = 200 if screen.then else screen.status
    assert answer is not None and answer.status == status, f"{url}: {answer and answer.status}"
    page.wait_for_load_state("load")
    if page.locator("script[src*=htmx]").count():  # the status and error pages have none
        page.wait_for_function("() => window.htmx !== undefined")
    if screen.then:
        ACTIONS[screen.then](page)
    open_details(page)


# The outermost elements sticking out past the right edge of the window.
STICKING_OUT = """() => [...document.body.querySelectorAll('*')]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
    .filter(e => e.parentElement.getBoundingClientRect().right <= window.innerWidth + 1)
    .slice(0, 3)
    .map(e => e.outerHTML.slice(0, 60))"""


def sideways(page: Page) -> list[str]:
    """WCAG 1.4.10 (reflow): the page itself does not scroll sideways; wide content (the
    board, a table) scrolls inside a box of its own."""
    width, window = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if width <= window:
        return []
    return [
        f"reflow: the page is {width} px wide in a {window} px window: "
        + ", ".join(page.evaluate(STICKING_OUT))
    ]


CASES = [
    pytest.param(
        screen,
        id=re.sub(r"[^a-z0-9]+", "-", screen.name),
        marks=[pytest.mark.allow_status(screen.status)] if screen.status != 200 else [],
    )
    for screen in SCREENS
]


@pytest.fixture
def new_page(browser, signed_in):
    """A page of its own browser context for someone (None: signed out). The contexts close
    after the test's body: a poll in flight then is cut off unnoticed (conftest's page
    errors check stops at the end of the body), instead of each test waiting for quiet."""
    contexts = []

    def new_page(who: str | None) -> Page:
        state = signed_in[who] if who else None
        context = browser.new_context(viewport=SIZES["desktop"], storage_state=state)
        contexts.append(context)
        return context.new_page()

    yield new_page
    for context in contexts:
        context.close()


@pytest.mark.parametrize("screen", CASES)
def test_no_accessibility_violations(new_page, live_server, world, screen):
    """The screen at each size in each theme: axe finds nothing, of any impact, and the page
    does not scroll sideways. The page loads at the first size, light, and is then resized
    and switched as a turned tablet or a theme toggle would do."""
    page = new_page(screen.who)
    page.emulate_media(color_scheme=THEMES[0])
    look_at(page, live_server + screen.path.format(**world), screen)
    found = []
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        found += [f"{size}: {line}" for line in sideways(page)]
        for theme in THEMES:
            set_theme(page, theme)
            found += [f"{size}, {theme}: {line}" for line in violations(page)]
    assert not found, f"{screen.name}:\n  " + "\n  ".join(found)


# What the keyboard's focus looks like on the focused element: its outline's style, width and
# colour, and the colour of what is behind the outline (the parent's background, composed over
# the backgrounds under it), as WCAG's contrast ratio between the two.
FOCUS_RING = """() => {
    const parse = text => {
        let m = text.match(/^rgba?\\(([\\d.]+),? ([\\d.]+),? ([\\d.]+)(?:[,/] ?([\\d.]+))?\\)$/);
        if (m) return [+m[1], +m[2], +m[3], m[4] === undefined ? 1 : +m[4]];
        m = text.match(/^color\\(srgb ([\\d.]+) ([\\d.]+) ([\\d.]+)(?: \\/ ([\\d.]+))?\\)$/);
        if (m) return [m[1] * 255, m[2] * 255, m[3] * 255, m[4] === undefined ? 1 : +m[4]];
        throw new Error('a colour this test cannot read: ' + text);
    };
    const behind = element => {
        const layers = [];
        for (let e = element; e; e = e.parentElement) {
            const colour = parse(getComputedStyle(e).backgroundColor);
            if (colour[3] > 0) layers.push(colour);
            if (colour[3] === 1) break;
        }
        let [r, g, b] = [255, 255, 255];
        for (const [lr, lg, lb, a] of layers.reverse()) {
            [r, g, b] = [lr * a + r * (1 - a), lg * a + g * (1 - a), lb * a + b * (1 - a)];
        }
        return [r, g, b];
    };
    const luminance = ([r, g, b]) => [r, g, b]
        .map(c => c / 255).map(c => c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4)
        .reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i], 0);
    const element = document.activeElement;
    if (element === document.body) return null;  // past the last stop: the browser's own
    const style = getComputedStyle(element);
    const one = luminance(parse(style.outlineColor));
    const two = luminance(behind(element.parentElement));
    return {
        element: element.outerHTML.slice(0, 80),
        style: style.outlineStyle,
        width: parseFloat(style.outlineWidth),
        contrast: (Math.max(one, two) + 0.05) / (Math.min(one, two) + 0.05),
    };
}"""

FOCUS_STOPS = 80  # at most: the header, the banner, the board's bar, the cards, the panel


@pytest.mark.parametrize("theme", THEMES)
def test_keyboard_focus_is_visible(new_page, live_server, world, theme):
    """Each place Tab reaches on the board page shows a focus ring at least 2 px wide with a
    contrast of 3:1 against what is behind it (WCAG 1.4.11), in both themes."""
    page = new_page("lee")
    page.emulate_media(color_scheme=theme)
    look_at(
        page,
        live_server + SCREENS_BY_NAME["board, card panel"].path.format(**world),
        SCREENS_BY_NAME["board, card panel"],
    )
    set_theme(page, theme)
    weak, seen = [], 0
    for _ in range(FOCUS_STOPS):
        page.keyboard.press("Tab")
        ring = page.evaluate(FOCUS_RING)
        if ring is None:
            break
        seen += 1
        if ring["style"] == "none" or ring["width"] < 2 or ring["contrast"] < 3:
            weak.append(ring)
    assert seen >= 20, f"only {seen} places to Tab to on the board"
    assert not weak, "focus rings too faint to see:\n  " + "\n  ".join(map(str, weak))


def test_every_html_page_is_screened(live_app):
    """Each GET route is on a screen or in NOT_PAGES (with its reason), and NOT_PAGES names
    only routes that exist and no screen shows."""
    adapter = live_app.url_map.bind("localhost")
    screened = set()
    for screen in SCREENS:
        path = re.sub(r"\{(\w+)\}", "1", screen.path).split("?")[0]
        screened.add(adapter.match(path, method="GET")[0])
    routes = {
        rule.endpoint for rule in live_app.url_map.iter_rules() if "GET" in (rule.methods or ())
    }
    missing = routes - screened - NOT_PAGES.keys()
    assert not missing, f"pages with no screen in SCREENS (or a reason in NOT_PAGES): {missing}"
    assert NOT_PAGES.keys() <= routes, NOT_PAGES.keys() - routes
    assert not NOT_PAGES.keys() & screened, NOT_PAGES.keys() & screened
