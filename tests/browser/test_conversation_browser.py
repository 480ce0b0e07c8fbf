"""Conversation on a card in the browser: comment from the card's panel on the board, see it
rendered, pick a mention from the choices offered while typing (static/app.js), edit it,
and watch the card; all without leaving the board page."""

from __future__ import annotations

import pytest

try:
    from playwright.sync_api import Page, expect
except ImportError:  # conftest's autouse fixture skips these (fails under TRACKER_REQUIRE_BROWSER)
    Page = expect = None

from sqlalchemy import select

from tests.browser.helpers import log_in, mark_page, same_document
from tests.helpers import actor, make_board, make_card, make_user
from tracker.extensions import db
from tracker.models import CardEvent, Comment

pytestmark = pytest.mark.browser


@pytest.fixture
def team(live_db) -> dict:
    board = make_board("Platform")
    ann = make_user("ann", board=board, role="member", name="Ann Archer")
    lee = make_user("lee", board=board, role="lead", name="Lee Lamport")
    make_user("leo", board=board, role="viewer", name="Leo Viewer")
    card = make_card(board, actor(ann), "feature", "Export to CSV")
    return {"board": board.id, "card": card.id, "lee": lee.id}


def test_comment_mention_and_edit_from_the_panel(page: Page, live_server, team):
    log_in(page, live_server, "ann", team["board"])
    mark_page(page)
    page.locator(f"#card-{team['card']} a.ref").click()
    thread = page.locator(f"#thread-{team['card']}")
    expect(thread).to_contain_text("No comments yet.")

    box = thread.get_by_label("Comment", exact=True)
    box.click()
    box.press_sequentially("Please check `export.py` at https://example.com/spec, thanks @le")
    choices = page.locator(f"#mentions-{team['card']} button")
    expect(choices).to_have_count(2)  # lee and leo: the members whose name starts so
    expect(choices.first).to_contain_text("Lee Lamport")
    choices.first.click()
    expect(choices).to_have_count(0)
    expect(box).to_be_focused()
    box.press_sequentially("and no one else.")
    expect(box).to_have_value(
        "Please check `export.py` at https://example.com/spec, thanks @lee and no one else."
    )
    thread.get_by_role("button", name="Add comment").click()

    comment = thread.locator("li.comment")
    expect(comment).to_have_count(1)
    expect(thread.locator(".notice")).to_have_text("Comment added.")
    expect(comment.locator("code")).to_have_text("export.py")
    expect(comment.get_by_role("link", name="https://example.com/spec")).to_have_attribute(
        "href", "https://example.com/spec"
    )
    expect(comment.locator(".mention")).to_have_text("@lee")
    expect(box).to_have_value("")
    watch = page.locator(f"#watch-{team['card']}")
    expect(watch).to_contain_text("2 watchers")  # ann created it; lee is mentioned in it

    comment.get_by_text("Edit", exact=True).click()
    edit = comment.get_by_label("Your comment")
    edit.fill("Please check `export.py` first.\n\nThen ship it.")
    comment.get_by_role("button", name="Save").click()
    expect(thread.locator(".notice")).to_have_text("Comment saved.")
    expect(thread.locator("li.comment .body p")).to_have_count(2)
    expect(thread.locator("li.comment .edited")).to_have_text("edited")

    expect(watch).to_contain_text("Unwatch")
    watch.get_by_role("button", name="Unwatch").click()
    expect(watch.get_by_role("button")).to_have_text("Watch")
    expect(watch).to_contain_text("1 watcher")
    assert same_document(page)  # all of it without a page load

    db.session.remove()
    assert db.session.execute(select(Comment.body)).scalars().all() == [
        "Please check `export.py` first.\n\nThen ship it."
    ]
    events = db.session.execute(select(CardEvent).order_by(CardEvent.id)).scalars().all()
    assert [e.kind for e in events][-2:] == ["commented", "comment_edited"]
    assert events[-2].changes == {"mentioned": [[], [team["lee"]]]}
