"""After the incident (services.reviews, web.incidents): the one-click review card in the
Support lane, the review page and its Markdown, follow-up cards with their live status."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from tests.helpers import BoardSpec, CardSpec, actor, make_board, make_card, make_user
from tracker import clock
from tracker.domain.errors import InvalidRequest, NotAllowed
from tracker.extensions import db
from tracker.models import Board, Card, IncidentFollowUp, IncidentReview, User
from tracker.services import cards, incidents, reports, reviews

HX = {"HX-Request": "true"}
SECTIONS = {
    "what_happened": "Checkout answered 502 after the 4.3 deploy.",
    "impact": "No orders for 40 minutes.",
    "contributing_factors": "The health check did not cover payments.",
    "went_well": "The rollback took two minutes.",
    "to_change": "Cover payments in the health check.",
}


@pytest.fixture
def board_spec():
    return BoardSpec(
        people={"ann": "member", "lee": "lead", "vic": "viewer"},
        cards=(CardSpec("s1", "expedite", "Checkout is down", fields={"severity": "S1"}),),
    )


def resolve(app, board) -> None:
    """ann pulls the S1, mitigates it and moves it to Done."""
    with app.app_context():
        ann = actor(db.session.get(User, board["ann"]))
        cards.pull_next(board["board"], ann)
        incidents.mitigate(board["board"], ann, board["s1"], "rolled back to 4.2.1")
        cards.move_card(
            board["board"],
            ann,
            board["s1"],
            lane_id=board["expedite_lane"],
            column_id=board["Done"],
        )
        db.session.remove()


def test_one_click_makes_a_prefilled_review_card_in_support_once(app, client, auth, board):
    resolve(app, board)
    auth.login("ann")
    url = f"/b/{board['board']}/cards/{board['s1']}/review"
    page_url = f"/b/{board['board']}/incidents/{board['s1']}/review"
    made = client.post(url, headers=HX)
    assert made.status_code == 204 and made.headers["HX-Redirect"] == page_url
    assert client.post(url).status_code == 303  # a second click finds the same review
    with app.app_context():
        (review,) = db.session.execute(select(IncidentReview)).scalars().all()
        card = db.session.get(Card, review.card_id)
        assert card.lane_id == board["support_lane"] and card.title.startswith(
            "Post-incident review: EXP-1"
        )
        assert "Mitigated" in card.description and "rolled back to 4.2.1" in review.what_happened
        db.session.remove()
    page = client.get(page_url)
    assert page.status_code == 200
    assert "Blameless" in page.text and "Contributing factors" in page.text
    assert "Ann Person" in page.text  # who took part
    assert "make the temporary fix permanent: rolled back to 4.2.1" in page.text.lower()


def test_the_review_is_written_once_every_section_says_something(app, client, auth, board):
    resolve(app, board)
    auth.login("ann")
    client.post(f"/b/{board['board']}/cards/{board['s1']}/review")
    base = f"/b/{board['board']}/incidents/{board['s1']}/review"
    half = client.post(base, data={"what_happened": "x"})
    assert half.status_code == 303
    assert "Fill every section" in client.get(base).text
    client.post(base, data=SECTIONS)
    page = client.get(base).text
    assert "Written " in page and "Cover payments in the health check." in page
    md = client.get(f"{base}.md")
    assert md.mimetype == "text/markdown"
    assert md.text.startswith("# Post-incident review: EXP-1 Checkout is down")
    assert "## Contributing factors\n\nThe health check did not cover payments." in md.text
    too_long = client.post(base, data={"impact": "x" * 10_001})
    assert too_long.status_code == 422 and "10,000 characters" in too_long.text


def test_follow_ups_are_linked_and_show_their_live_status(app, client, auth, board):
    resolve(app, board)
    auth.login("ann")
    url = f"/b/{board['board']}/cards/{board['s1']}/follow-ups"
    title = "Make the temporary fix permanent: rolled back to 4.2.1"
    panel = client.post(url, data={"title": title, "lane": "feature"}, headers=HX)
    assert panel.status_code == 200 and "is a follow-up of this incident" in panel.text
    assert "Feature · Ready" in panel.text
    via_review = client.post(
        url, data={"title": "Alert on 502s", "lane": "support", "back": "page"}
    )
    assert via_review.status_code == 303 and via_review.headers["Location"].endswith("/review")
    with app.app_context():
        ids = db.session.execute(select(IncidentFollowUp.card_id)).scalars().all()
        ann = actor(db.session.get(User, board["ann"]))
        first = db.session.get(Card, ids[0])
        cards.move_card(
            board["board"], ann, first.id, lane_id=first.lane_id, column_id=board["Done"]
        )
        db.session.remove()
    review_page = client.get(f"/b/{board['board']}/incidents/{board['s1']}/review").text
    assert "· <strong>Done</strong>" in review_page and "Support · Ready" in review_page
    follow_panel = client.get(f"/b/{board['board']}/cards/{ids[1]}", headers=HX).text
    assert "A follow-up of" in follow_panel and "EXP-1 Checkout is down" in follow_panel
    bad = client.post(url, data={"title": "", "lane": "support"}, headers=HX)
    assert bad.status_code == 422 and "Give the follow-up a title." in bad.text
    odd = client.post(url, data={"title": "x", "lane": "expedite", "back": "page"})
    assert odd.status_code == 422 and "Support or the Feature lane" in odd.text


def test_refusals_and_roles(app, client, auth, board):
    auth.login("ann")
    early = client.post(f"/b/{board['board']}/cards/{board['s1']}/review", headers=HX)
    assert early.status_code == 422 and "not resolved yet" in early.text
    resolve(app, board)
    auth.logout()
    auth.login("vic")
    assert client.get(f"/b/{board['board']}/incidents/{board['s1']}/review").status_code == 200
    assert client.get(f"/b/{board['board']}/incidents/{board['s1']}/review.md").status_code == 200
    for path in ("cards/{}/review", "incidents/{}/review", "cards/{}/follow-ups"):
        url = f"/b/{board['board']}/" + path.format(board["s1"])
        assert client.post(url, data={"title": "x", "lane": "support"}).status_code == 403
    with app.app_context():
        vic = actor(db.session.get(User, board["vic"]), "viewer")
        with pytest.raises(NotAllowed):
            reviews.start_review(board["board"], vic, board["s1"])
        ann = actor(db.session.get(User, board["ann"]))
        with pytest.raises(InvalidRequest, match="no review yet"):
            reviews.save_review(board["board"], ann, board["s1"], SECTIONS)
        db.session.remove()


def test_another_boards_incident_is_not_found(app, client, auth, board):
    resolve(app, board)
    with app.app_context():
        other = make_board("Other")
        bob = make_user("bob", board=other, role="lead")
        theirs = make_card(other, actor(bob, "lead"), "expedite", "Theirs", severity="S1")
        other_id = other.id
        their_card = theirs.id
        db.session.remove()
    auth.logout()
    auth.login("bob")
    for path in ("review", "review.md"):
        assert client.get(f"/b/{other_id}/incidents/{board['s1']}/{path}").status_code == 404
    for path in ("cards/{}/review", "incidents/{}/review", "cards/{}/follow-ups"):
        url = f"/b/{other_id}/" + path.format(board["s1"])
        assert client.post(url, data={"title": "x", "lane": "support"}).status_code == 404
    auth.logout()
    auth.login("ann")
    url = f"/b/{board['board']}/incidents/{their_card}/review"
    assert client.get(url).status_code == 404


def test_a_review_not_written_within_five_working_days_is_late(app, client, auth, board):
    resolve(app, board)
    auth.login("ann")
    client.post(f"/b/{board['board']}/cards/{board['s1']}/review")
    with time_machine.travel(clock.now() + timedelta(days=9), tick=False):
        auth.login("ann")
        page = client.get(f"/b/{board['board']}/incidents/{board['s1']}/review")
    assert "not written within 5 working days" in page.text


def test_the_report_counts_incidents_per_period_with_drills_apart(app, client, auth, board):
    with app.app_context():
        ann = actor(db.session.get(User, board["ann"]))
        b = board["board"]
        lane_id = board["expedite_lane"]
        drill = make_card(db.session.get(Board, b), ann, "expedite", "Drill", severity="S1")
        incidents.set_drill(b, ann, drill.id, True)
        db.session.remove()
    start = clock.now()
    with time_machine.travel(start, tick=False) as traveller:
        with app.app_context():
            ann = actor(db.session.get(User, board["ann"]))
            traveller.shift(timedelta(minutes=6))
            cards.move_card(
                b, ann, board["s1"], lane_id=lane_id, column_id=board["In progress"], take=True
            )
            now = clock.now()
            given = incidents.GrantInput(
                ann.id, "orders-db", "fix", board["lee"], "", now, now + timedelta(hours=2)
            )
            grant = incidents.record_grant(b, ann, board["s1"], given)
            traveller.shift(timedelta(minutes=30))
            incidents.end_grant(b, ann, grant.id)
            incidents.mitigate(b, ann, board["s1"], "rolled back")
            traveller.shift(timedelta(minutes=24))
            cards.move_card(b, ann, board["s1"], lane_id=lane_id, column_id=board["Done"])
            reviews.add_follow_up(b, ann, board["s1"], "Make it permanent", "feature")
            report = reports.build_report(db.session.get(Board, b), count=2)
            db.session.remove()
    period, figures = report.incidents.rows[-1]
    assert (figures.count, figures.drills) == (1, 1)
    assert figures.acknowledge[0] == pytest.approx(0.1, abs=0.01)  # 6 min, in hours
    assert figures.mitigate[0] == pytest.approx(36 / 60, abs=0.01)
    assert figures.resolve[0] == pytest.approx(1.0, abs=0.01)
    assert figures.glass_hours == pytest.approx(0.5)
    assert figures.late_reviews == 0
    (follow,) = report.incidents.open_follow_ups
    assert follow.card_id == board["s1"] and follow.open == 1
    auth.login("lee")
    page = client.get(f"/b/{board['board']}/report")
    assert (
        'id="incidents-table"' in page.text and "Incidents with follow-ups still open" in page.text
    )
