"""Conversation on every card as people meet it: comments on the card's panel and page
(with and without htmx), Markdown-lite shown safely, @mentions and their choices, edit and
delete within 15 minutes, who may do what, watching; and the services underneath, on
both databases (the `app` fixture)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from tests.helpers import BoardSpec, CardSpec, Person, actor, make_board, make_card
from tests.html_tree import parse
from tracker.domain.errors import InvalidRequest, NotAllowed, NotFound
from tracker.domain.vocabulary import EventKind
from tracker.extensions import db
from tracker.models import Board, CardEvent, Comment, User
from tracker.services import boards, cards, conversation, intake, watching

HX = {"HX-Request": "true"}
START = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
REQUEST = {
    "title": "Export is empty",
    "description": "The CSV has only a header.",
    "requester": "Dana",
    "requester_email": "",
    "severity": "S3",
    "component": "Other",
    "environment": "",
}


@pytest.fixture
def board_spec():
    """A member, a lead, a viewer, support staff, someone of another board only, and two
    cards: a feature card of ann's and a second one."""
    return BoardSpec(
        people={
            "ann": "member",
            "lee": "lead",
            "vic": "viewer",
            "sam": "support",
            "out": None,
            "bob": Person("member", name="Bob Builder"),
        },
        cards=(
            CardSpec("card", "feature", "Export to CSV"),
            CardSpec("other", "feature", "Second card"),
        ),
    )


def card_url(ids, card="card", path=""):
    return f"/b/{ids['board']}/cards/{ids[card]}{path}"


def comment_on(client, ids, body, card="card", headers=None, **data):
    return client.post(
        card_url(ids, card, "/comments"), data={"body": body, **data}, headers=headers
    )


# A form's CSRF token, timestamped: two renders a second apart differ in it alone.
TOKEN = re.compile(r'(?<=name="csrf_token" type="hidden" value=")[^"]*')


def thread_of(html: str, card_id: int):
    found = parse(html).find(f"thread-{card_id}")
    assert found is not None, html[:2000]
    return found


# Every tag and attribute a thread may hold: the page's own, and the renderer's few.
SAFE = {
    *("section", "h2", "h3", "p", "ol", "li", "span", "time", "div", "br", "code", "a", "form"),
    *("details", "summary", "label", "textarea", "button", "input", "ul", "small", "q"),
    *("id", "class", "aria-labelledby", "datetime", "href", "rel", "method", "action"),
    *("hx-post", "hx-target", "hx-swap", "hx-get", "hx-trigger", "hx-sync", "novalidate"),
    *("for", "name", "rows", "maxlength", "required", "type", "value", "aria-describedby"),
    *("data-mentions", "data-for", "aria-label", "role", "open"),
}


def tags_and_attributes(element) -> set[str]:
    found = {element.tag, *element.attrs}
    for child in element.children:
        if not isinstance(child, str):
            found |= tags_and_attributes(child)
    return found


def hrefs(element) -> list[str]:
    found = [element.attrs["href"]] if "href" in element.attrs else []
    for child in element.children:
        if not isinstance(child, str):
            found += hrefs(child)
    return found


def comments_of(app, card_id) -> list[Comment]:
    with app.app_context():
        rows = conversation.comments(card_id)
        for row in rows:
            db.session.expunge(row)
        db.session.remove()
        return rows


def events_of(app, card_id, kinds=None) -> list[tuple]:
    with app.app_context():
        query = select(CardEvent.kind, CardEvent.actor_id, CardEvent.reason, CardEvent.changes)
        query = query.where(CardEvent.card_id == card_id).order_by(CardEvent.id)
        rows = [tuple(r) for r in db.session.execute(query)]
        db.session.remove()
    return [r for r in rows if kinds is None or r[0] in kinds]


def watchers_of(app, card_id) -> set[int]:
    with app.app_context():
        found = watching.watcher_ids(card_id)
        db.session.remove()
        return found


def file_request(app, ids, who="sam") -> int:
    with app.app_context():
        person = db.session.get(User, ids[who])
        key = intake.new_intake_key()
        card_id = intake.file_request(ids["board"], actor(person, "support"), REQUEST, key).card.id
        db.session.remove()
        return card_id


# Commenting ---------------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_a_member_comments_on_an_ordinary_card_newest_last_rendered(app, client, auth, board, htmx):
    auth.login("ann")
    first = "Run `make test` first:\nsee https://example.com/docs?a=1&b=2.\n\nThanks @lee!"
    for body in (first, "Second thought."):
        answer = comment_on(client, board, body, headers=HX if htmx else None)
        if htmx:
            assert answer.status_code == 200
            assert "<html" not in answer.text.lower() and "Comment added." in answer.text
            assert "Vary" in answer.headers and "HX-Request" in answer.headers["Vary"]
        else:
            assert answer.status_code == 303
            assert answer.headers["Location"].endswith(card_url(board) + f"#thread-{board['card']}")
    page = client.get(card_url(board))
    thread = thread_of(page.text, board["card"]).text()
    assert thread.index("Run") < thread.index("Second thought.")  # newest last
    assert "<code>make test</code>" in thread
    assert '<a href="https://example.com/docs?a=1&b=2"' in thread  # as parsed
    assert "first:<br" in thread and "</p><p>Thanks" in thread
    assert '<span class="mention">@lee</span>' in thread
    assert "Who sees it" not in thread  # an ordinary card: every comment is internal
    assert [c.visibility for c in comments_of(app, board["card"])] == ["internal", "internal"]
    # The card's panel (opened on the board) shows the same thread, its heading a level
    # down (the page's outline: under the card's h1 on its page, its h2 in the panel).
    panel = client.get(card_url(board), headers=HX)
    same = [thread_of(html, board["card"]).text() for html in (panel.text, page.text)]
    assert len({re.sub(r"<(/?)h[23]", r"<\1h", TOKEN.sub("", html)) for html in same}) == 1


def test_the_history_says_a_comment_was_written_and_whom_it_mentions_never_the_text(
    app, client, auth, board
):
    auth.login("ann")
    body = "@lee @Ann @vic @out @nobody @bob. the secret words `@sam` https://x.example/@sam"
    answer = comment_on(client, board, body, headers=HX)
    assert answer.status_code == 200
    # The mentioned now watch the card: its watch button beside the thread says so.
    button = parse(answer.text).find(f"watch-{board['card']}")
    assert button.attrs["hx-swap-oob"] == "true" and "4 watchers" in button.text()
    (event,) = events_of(app, board["card"], {EventKind.COMMENTED})
    # Members only (a viewer is one; out belongs to another board), never the author, each
    # once, in order; not inside code or a link.
    assert event == (
        EventKind.COMMENTED,
        board["ann"],
        "internal note",
        {"mentioned": [[], [board["lee"], board["vic"], board["bob"]]]},
    )
    everything = events_of(app, board["card"])
    assert "secret words" not in repr(everything)
    page = client.get(card_url(board))
    assert "wrote an internal note, mentioning Lee Person, Vic Person and Bob Builder" in page.text
    # A comment that mentions nobody notes no mentions at all.
    comment_on(client, board, "plain", headers=HX)
    assert events_of(app, board["card"], {EventKind.COMMENTED})[-1][3] == {}


def test_hostile_text_is_shown_as_text(app, client, auth, board):
    auth.login("ann")
    body = (
        "<script>alert(1)</script> <img src=x onerror=alert(2)> javascript:alert(3) "
        'https://x.example/"onmouseover="alert(4) `</code><b>bold</b>`'
    )
    answer = comment_on(client, board, body, headers=HX)
    for page in (answer.text, client.get(card_url(board)).text):
        thread = thread_of(page, board["card"])
        assert tags_and_attributes(thread) <= SAFE
        assert all(not href.startswith("javascript") for href in hrefs(thread))
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in thread.text()
    # The request page and its own thread escape it the same way.
    request_id = file_request(app, board)
    auth.logout()
    auth.login("sam")
    client.post(card_url({**board, "r": request_id}, "r", "/comments"), data={"body": body})
    page = client.get(f"/b/{board['board']}/requests/{request_id}")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "<script>alert" not in page.text


def test_a_comment_must_say_something(app, client, auth, board):
    auth.login("ann")
    for headers in (HX, None):
        answer = comment_on(client, board, "   ", headers=headers)
        assert answer.status_code == 422
        assert "Write the comment first." in answer.text
    too_long = "x" * 10_001
    answer = comment_on(client, board, too_long, headers=HX)
    assert answer.status_code == 422 and "10,000 characters" in answer.text
    assert too_long in answer.text  # the text is kept to shorten it
    assert comments_of(app, board["card"]) == []


def test_a_request_keeps_its_note_or_reply_choice_and_an_ordinary_card_refuses_a_reply(
    app, client, auth, board
):
    request_id = file_request(app, board)
    auth.login("ann")
    panel = client.get(card_url({**board, "r": request_id}, "r"), headers=HX)
    assert "Who sees it" in thread_of(panel.text, request_id).text()
    answer = comment_on(client, {**board, "r": request_id}, "On it.", "r", HX, visibility="reply")
    assert answer.status_code == 200 and "Reply added." in answer.text
    assert [c.visibility for c in comments_of(app, request_id)] == ["reply"]
    assert events_of(app, request_id, {EventKind.COMMENTED})[0][2] == "reply to requester"
    # The requester's status page would show it; an ordinary card has no requester.
    answer = comment_on(client, board, "Hello", headers=HX, visibility="reply")
    assert answer.status_code == 422
    assert "has no requester to reply to" in answer.text and "Hello" in answer.text
    assert comments_of(app, board["card"]) == []


# Who may comment ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "who, card, status",
    [
        ("ann", "card", 200),
        ("lee", "card", 200),
        ("bob", "request", 200),
        ("vic", "card", 403),  # a viewer reads
        ("vic", "request", 403),
        ("sam", "card", 403),  # support staff comment on the requests they filed only
        ("sam", "request", 200),
        ("sam", "someone else's request", 403),
        ("out", "card", 404),  # not their board
    ],
)
def test_who_may_comment_on_which_card(app, client, auth, board, who, card, status):
    ids = dict(board)
    ids["request"] = file_request(app, board, "sam")
    with app.app_context():
        lee = actor(db.session.get(User, board["lee"]), "lead")
        key = intake.new_intake_key()
        ids["someone else's request"] = intake.file_request(
            board["board"], lee, REQUEST, key
        ).card.id
        db.session.remove()
    auth.login(who)
    answer = comment_on(client, ids, "A word.", card, HX)
    assert answer.status_code == status, answer.text[:300]
    assert len(comments_of(app, ids[card])) == (1 if status == 200 else 0)
    if status == 403:
        assert comment_on(client, ids, "A word.", card).status_code == 403
    # The form is offered exactly to those who may use it.
    page = client.get(card_url(ids, card))
    if status != 404:
        assert ("Add comment" in page.text) == (status == 200)


def test_another_boards_card_and_comment_are_not_here(app, client, auth, board):
    with app.app_context():
        other = make_board("Elsewhere")
        lee = actor(db.session.get(User, board["lee"]), "lead")
        boards.set_membership(other, db.session.get(User, board["lee"]), "lead")
        foreign = make_card(other, lee, "feature", "Theirs")
        made = conversation.add_comment(other.id, lee, foreign.id, "Theirs only")
        foreign_id, comment_id = foreign.id, made.id
        db.session.remove()
    auth.login("lee")
    base = f"/b/{board['board']}"
    assert client.post(f"{base}/cards/{foreign_id}/comments", data={"body": "x"}).status_code == 404
    for path in (f"/comments/{comment_id}/edit", f"/comments/{comment_id}/delete"):
        data = {"body": "mine now", "confirm": "delete"}
        assert client.post(base + path, data=data, headers=HX).status_code == 404
    assert [c.body for c in comments_of(app, foreign_id)] == ["Theirs only"]


# Editing and deleting -----------------------------------------------------------------------


def first_comment(app, card_id) -> Comment:
    return comments_of(app, card_id)[0]


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_the_author_edits_and_deletes_within_15_minutes(app, client, auth, board, htmx):
    headers = HX if htmx else None
    base = f"/b/{board['board']}/comments"
    with time_machine.travel(START, tick=False) as traveller:
        auth.login("ann")
        comment_on(client, board, "Frist draft", headers=HX)
        comment_id = first_comment(app, board["card"]).id
        traveller.shift(timedelta(minutes=14, seconds=59))
        panel = client.get(card_url(board), headers=HX).text
        assert f'action="{base}/{comment_id}/edit"' in panel
        answer = client.post(
            f"{base}/{comment_id}/edit", data={"body": "First draft, @lee"}, headers=headers
        )
        assert answer.status_code == (200 if htmx else 303)
        if htmx:
            assert "Comment saved." in answer.text and "First draft" in answer.text
        edited = first_comment(app, board["card"])
        assert edited.body == "First draft, @lee"
        assert edited.edited_at == START + timedelta(minutes=14, seconds=59)
        page = client.get(card_url(board)).text
        assert (
            "edited a comment, mentioning Lee Person" in page
            and '· <span class="edited">edited' in page
        )
        answer = client.post(
            f"{base}/{comment_id}/delete", data={"confirm": "delete"}, headers=headers
        )
        assert answer.status_code == (200 if htmx else 303)
        page = client.get(card_url(board)).text
        assert "deleted a comment" in page and "No comments yet." in page
    assert comments_of(app, board["card"]) == []  # the row is gone
    kinds = [e[0] for e in events_of(app, board["card"])]
    assert kinds[-3:] == [EventKind.COMMENTED, EventKind.COMMENT_EDITED, EventKind.COMMENT_DELETED]
    assert "draft" not in repr(events_of(app, board["card"]))  # never the text


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_after_15_minutes_edit_and_delete_are_refused_with_why(app, client, auth, board, htmx):
    headers = HX if htmx else None
    base = f"/b/{board['board']}/comments"
    with time_machine.travel(START, tick=False) as traveller:
        auth.login("ann")
        comment_on(client, board, "Written once", headers=HX)
        comment_id = first_comment(app, board["card"]).id
        traveller.shift(timedelta(minutes=15))
        panel = client.get(card_url(board), headers=HX).text
        assert f"{base}/{comment_id}/edit" not in panel  # no longer offered
        answer = client.post(
            f"{base}/{comment_id}/edit", data={"body": "Rewritten"}, headers=headers
        )
        assert answer.status_code == 422
        assert "for 15 minutes after it is written" in answer.text
        assert "Rewritten" in answer.text  # what was typed is kept
        assert ("<html" in answer.text.lower()) == (not htmx)
        answer = client.post(
            f"{base}/{comment_id}/delete", data={"confirm": "delete"}, headers=headers
        )
        assert answer.status_code == 422 and "15 minutes" in answer.text
    assert [c.body for c in comments_of(app, board["card"])] == ["Written once"]
    assert [e[0] for e in events_of(app, board["card"])][-1] == EventKind.COMMENTED


def test_nobody_changes_anothers_comment(app, client, auth, board):
    with time_machine.travel(START, tick=False):
        auth.login("ann")
        comment_on(client, board, "Ann's words", headers=HX)
        comment_id = first_comment(app, board["card"]).id
        auth.logout()
        for who in ("lee", "bob"):
            auth.login(who)
            page = client.get(card_url(board)).text
            assert f"/comments/{comment_id}/edit" not in page
            base = f"/b/{board['board']}/comments/{comment_id}"
            assert client.post(base + "/edit", data={"body": "x"}, headers=HX).status_code == 403
            assert client.post(base + "/delete", data={"confirm": "delete"}).status_code == 403
            auth.logout()
        auth.login("vic")
        assert client.post(base + "/delete", data={"confirm": "delete"}).status_code == 403
    assert [c.body for c in comments_of(app, board["card"])] == ["Ann's words"]


def test_an_empty_edit_is_refused_with_the_box_open(app, client, auth, board):
    auth.login("ann")
    comment_on(client, board, "Keep me", headers=HX)
    comment_id = first_comment(app, board["card"]).id
    answer = client.post(
        f"/b/{board['board']}/comments/{comment_id}/edit", data={"body": " "}, headers=HX
    )
    assert answer.status_code == 422
    assert "Write the comment first, or delete it." in answer.text
    assert re.search(r"<details open>\s*<summary>Edit", answer.text)
    assert (
        client.post(f"/b/{board['board']}/comments/{comment_id}/delete", data={}).status_code == 422
    )
    assert [c.body for c in comments_of(app, board["card"])] == ["Keep me"]


def test_support_staff_keep_their_rights_on_their_own_request(app, client, auth, board):
    request_id = file_request(app, board, "sam")
    ids = {**board, "r": request_id}
    auth.login("sam")
    answer = comment_on(client, ids, "Customer called again.", "r", HX, visibility="reply")
    assert answer.status_code == 200
    comment_id = first_comment(app, request_id).id
    answer = client.post(
        f"/b/{board['board']}/comments/{comment_id}/edit",
        data={"body": "Customer called twice."},
        headers=HX,
    )
    assert answer.status_code == 200
    assert [c.body for c in comments_of(app, request_id)] == ["Customer called twice."]


# Mentions ------------------------------------------------------------------------------------


def test_the_mention_choices_are_members_matching_what_was_typed(app, client, auth, board):
    auth.login("ann")
    path = f"/b/{board['board']}/mentions"

    def offered(typed):
        answer = client.get(path, query_string={"q": typed}, headers=HX)
        assert answer.status_code == 200
        return re.findall(r'data-username="([^"]+)"', answer.text)

    assert offered("le") == ["lee"]
    assert offered("LE") == ["lee"]
    assert offered("bu") == ["bob"]  # "Bob Builder": a word of the name
    assert offered("ou") == []  # out is on no board of ann's: never offered
    assert offered("") == []
    assert offered("%") == [] and offered("_") == []  # LIKE's wildcards are plain text
    assert offered("per") == sorted(["ann", "lee", "sam", "vic"])  # "... Person"
    auth.logout()
    auth.login("vic")
    assert client.get(path, query_string={"q": "a"}, headers=HX).status_code == 403


def test_the_comment_box_asks_for_choices_as_the_person_types(app, client, auth, board):
    auth.login("ann")
    box = parse(client.get(card_url(board), headers=HX).text).find(f"comment-body-{board['card']}")
    assert box.attrs["hx-get"] == f"/b/{board['board']}/mentions"
    assert "keyup changed delay:200ms" in box.attrs["hx-trigger"]
    assert box.attrs["hx-target"] == f"#mentions-{board['card']}"


# Watching ------------------------------------------------------------------------------------


def watch(client, ids, value, headers=HX, card="card"):
    return client.post(card_url(ids, card, "/watch"), data={"watch": value}, headers=headers)


def test_anyone_who_sees_the_board_watches_and_unwatches(app, client, auth, board):
    # ann created the card: she watches it already.
    assert watchers_of(app, board["card"]) == {board["ann"]}
    auth.login("vic")  # a viewer may watch
    page = client.get(card_url(board)).text
    button = parse(page).find(f"watch-{board['card']}").text()
    assert "Watch</button>" in button and "1 watcher<" in button
    answer = watch(client, board, "1")
    assert answer.status_code == 200 and answer.text.lstrip().startswith("<form")
    assert "Unwatch</button>" in answer.text and "2 watchers" in answer.text
    assert watch(client, board, "1").status_code == 200  # sent again: nothing changes
    assert watchers_of(app, board["card"]) == {board["ann"], board["vic"]}
    answer = watch(client, board, "0", headers=None)
    assert answer.status_code == 303 and answer.headers["Location"].endswith(card_url(board))
    assert watchers_of(app, board["card"]) == {board["ann"]}
    assert watch(client, board, "", headers=HX).status_code == 422
    assert watch(client, board, "2", headers=HX).status_code == 422
    auth.logout()
    auth.login("out")
    assert watch(client, board, "1").status_code == 404
    assert watchers_of(app, board["card"]) == {board["ann"]}


def test_creator_assignees_commenters_and_the_mentioned_watch_by_themselves(app, board):
    with app.app_context():
        people = {name: db.session.get(User, board[name]) for name in ("ann", "lee", "bob", "vic")}
        ann, lee, bob = (
            actor(people[n], r) for n, r in (("ann", "member"), ("lee", "lead"), ("bob", "member"))
        )
        board_id, card_id = board["board"], board["other"]
        assert watching.watcher_ids(card_id) == {ann.id}  # created it
        cards.assign_card(board_id, lee, card_id, bob.id)  # assigned: bob; lee only assigned
        assert watching.watcher_ids(card_id) == {ann.id, bob.id}
        conversation.add_comment(board_id, lee, card_id, "cc @vic")  # commenter and mentioned
        assert watching.watcher_ids(card_id) == {ann.id, bob.id, lee.id, people["vic"].id}
        # Pulled: the puller watches the card they now hold.
        pulled = cards.pull_next(board_id, lee)
        assert pulled.card.id == board["card"]
        assert watching.watcher_ids(pulled.card.id) == {ann.id, lee.id}
        # Taken on a drag into an active column.
        the_board = db.session.get(Board, board_id)
        third = make_card(the_board, ann, "feature", "Third")
        lane_id = third.lane_id
        in_progress = next(c.id for c in the_board.columns if c.name == "In progress")
        cards.move_card(board_id, bob, third.id, lane_id=lane_id, column_id=in_progress, take=True)
        assert watching.watcher_ids(third.id) == {ann.id, bob.id}
        # Someone who stopped watching is not added back by a move that names nobody new.
        watching.remove_watcher(third.id, ann.id)
        db.session.commit()
        review = next(c.id for c in the_board.columns if c.name == "Review")
        cards.move_card(board_id, bob, third.id, lane_id=lane_id, column_id=review)
        assert watching.watcher_ids(third.id) == {bob.id}
        db.session.remove()


# The services on both databases --------------------------------------------------------------


def test_the_services_refuse_as_the_views_do(app, board):
    with app.app_context():
        ann = actor(db.session.get(User, board["ann"]))
        lee = actor(db.session.get(User, board["lee"]), "lead")
        viewer = actor(db.session.get(User, board["vic"]), "viewer")
        with pytest.raises(NotAllowed):
            conversation.add_comment(board["board"], viewer, board["card"], "hi")
        with pytest.raises(NotFound):
            conversation.add_comment(board["board"], ann, 999_999, "hi")
        with pytest.raises(InvalidRequest):
            conversation.add_comment(board["board"], ann, board["card"], "hi", "shout")
        db.session.rollback()
        with time_machine.travel(START, tick=False) as traveller:
            made = conversation.add_comment(board["board"], ann, board["card"], "mine").id
            for change in (
                lambda: conversation.edit_comment(board["board"], lee, made, "theirs"),
                lambda: conversation.delete_comment(board["board"], lee, made),
            ):
                with pytest.raises(NotAllowed):
                    change()
                db.session.rollback()
            assert conversation.edit_comment(board["board"], ann, made, "mine").edited_at is None
            traveller.shift(timedelta(minutes=15))
            for change in (
                lambda: conversation.edit_comment(board["board"], ann, made, "later"),
                lambda: conversation.delete_comment(board["board"], ann, made),
            ):
                with pytest.raises(InvalidRequest, match="15 minutes"):
                    change()
                db.session.rollback()
        with pytest.raises(NotFound):
            conversation.edit_comment(board["board"], ann, 999_999, "x")
        db.session.remove()
    kinds = [k for k, *_ in events_of(app, board["card"])]
    assert kinds.count(EventKind.COMMENTED) == 1  # the unchanged edit recorded nothing
    assert EventKind.COMMENT_EDITED not in kinds and EventKind.COMMENT_DELETED not in kinds
    assert [c.body for c in comments_of(app, board["card"])] == ["mine"]
