from tests.helpers import actor, make_board, make_card, make_user
from tracker.extensions import db


def test_board_page_and_pull(app, client, auth):
    with app.app_context():
        board = make_board()
        ann = make_user("ann", board=board, role="member")
        make_card(board, actor(ann), "support", "Printer on fire")
        board_id = board.id
        db.session.remove()
    auth.login("ann")
    page = client.get(f"/b/{board_id}")
    assert page.status_code == 200, page.text
    assert "Printer on fire" in page.text
    pulled = client.post(f"/b/{board_id}/pull", headers={"HX-Request": "true"})
    assert pulled.status_code == 200, pulled.text
    assert "You pulled SUP-1" in pulled.text
