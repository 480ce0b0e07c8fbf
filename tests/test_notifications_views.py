"""Notifications as a person meets them: the bell's count in the header, the list, marking
read (with and without htmx; someone else's is 404), the board's poll bringing the bell at
no statement more, the account page's mail settings and the unsubscribe link's pages."""

from __future__ import annotations

import re

import pytest
from itsdangerous import URLSafeTimedSerializer

from tests.helpers import BoardSpec, CardSpec, actor, statements_sent
from tests.html_tree import parse
from tracker.domain.vocabulary import MailMode, NoticeKind, Role
from tracker.extensions import db
from tracker.models import Board, Notification, User
from tracker.services import cards, notifications

HX = {"HX-Request": "true"}
BELL = re.compile(r'<span id="bell"[^>]*>.*?<input type="hidden" name="seen" value="(\d+)">', re.S)


@pytest.fixture
def board_spec() -> BoardSpec:
    return BoardSpec(
        people={"ann": "member", "lee": "lead", "mia": "member"},
        cards=tuple(CardSpec(f"c{i}", "feature", f"Card {i}", by="lee") for i in range(3)),
    )


def assign(app, board, card, to="ann", by="lee") -> None:
    """Someone assigns a card to a person: one notification for them."""
    with app.app_context():
        lee = actor(db.session.get(User, board[by]), Role.LEAD)
        cards.assign_card(board["board"], lee, board[card], board[to])
        db.session.remove()


def bell_count(html: str) -> int:
    found = BELL.search(html)
    assert found is not None, "no bell on the page"
    return int(found.group(1))


def ids_of(app, user_id) -> list[int]:
    with app.app_context():
        found = db.session.execute(
            db.select(Notification.id)
            .where(Notification.recipient_id == user_id)
            .order_by(Notification.id)
        ).scalars()
        return list(found)


def test_the_bell_shows_the_unread_count_on_every_page(app, client, auth, board):
    assign(app, board, "c0")
    assign(app, board, "c1")
    auth.login("ann")
    for path in ("/", f"/b/{board['board']}", "/notifications", "/account/password"):
        answer = client.get(path, follow_redirects=True)
        assert bell_count(answer.text) == 2, path
        assert '<span class="count">2<span class="visually-hidden"> unread</span>' in answer.text


def test_no_bell_for_someone_logged_out(client):
    assert 'id="bell"' not in client.get("/login").text


def test_the_list_says_what_happened_newest_first_with_links_to_the_card(app, client, auth, board):
    assign(app, board, "c0")
    assign(app, board, "c1")
    auth.login("ann")
    page = client.get("/notifications").text
    first, second = (page.index(f"Card {i}") for i in (1, 0))
    assert first < second
    assert (
        f'href="/b/{board["board"]}?card={board["c1"]}">Lee Person assigned you FEAT-2: Card 1'
        in page
    )


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_mark_one_read(app, client, auth, board, htmx):
    assign(app, board, "c0")
    assign(app, board, "c1")
    first, second = ids_of(app, board["ann"])
    auth.login("ann")
    answer = client.post(
        "/notifications/read", data={"notification": first}, headers=HX if htmx else {}
    )
    if htmx:
        assert answer.status_code == 200 and "HX-Request" in answer.headers["Vary"]
        tree = parse(answer.text)
        item = tree.find(f"notification-{first}")
        assert item is not None and "unread" not in item.attrs["class"]
        assert "Mark read" not in item.text()
        bell = tree.find("bell")
        assert bell.attrs["hx-swap-oob"] == "true" and bell_count(answer.text) == 1
    else:
        assert answer.status_code == 303 and answer.headers["Location"] == "/notifications"
    page = client.get("/notifications").text
    assert bell_count(page) == 1
    assert f'id="notification-{first}" class="notification">' in page
    assert f'id="notification-{second}" class="notification unread">' in page


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_mark_all_read(app, client, auth, board, htmx):
    assign(app, board, "c0")
    assign(app, board, "c1")
    auth.login("ann")
    answer = client.post("/notifications/read-all", headers=HX if htmx else {})
    if htmx:
        tree = parse(answer.text)
        assert tree.find("notifications") is not None and "Mark all read" not in answer.text
        assert bell_count(answer.text) == 0 and tree.find("bell").attrs["hx-swap-oob"] == "true"
    else:
        assert answer.status_code == 303
    page = client.get("/notifications").text
    assert bell_count(page) == 0 and "unread" not in page.split("<main", 1)[1]


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_another_person_cannot_mark_yours(app, client, auth, board, htmx):
    assign(app, board, "c0")
    (mine,) = ids_of(app, board["ann"])
    auth.login("mia")
    answer = client.post(
        "/notifications/read", data={"notification": mine}, headers=HX if htmx else {}
    )
    assert answer.status_code == 404
    auth.logout()
    auth.login("ann")
    assert bell_count(client.get("/notifications").text) == 1


@pytest.mark.parametrize("value", ["", "x", "99999999999"])
def test_an_odd_notification_id_is_refused_plainly(app, client, auth, board, value):
    auth.login("ann")
    answer = client.post("/notifications/read", data={"notification": value})
    assert answer.status_code in (404, 422)


def live(client, board, version, seen):
    query = f"v={version}" + ("" if seen is None else f"&seen={seen}")
    return client.get(f"/b/{board['board']}/live?{query}", headers=HX)


def version_of(app, board) -> int:
    with app.app_context():
        return db.session.get(Board, board["board"]).version


def test_the_poll_brings_the_bell_when_the_count_moved_on(app, client, auth, board):
    auth.login("ann")
    page = client.get(f"/b/{board['board']}").text
    assert 'hx-include="#filters, #bell"' in page
    version = version_of(app, board)
    assert live(client, board, version, 0).status_code == 204

    assign(app, board, "c0", to="mia", by="lee")  # the board moves on, ann hears nothing
    version = version_of(app, board)
    assert live(client, board, version, 0).status_code == 204

    with app.app_context():  # ann's count moves on, the board does not
        notifications.mark_all_read(board["mia"])
        db.session.execute(
            db.update(User).where(User.id == board["ann"]).values(unread_notifications=3)
        )
        db.session.commit()
    answer = live(client, board, version, 0)
    assert answer.status_code == 200 and answer.headers["HX-Reswap"] == "none"
    tree = parse(answer.text)
    assert [c.attrs.get("id") for c in tree.children if hasattr(c, "attrs")] == ["bell"]
    assert bell_count(answer.text) == 3
    assert live(client, board, version, 3).status_code == 204


def test_a_board_that_changed_comes_with_the_bell_when_both_moved_on(app, client, auth, board):
    auth.login("ann")
    version = version_of(app, board)
    assign(app, board, "c0")
    answer = live(client, board, version, 0)
    tree = parse(answer.text)
    assert tree.find("board") is not None and tree.find("bell").attrs["hx-swap-oob"] == "true"
    assert bell_count(answer.text) == 1
    unchanged_bell = live(client, board, version, 1)
    assert 'id="bell"' not in unchanged_bell.text and 'id="board"' in unchanged_bell.text


def test_a_poll_with_nothing_new_sends_no_statement_more(app, client, auth, board):
    assign(app, board, "c0")
    auth.login("ann")
    version = version_of(app, board)
    before, old = statements_sent(app, lambda: live(client, board, version, None))
    quiet, same = statements_sent(app, lambda: live(client, board, version, 1))
    moved, bell = statements_sent(app, lambda: live(client, board, version, 0))
    assert old.status_code == same.status_code == 204 and bell.status_code == 200
    assert quiet == before and moved == before


def test_the_account_page_shows_the_defaults_and_saves_choices(app, client, auth, board):
    auth.login("ann")
    page = parse(client.get("/account/password").text)
    for kind in NoticeKind:
        select = page.find(kind.value)
        chosen = [
            o.attrs["value"]
            for o in select.children
            if hasattr(o, "attrs") and "selected" in o.attrs
        ]
        at_once = (NoticeKind.ASSIGNED, NoticeKind.MENTIONED, NoticeKind.ON_DUTY)
        want = MailMode.NOW if kind in at_once else MailMode.OFF
        assert chosen == [want], kind
    choice = {kind.value: MailMode.DIGEST.value for kind in NoticeKind}
    answer = client.post("/account/notifications", data=choice)
    assert answer.status_code == 303
    with app.app_context():
        saved = notifications.mail_modes(db.session.get(User, board["ann"]))
    assert set(saved.values()) == {MailMode.DIGEST}


def test_an_unknown_mail_choice_is_422_and_saves_nothing(app, client, auth, board):
    auth.login("ann")
    choice = {kind.value: MailMode.OFF.value for kind in NoticeKind} | {"assigned": "hourly"}
    answer = client.post("/account/notifications", data=choice)
    assert answer.status_code == 422 and 'aria-invalid="true"' in answer.text
    with app.app_context():
        assert db.session.get(User, board["ann"]).notice_mail is None


def token_for(app, user_id, kind=NoticeKind.ASSIGNED) -> str:
    with app.app_context():
        return notifications.unsubscribe_token(user_id, kind)


def test_the_unsubscribe_link_asks_first_then_turns_that_kind_off(app, client, board):
    token = token_for(app, board["ann"])
    url = f"/notifications/unsubscribe/{token}"
    shown = client.get(url)  # no login; a mail scanner's GET changes nothing
    assert shown.status_code == 200 and "Stop these emails" in shown.text
    assert shown.headers["Cache-Control"] == "no-store"
    assert "A card is assigned to you" in shown.text
    with app.app_context():
        assert db.session.get(User, board["ann"]).notice_mail is None
    done = client.post(url)
    assert done.status_code == 200 and "gets no more email" in done.text
    with app.app_context():
        modes = notifications.mail_modes(db.session.get(User, board["ann"]))
    assert modes[NoticeKind.ASSIGNED] == MailMode.OFF
    assert modes[NoticeKind.MENTIONED] == MailMode.NOW  # only the kind it names


def forged(app, user_id, how) -> str:
    good = token_for(app, user_id)
    if how == "tampered":
        return good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    if how == "other salt":
        with app.app_context():
            return URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="other").dumps(
                {"u": user_id, "k": "assigned"}
            )
    if how == "other key":
        return URLSafeTimedSerializer("not the key", salt=notifications.UNSUBSCRIBE_SALT).dumps(
            {"u": user_id, "k": "assigned"}
        )
    with app.app_context():  # signed, but naming nonsense
        return URLSafeTimedSerializer(
            app.config["SECRET_KEY"], salt=notifications.UNSUBSCRIBE_SALT
        ).dumps({"u": user_id, "k": "birthdays"})


@pytest.mark.parametrize("how", ["tampered", "other salt", "other key", "odd kind"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_forged_unsubscribe_link_is_refused_and_changes_nothing(app, client, board, how, method):
    answer = client.open(
        f"/notifications/unsubscribe/{forged(app, board['ann'], how)}", method=method
    )
    assert answer.status_code == 422 and "not valid" in answer.text
    with app.app_context():
        assert db.session.get(User, board["ann"]).notice_mail is None


def test_an_expired_unsubscribe_link_says_so(app, client, board, monkeypatch):
    token = token_for(app, board["ann"])
    monkeypatch.setattr(notifications, "UNSUBSCRIBE_MAX_AGE", -1)
    answer = client.post(f"/notifications/unsubscribe/{token}")
    assert answer.status_code == 422 and "expired" in answer.text
    with app.app_context():
        assert db.session.get(User, board["ann"]).notice_mail is None
