"""Support intake as people meet it: filing, bad input, the double submit, My requests, the
request page, comments, and the status link's boundaries."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from tests.helpers import BoardSpec, CardSpec, actor, make_board, make_card, make_user
from tracker.extensions import db
from tracker.models import Board, Card, CardEvent, Comment, Component, StatusLink
from tracker.services import cards, intake
from tracker.services.common import Actor

HX = {"HX-Request": "true"}
KEY = re.compile(r'name="intake_key" type="hidden" value="([^"]+)"')


@pytest.fixture
def board_spec():
    """A board with a support person, a member, a lead, a viewer, one outsider, two
    components, and support requests already waiting: an S2, an S3 and an S4."""
    return BoardSpec(
        people={"ann": "member", "lee": "lead", "vic": "viewer", "sam": "support", "out": None},
        components=("Checkout", "Invoices"),
        cards=tuple(
            CardSpec(severity, "support", f"Waiting {severity}", fields={"severity": severity})
            for severity in ("S2", "S3", "S4")
        ),
    )


def url(ids, path=""):
    return f"/b/{ids['board']}{path}"


def fresh_key(client, ids) -> str:
    page = client.get(url(ids, "/intake"))
    assert page.status_code == 200
    return KEY.search(page.text).group(1)


def request_data(key: str, **changes) -> dict:
    data = {
        "title": "Checkout fails for card payments",
        "description": "Customer pressed Pay and got an error page.",
        "requester": "Dana Customer",
        "requester_email": "dana@example.com",
        "severity": "S2",
        "component": "Checkout",
        "environment": "production, Firefox 140",
        "intake_key": key,
    }
    return data | changes


def file(client, ids, **changes):
    return client.post(url(ids, "/intake"), data=request_data(fresh_key(client, ids), **changes))


def card_count(app) -> int:
    with app.app_context():
        count = db.session.execute(select(func.count()).select_from(Card)).scalar_one()
        db.session.remove()
        return count


def ready_titles(app, ids, kind="support") -> list[str]:
    with app.app_context():
        titles = list(
            db.session.execute(
                select(Card.title)
                .where(Card.lane_id == ids[f"{kind}_lane"], Card.column_id == ids["Ready"])
                .order_by(Card.rank)
            ).scalars()
        )
        db.session.remove()
        return titles


def card_id_of(response) -> int:
    assert response.status_code == 303, response.text[:500]
    return int(re.search(r"/requests/(\d+)$", response.headers["Location"]).group(1))


def test_form_speaks_plainly_and_offers_the_boards_components(client, auth, board):
    auth.login("sam")
    page = client.get(url(board, "/intake"))
    assert page.status_code == 200
    for words in (
        "File a support request",
        "What happened",
        "Requester&#39;s email",
        "S1 · Production down",
        "S4 · Question",
        "Use it only when production is down",
        "Checkout",
        "Invoices",
        "Other / not sure",
    ):
        assert words in page.text, words
    assert KEY.search(page.text)
    assert fresh_key(client, board) != fresh_key(client, board)  # one per form


def test_support_files_an_s2_above_s3_and_s4_and_lands_on_its_page(app, client, auth, board):
    auth.login("sam")
    answer = file(client, board)
    card_id = card_id_of(answer)
    assert ready_titles(app, board) == [
        "Waiting S2",
        "Checkout fails for card payments",
        "Waiting S3",
        "Waiting S4",
    ]
    page = client.get(answer.headers["Location"])
    assert page.status_code == 200
    with app.app_context():
        card = db.session.get(Card, card_id)
        assert card.ref == "SUP-4" and card.severity == "S2" and card.component == "Checkout"
        assert card.requester == "Dana Customer" and card.requester_email == "dana@example.com"
        assert card.environment == "production, Firefox 140"
        db.session.remove()
    assert "Filed SUP-4" in page.text and "SUP-4" in page.text
    assert "received" in page.text and "Support · Ready" in page.text
    assert "production, Firefox 140" in page.text and "dana@example.com" in page.text


def test_severities_rank_then_age(app, client, auth, board):
    auth.login("ann")
    for title, severity in (("new S4", "S4"), ("new S3", "S3"), ("second S2", "S2")):
        card_id_of(file(client, board, title=title, severity=severity, component="Other"))
    assert ready_titles(app, board) == [
        "Waiting S2",
        "second S2",
        "Waiting S3",
        "new S3",
        "Waiting S4",
        "new S4",
    ]


def test_s1_goes_to_the_expedite_ready_queue(app, client, auth, board):
    auth.login("sam")
    card_id = card_id_of(file(client, board, title="Site down", severity="S1"))
    with app.app_context():
        card = db.session.get(Card, card_id)
        assert (card.lane.kind, card.column.name, card.ref) == ("expedite", "Ready", "EXP-1")
        db.session.remove()
    assert ready_titles(app, board, "expedite") == ["Site down"]


def test_a_double_submit_files_one_card(app, client, auth, board):
    auth.login("sam")
    key = fresh_key(client, board)
    before = card_count(app)
    first = client.post(url(board, "/intake"), data=request_data(key))
    second = client.post(url(board, "/intake"), data=request_data(key))
    assert card_count(app) == before + 1
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    page = client.get(second.headers["Location"])
    assert "This form was already sent: it filed SUP-4" in page.text
    # The resent form answers with the first request even when its fields were changed.
    third = client.post(url(board, "/intake"), data=request_data(key, title="Changed"))
    assert third.headers["Location"] == first.headers["Location"]
    assert card_count(app) == before + 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"title": "x" * 201}, "Keep the summary to 200 characters or fewer."),
        ({"title": "  "}, "Write a short summary"),
        ({"description": "y" * 10_001}, "Keep this to 10,000 characters or fewer."),
        ({"requester": ""}, "Give the name of the person who reported it."),
        ({"requester_email": "dana at example"}, "That is not an email address"),
        ({"requester_email": "a@b.c" + "c" * 260}, "at most 254 characters"),
        ({"severity": "S9"}, "Choose how bad it is: one of S1, S2, S3 or S4."),
        ({"severity": ""}, "Choose how bad it is"),
        ({"component": "Nope"}, "Choose a component from the list"),
        ({"component": ""}, "Choose the part of the system it concerns"),
        ({"environment": "z" * 201}, "Keep this to 200 characters or fewer."),
        ({"intake_key": ""}, "This form is incomplete; send it again."),
        ({"intake_key": "short<script>"}, "This form is incomplete; send it again."),
    ],
)
def test_bad_input_is_422_with_a_message_and_keeps_what_was_typed(
    app, client, auth, board, changes, message
):
    auth.login("sam")
    before = card_count(app)
    answer = file(client, board, **({"description": "Kept <i>text</i> q"} | changes))
    assert answer.status_code == 422
    assert message in answer.text
    assert "Check the fields marked below." in answer.text
    assert card_count(app) == before
    if "title" not in changes:
        assert 'value="Checkout fails for card payments"' in answer.text
    if "description" not in changes:
        assert "Kept &lt;i&gt;text&lt;/i&gt; q" in answer.text
    assert 'value="Dana Customer"' in answer.text or "requester" in changes
    assert KEY.search(answer.text)  # a usable token to send it again


def test_a_bad_form_can_be_corrected_and_sent_again(app, client, auth, board):
    auth.login("sam")
    key = fresh_key(client, board)
    bad = client.post(url(board, "/intake"), data=request_data(key, requester_email="nope"))
    assert bad.status_code == 422 and f'value="{key}"' in bad.text
    good = client.post(url(board, "/intake"), data=request_data(key))
    card_id_of(good)


def test_html_and_odd_characters_are_stored_and_shown_escaped(app, client, auth, board):
    auth.login("sam")
    answer = file(
        client,
        board,
        title="<script>alert(1)</script> broken\x00",
        description="<img src=x onerror=alert(2)>",
        requester='Bobby "Tables" <b>',
        environment="<em>prod</em>",
    )
    card_id = card_id_of(answer)
    page = client.get(answer.headers["Location"])
    for shown in (client.get(url(board, "/requests")), page):
        assert shown.status_code == 200
        assert "<script>alert(1)" not in shown.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt; broken" in shown.text
    assert "<img src=x" not in page.text and "&lt;img src=x onerror=alert(2)&gt;" in page.text
    assert "&lt;em&gt;prod&lt;/em&gt;" in page.text
    with app.app_context():
        assert db.session.get(Card, card_id).title == "<script>alert(1)</script> broken"
        db.session.remove()


def test_roles_viewers_read_only_and_outsiders_see_nothing(app, client, auth, board):
    auth.login("sam")
    card_id = card_id_of(file(client, board))
    auth.logout()
    auth.login("vic")
    assert client.get(url(board, "/intake")).status_code == 403
    assert client.post(url(board, "/intake"), data=request_data("k" * 32)).status_code == 403
    assert client.get(url(board, f"/requests/{card_id}")).status_code == 200
    assert client.get(url(board, "/requests")).status_code == 200
    comment = {"body": "viewer note", "visibility": "internal"}
    assert client.post(url(board, f"/requests/{card_id}/comments"), data=comment).status_code == 403
    link = client.post(url(board, f"/requests/{card_id}/status-link"), data={"action": "create"})
    assert link.status_code == 403
    board_page = client.get(url(board))
    assert "File a request" not in board_page.text
    auth.logout()
    auth.login("out")
    for path in ("/intake", "/requests", f"/requests/{card_id}"):
        assert client.get(url(board, path)).status_code == 404, path
    assert client.post(url(board, "/intake"), data=request_data("k" * 32)).status_code == 404
    assert client.post(url(board, f"/requests/{card_id}/comments"), data=comment).status_code == 404
    assert card_count(app) == 4
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Comment)).scalar_one() == 0
        db.session.remove()


def test_anonymous_people_are_sent_to_log_in(client, board):
    answer = client.get(url(board, "/intake"))
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    assert client.get(url(board, "/requests"), headers=HX).status_code == 401


def test_a_card_of_another_board_is_404(app, client, auth, board):
    with app.app_context():
        other = make_board("Other team")
        lee = make_user("lee2", board=other, role="lead")
        foreign = make_card(other, actor(lee, "lead"), "support", "Not yours").id
        db.session.remove()
    auth.login("sam")
    assert client.get(url(board, f"/requests/{foreign}")).status_code == 404
    comment = {"body": "hello", "visibility": "reply"}
    assert client.post(url(board, f"/requests/{foreign}/comments"), data=comment).status_code == 404
    link = client.post(url(board, f"/requests/{foreign}/status-link"), data={"action": "create"})
    assert link.status_code == 404


def test_my_requests_lists_what_i_filed_newest_first_in_plain_words(app, client, auth, board):
    auth.login("sam")
    made = {}
    for title in ("first", "second", "third", "fourth", "fifth"):
        made[title] = card_id_of(file(client, board, title=f"Request {title}"))
    auth.logout()
    auth.login("ann")
    card_id_of(file(client, board, title="Ann's own request"))
    with app.app_context():
        ann = Actor(board["ann"], "Ann Person", "lead")
        b = board["board"]
        cards.move_card(
            b, ann, made["second"], lane_id=board["support_lane"], column_id=board["Done"]
        )
        cards.move_card(
            b, ann, made["third"], lane_id=board["support_lane"], column_id=board["Review"]
        )
        cards.move_card(
            b, ann, made["fourth"], lane_id=board["support_lane"], column_id=board["In progress"]
        )
        cards.assign_card(b, ann, made["fourth"], board["ann"])
        cards.close_card(b, ann, made["fifth"], "duplicate", "same as SUP-1")
        db.session.remove()
    auth.logout()
    auth.login("sam")
    page = client.get(url(board, "/requests"))
    assert page.status_code == 200
    assert "Ann&#39;s own request" not in page.text
    rows = re.findall(
        r"<tr>\s*<td><a href=\"[^\"]+\"><span class=\"ref\">[^<]+</span> ([^<]+)</a>.*?"
        r"<span class=\"status (\w+)\">([^<]+)</span>.*?<td>([^<]*)</td>\s*<td>([^<]*)</td>",
        page.text,
        re.S,
    )
    assert [(title, label, assignee) for title, _key, label, _where, assignee in rows] == [
        ("Request fifth", "closed (Duplicate: same as SUP-1)", "nobody yet"),
        ("Request fourth", "being worked on", "Ann Person"),
        ("Request third", "in review", "nobody yet"),
        ("Request second", "done", "nobody yet"),
        ("Request first", "received", "nobody yet"),
    ]
    auth.logout()
    auth.login("lee")
    assert (
        "You have not filed any requests on this board yet."
        in client.get(url(board, "/requests")).text
    )


def test_comments_internal_notes_and_replies(app, client, auth, board):
    auth.login("sam")
    card_id = card_id_of(file(client, board))
    path = url(board, f"/requests/{card_id}/comments")
    note = client.post(path, data={"body": "Customer is on the old plan", "visibility": "internal"})
    assert note.status_code == 303 and note.headers["Location"].endswith("#comments")
    auth.logout()
    auth.login("ann")
    reply = client.post(
        path, headers=HX, data={"body": "We are on it <b>now</b>", "visibility": "reply"}
    )
    assert reply.status_code == 200 and "<html" not in reply.text
    assert reply.headers["Vary"] == "HX-Request" or "HX-Request" in reply.headers["Vary"]
    assert 'id="request"' in reply.text and "Reply added." in reply.text
    assert "We are on it &lt;b&gt;now&lt;/b&gt;" in reply.text
    assert "Customer is on the old plan" in reply.text  # the team reads both kinds
    empty = client.post(path, headers=HX, data={"body": "  ", "visibility": "reply"})
    assert empty.status_code == 422 and "Write the comment first." in empty.text
    assert re.search(r'value="reply"[^>]*checked|checked[^>]*value="reply"', empty.text)
    odd = client.post(path, data={"body": "kept text", "visibility": "public"})
    assert odd.status_code == 422 and "Choose an internal note or a reply" in odd.text
    assert "kept text" in odd.text
    page = client.get(url(board, f"/requests/{card_id}"))
    assert "Internal note" in page.text and "Reply to the requester" in page.text
    assert "wrote an internal note" in page.text and "replied to the requester" in page.text
    with app.app_context():
        kinds = list(
            db.session.execute(
                select(CardEvent.kind, CardEvent.reason, CardEvent.changes)
                .where(CardEvent.card_id == card_id)
                .order_by(CardEvent.id)
            )
        )
        assert [(k, r) for k, r, _ in kinds[1:]] == [
            ("commented", "internal note"),
            ("commented", "reply to requester"),
        ]
        assert all(changes == {} for _, _, changes in kinds[1:])
        db.session.remove()


def status_path(text: str) -> str:
    found = re.search(r'id="new-link"[^>]*value="http://[^/]+(/status/[^"]+)"', text)
    assert found, "the new link is shown"
    return found.group(1)


def make_link(client, ids, card_id) -> str:
    made = client.post(url(ids, f"/requests/{card_id}/status-link"), data={"action": "create"})
    assert made.status_code == 200 and "Cache-Control" in made.headers
    return status_path(made.text)


def session_data(app, client) -> str:
    """The session cookie as the app reads it (signed, not encrypted: anyone can)."""
    cookie = client.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    if cookie is None:
        return ""
    return json.dumps(app.session_interface.get_signing_serializer(app).loads(cookie.value))


PRIVATE = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


def assert_private(response) -> None:
    for name, value in PRIVATE.items():
        assert value in response.headers.get(name, ""), (name, response.headers.get(name))
    assert response.headers.get("X-Robots-Tag", "").startswith("noindex")


def test_a_new_status_link_stays_out_of_the_session_and_of_caches(app, client, auth, board):
    auth.login("sam")
    card_id = card_id_of(file(client, board))
    for headers in ({}, HX):
        made = client.post(
            url(board, f"/requests/{card_id}/status-link"),
            data={"action": "create"},
            headers=headers,
        )
        cookie_after_post = session_data(app, client)
        shown = made if made.status_code == 200 else client.get(made.headers["Location"])
        token = status_path(shown.text).rsplit("/", 1)[1]
        assert token not in cookie_after_post and token not in session_data(app, client)
        assert "no-store" in shown.headers.get("Cache-Control", "")
        assert 'hx-history="false"' in shown.text  # nor in htmx's history cache
        assert client.get(f"/status/{token}").status_code == 200
    later = client.get(url(board, f"/requests/{card_id}"))
    assert "/status/" not in later.text  # shown once


def test_the_status_page_and_its_not_found_answer_are_private_alike(app, client, auth, board):
    for unknown in ("/status/" + "A" * 43, "/status/short", "/status/" + "x" * 500):
        answer = client.get(unknown)
        assert answer.status_code == 404, unknown
        assert_private(answer)
    auth.login("sam")
    link = make_link(client, board, card_id_of(file(client, board)))
    auth.logout()
    assert_private(client.get(link))
    assert_private(client.get(link[:-1] + ("B" if link[-1] != "B" else "C")))


def test_the_status_link_shows_replies_and_never_internal_notes(app, client, auth, board):
    auth.login("sam")
    card_id = card_id_of(
        file(client, board, description="Secret description text", environment="secret-env")
    )
    comments = url(board, f"/requests/{card_id}/comments")
    client.post(comments, data={"body": "INTERNAL-7f3a do not tell", "visibility": "internal"})
    client.post(comments, data={"body": "We found the cause.", "visibility": "reply"})
    link = make_link(client, board, card_id)
    assert "/status/" not in client.get(url(board, f"/requests/{card_id}")).text  # shown once
    with app.app_context():
        stored = db.session.execute(select(StatusLink.token_hash)).scalar_one()
        assert link.rsplit("/", 1)[1] not in stored and len(stored) == 64
        cards.assign_card(
            board["board"], Actor(board["ann"], "Ann Person", "member"), card_id, board["ann"]
        )
        cards.move_card(
            board["board"],
            Actor(board["ann"], "Ann Person", "member"),
            card_id,
            lane_id=board["support_lane"],
            column_id=board["In progress"],
        )
        db.session.remove()
    auth.logout()
    public = client.get(link)
    assert public.status_code == 200
    text = public.text
    assert "Checkout fails for card payments" in text and "SUP-4" in text
    assert "being worked on" in text and "We found the cause." in text
    for hidden in (
        "INTERNAL-7f3a",
        "Secret description",
        "secret-env",
        "Ann Person",
        "Sam Person",
        "Dana Customer",
        "dana@example.com",
        "Waiting S3",
        "Checkout</",
    ):
        assert hidden not in text, hidden
    assert "Sam" in text  # the reply's author by first name only
    assert public.headers["X-Robots-Tag"].startswith("noindex")
    assert public.headers["Referrer-Policy"] == "no-referrer"
    assert 'name="robots" content="noindex' in text


def test_status_links_can_be_revoked_and_replaced(app, client, auth, board):
    auth.login("sam")
    card_id = card_id_of(file(client, board))
    first = make_link(client, board, card_id)
    assert client.get(first).status_code == 200
    revoke = client.post(url(board, f"/requests/{card_id}/status-link"), data={"action": "revoke"})
    assert revoke.status_code == 303
    assert "Status link revoked" in client.get(revoke.headers["Location"]).text
    assert client.get(first).status_code == 404
    second = make_link(client, board, card_id)
    third = make_link(client, board, card_id)  # a new link replaces the working one
    auth.logout()
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 404
    assert client.get(third).status_code == 200
    for unknown in ("/status/" + "A" * 43, "/status/short", "/status/" + "x" * 500, "/status/%00"):
        answer = client.get(unknown)
        assert answer.status_code == 404, unknown
        assert "Checkout fails" not in answer.text
    auth.login("sam")
    again = client.post(url(board, f"/requests/{card_id}/status-link"), data={"action": "revoke"})
    client.post(url(board, f"/requests/{card_id}/status-link"), data={"action": "revoke"})
    assert again.status_code == 303
    bad = client.post(url(board, f"/requests/{card_id}/status-link"), data={"action": "steal"})
    assert bad.status_code == 422


def test_leads_keep_the_component_list(app, client, auth, board):
    auth.login("lee")
    settings = url(board, "/settings")
    page = client.get(settings)
    assert "Components" in page.text and "Checkout" in page.text
    added = client.post(settings + "/components", data={"name": "  Mobile   app "})
    assert added.status_code == 303
    for name, message in (
        ("checkout", "Checkout is already in the list."),
        ("other", "Other is always offered"),
        ("", "Give the component a name."),
        ("n" * 81, "at most 80 characters"),
    ):
        refused = client.post(settings + "/components", data={"name": name})
        assert refused.status_code == 422 and message in refused.text, name
    with app.app_context():
        rows = {c.name: c.id for c in db.session.execute(select(Component)).scalars()}
        db.session.remove()
    assert set(rows) == {"Checkout", "Invoices", "Mobile app"}
    assert '<option value="Mobile app">' in client.get(url(board, "/intake")).text
    removed = client.post(settings + f"/components/{rows['Invoices']}/remove")
    assert removed.status_code == 303
    assert "Removed the component Invoices." in client.get(removed.headers["Location"]).text
    assert '<option value="Invoices">' not in client.get(url(board, "/intake")).text
    assert client.post(settings + "/components/999999/remove").status_code == 404
    auth.logout()
    auth.login("ann")
    assert client.post(settings + "/components", data={"name": "Sneaky"}).status_code == 403
    refused = client.post(settings + f"/components/{rows['Checkout']}/remove")
    assert refused.status_code == 403
    auth.logout()
    auth.login("sam")
    gone = file(client, board, component="Invoices")
    assert gone.status_code == 422 and "Choose a component from the list" in gone.text


def test_the_board_links_to_intake_for_roles_that_file(client, auth, board):
    for who in ("sam", "ann", "lee"):
        auth.login(who)
        page = client.get(url(board))
        assert "File a request" in page.text and "My requests" in page.text, who
        auth.logout()


def test_history_replays_to_the_filed_request(app, client, auth, board):
    from tracker.domain import history
    from tracker.store import snapshot

    auth.login("sam")
    card_id = card_id_of(file(client, board))
    client.post(
        url(board, f"/requests/{card_id}/comments"), data={"body": "x", "visibility": "reply"}
    )
    with app.app_context():
        card = db.session.get(Card, card_id)
        events = db.session.execute(
            select(CardEvent.changes).where(CardEvent.card_id == card_id).order_by(CardEvent.id)
        ).scalars()
        current = snapshot(card)
        replayed = history.replay(events)
        assert {name: replayed.get(name) for name in current} == current
        assert replayed["severity"] == "S2" and replayed["component"] == "Checkout"
        assert db.session.get(Board, board["board"]).version > 0
        db.session.remove()


def test_intake_service_refuses_read_only_roles(app, board):
    from tracker.domain.errors import NotAllowed

    with app.app_context():
        viewer = Actor(board["ann"], "Ann Person", "viewer")
        with pytest.raises(NotAllowed):
            intake.file_request(board["board"], viewer, request_data("k" * 32), "k" * 32)
        with pytest.raises(NotAllowed):
            intake.add_comment(board["board"], viewer, board["S2"], "hi", "reply")
        with pytest.raises(NotAllowed):
            intake.create_status_link(board["board"], viewer, board["S2"])
        db.session.remove()


def test_the_team_reaches_a_request_from_its_card_on_the_board(client, auth, board):
    """Whoever works on a filed request opens it from the board: the card panel links to
    the request page, where the comments, replies and status link are."""
    auth.login("sam")
    card_id = card_id_of(file(client, board))
    auth.logout()
    auth.login("ann")
    panel = client.get(url(board, f"/cards/{card_id}"), headers={"HX-Request": "true"})
    request_url = url(board, f"/requests/{card_id}")
    assert f'href="{request_url}"' in panel.text
    assert "Comments, replies to the requester and status link" in panel.text
    page = client.get(request_url)
    assert page.status_code == 200 and "Add comment" in page.text
    plain = client.get(url(board, f"/cards/{board['S3']}"), headers={"HX-Request": "true"})
    assert "/requests/" not in plain.text  # a card nobody filed and with no requester
