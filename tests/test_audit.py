"""The audit log: every administrative act leaves one row, in the same commit as the act;
nothing edits or deletes a row; admins read it all and leads their boards only, filtered,
paged and as CSV; no personal data, password or token goes into it."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import delete, select, update

from tests.helpers import PASSWORD, actor, column, lane, make_board, make_card, make_user
from tracker import database
from tracker.domain.errors import InvalidRequest
from tracker.extensions import db
from tracker.models import AuditEvent, Board, User
from tracker.services import audit, boards, cards, intake

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def site(app):
    """Board Team (Support limit 1, strict) led by Lee with member Ann; board Other led by
    Ola; admin Ada."""
    with app.app_context():
        team = make_board("Team", support=1)
        other = make_board("Other")
        ids = {
            "team": team.id,
            "other": other.id,
            "ada": make_user("ada", admin=True).id,
            "lee": make_user("lee", board=team, role="lead").id,
            "ann": make_user("ann", board=team, role="member").id,
            "ola": make_user("ola", board=other, role="lead").id,
        }
        db.session.remove()
    return ids


def rows(app, **where) -> list[AuditEvent]:
    """The committed audit rows, read beside a test's own (maybe open) write transaction."""
    with app.app_context(), database.reading():
        query = select(AuditEvent).order_by(AuditEvent.id)
        for name, value in where.items():
            query = query.where(getattr(AuditEvent, name) == value)
        found = list(db.session.execute(query).scalars())
        for row in found:
            db.session.expunge(row)
        db.session.remove()
        return found


def test_a_row_is_written_with_the_act_or_not_at_all(app, ctx, site):
    board = db.session.get(Board, site["team"])
    before = len(rows(app))
    with pytest.raises(InvalidRequest):
        boards.update_settings(
            board.id,
            actor(_user(site["lee"]), "lead"),
            timezone="Not/AZone",
            per_person_limit="",
            pull_order="support,feature",
            lanes=[],
            column_limits={},
        )
    db.session.rollback()
    assert len(rows(app)) == before  # refused: no act, no row
    audit.record("board.created", board_id=board.id)
    db.session.rollback()
    assert len(rows(app)) == before  # rolled back with its act


def _user(user_id):
    from tracker.models import User

    return db.session.get(User, user_id)


def test_audit_rows_cannot_be_edited_or_deleted(app, ctx, site):
    row = audit.record("board.created", board_id=site["team"])
    db.session.commit()
    row.action = "login"
    with pytest.raises(audit.AuditTampering):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEvent, row.id))
    with pytest.raises(audit.AuditTampering):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(audit.AuditTampering):
        db.session.execute(update(AuditEvent).values(action="login"))
    db.session.rollback()
    with pytest.raises(audit.AuditTampering):
        db.session.execute(delete(AuditEvent).where(AuditEvent.id == row.id))
    db.session.rollback()
    assert db.session.get(AuditEvent, row.id).action == "board.created"


def test_no_code_in_the_app_updates_or_deletes_audit_rows():
    pattern = re.compile(r"(update|delete)\(\s*AuditEvent|AuditEvent\.__table__\.(update|delete)")
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "tracker").rglob("*.py")
        if pattern.search(path.read_text())
    ]
    assert offenders == []


def test_logins_and_failed_logins_are_audited_without_what_was_typed(app, client, site):
    client.post("/login", data={"username": "lee", "password": PASSWORD})
    client.post("/logout")
    client.post("/login", data={"username": "lee", "password": "guess number one"})
    client.post("/login", data={"username": "Nobody@Example.com", "password": "guess two"})
    found = [r for r in rows(app) if r.action.startswith("login")]
    assert [(r.action, r.actor_id, r.target_id, r.ip) for r in found] == [
        ("login", site["lee"], site["lee"], "127.0.0.1"),
        ("login_failed", None, site["lee"], "127.0.0.1"),
        ("login_failed", None, None, "127.0.0.1"),
    ]
    dumped = json.dumps([r.detail for r in found]) + " ".join(r.target_type for r in found)
    assert "nobody" not in dumped.lower() and "guess" not in dumped


def test_board_and_membership_changes_are_audited(app, ctx, site):
    board = boards.create_board("Third")
    ann = _user(site["ann"])
    boards.set_membership(board, ann, "viewer")
    boards.set_membership(board, ann, "member")
    boards.set_membership(board, ann, None)
    acts = [(r.action, r.detail) for r in rows(app, board_id=board.id)]
    assert acts == [
        ("board.created", {}),
        ("membership.added", {"role": [None, "viewer"]}),
        ("membership.changed", {"role": ["viewer", "member"]}),
        ("membership.removed", {"role": ["member", None]}),
    ]


def test_wip_limit_and_mode_changes_record_old_and_new(app, ctx, site):
    board = db.session.get(Board, site["team"])
    support = lane(board, "support")
    review = column(board, "Review")
    lanes = [
        boards.LaneSetting(
            lane_.id,
            lane_.name,
            4 if lane_.kind == "support" else lane_.wip_limit,
            "reason" if lane_.kind == "support" else lane_.limit_mode,
        )
        for lane_ in board.lanes
    ]
    boards.update_settings(
        board.id,
        actor(_user(site["lee"]), "lead"),
        timezone="Europe/Berlin",
        per_person_limit="2",
        pull_order="support,feature",
        lanes=lanes,
        column_limits={review.id: "3"},
    )
    (row,) = rows(app, action="board.settings_changed")
    assert row.actor_id == site["lee"] and row.board_id == board.id
    assert row.detail == {
        "board": {"timezone": ["UTC", "Europe/Berlin"], "per_person_limit": [None, 2]},
        f"lane {support.id} (support)": {"wip_limit": [1, 4], "limit_mode": ["strict", "reason"]},
        f"column {review.id}": {"wip_limit": [None, 3]},
    }
    text = audit.describe(row)
    assert "wip_limit 1 → 4" in text and "limit_mode strict → reason" in text


def test_column_changes_are_audited(app, ctx, site):
    board = db.session.get(Board, site["team"])
    specs = [(c.id, c.kind, c.name) for c in board.columns]
    specs.insert(2, (None, "active", "Testing"))
    boards.update_columns(board.id, actor(_user(site["lee"]), "lead"), specs)
    (row,) = rows(app, action="board.columns_changed")
    old, new = row.detail["columns"]
    assert "Testing" not in old and "Testing (active)" in new


def test_overrides_and_status_links_are_audited(app, ctx, site):
    board = db.session.get(Board, site["team"])
    lee = actor(_user(site["lee"]), "lead")
    make_card(board, lee, "support", "First", at="In progress")
    second = make_card(board, lee, "support", "Second")
    cards.move_card(
        board.id,
        lee,
        second.id,
        lane_id=second.lane_id,
        column_id=column(board, "In progress").id,
        reason="customer outage",
    )
    overrides = rows(app, action="wip.override")
    assert [(r.actor_id, r.target_id) for r in overrides][-1] == (site["lee"], second.id)
    assert overrides[-1].detail["limits"] == ["lane 1/1 (strict)"]
    intake.create_status_link(board.id, lee, second.id)
    intake.create_status_link(board.id, lee, second.id)
    intake.revoke_status_link(board.id, lee, second.id)
    intake.revoke_status_link(board.id, lee, second.id)  # nothing active: nothing recorded
    links = [(r.action, r.detail) for r in rows(app) if r.action.startswith("status_link")]
    assert links == [
        ("status_link.created", {"card": second.ref, "replaced": 0}),
        ("status_link.created", {"card": second.ref, "replaced": 1}),
        ("status_link.revoked", {"card": second.ref, "revoked": 1}),
    ]


def page_rows(html: str) -> list[str]:
    return re.findall(r'<tr id="audit-(\d+)">', html)


def test_admins_read_everything_leads_their_board_only(app, client, auth, site):
    with app.app_context():
        boards.set_membership(db.session.get(Board, site["other"]), _user(site["ann"]), "viewer")
        db.session.remove()
    team_rows = {str(r.id) for r in rows(app, board_id=site["team"])}
    other_rows = {str(r.id) for r in rows(app, board_id=site["other"])}
    auth.login("lee")
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit.csv").status_code == 403
    mine = client.get(f"/b/{site['team']}/audit")
    assert mine.status_code == 200
    assert set(page_rows(mine.text)) == team_rows
    assert client.get(f"/b/{site['other']}/audit").status_code == 404  # not his board
    auth.logout()
    auth.login("ann")  # a member, not a lead
    assert client.get(f"/b/{site['team']}/audit").status_code == 403
    assert client.get(f"/b/{site['team']}/audit.csv").status_code == 403
    auth.logout()
    auth.login("ada")
    everything = page_rows(client.get("/admin/audit").text)
    assert team_rows | other_rows <= set(everything)
    assert len(everything) == len(rows(app))


def test_filters_paging_and_csv(app, client, auth, site):
    with app.app_context():
        team = db.session.get(Board, site["team"])
        ann = _user(site["ann"])
        # Ann is a member: the first call changes nothing, then 29 changes on March 2 and
        # 31 on March 5.
        with time_machine.travel(datetime(2026, 3, 2, 10, tzinfo=UTC), tick=False):
            for i in range(30):
                boards.set_membership(team, ann, "viewer" if i % 2 else "member")
        with time_machine.travel(datetime(2026, 3, 5, 10, tzinfo=UTC), tick=False):
            for i in range(31):
                boards.set_membership(team, ann, "viewer" if i % 2 else "member")
        db.session.remove()
    auth.login("ada")
    march = "/admin/audit?action=membership.changed&since=2026-03-01&until=2026-03-05"
    first = client.get(march)
    assert "60 entries" in first.text
    assert len(page_rows(first.text)) == audit.PAGE_SIZE
    assert "page=2" in first.text
    second = client.get(march + "&page=2")
    assert len(page_rows(second.text)) == 60 - audit.PAGE_SIZE
    assert not set(page_rows(first.text)) & set(page_rows(second.text))
    only_second_day = client.get(
        "/admin/audit?action=membership.changed&since=2026-03-05&until=2026-03-05"
    )
    assert "31 entries" in only_second_day.text
    by_person = client.get(f"/admin/audit?person={site['ada']}")
    assert "1 entry" in by_person.text  # Ada's login
    exported = client.get("/admin/audit.csv?action=membership.changed&since=2026-03-05")
    assert exported.mimetype == "text/csv"
    table = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(table) == 31
    assert {row["action"] for row in table} == {"membership.changed"}
    assert all(row["at_utc"].startswith("2026-03-05") for row in table)
    assert table[0]["detail"] in ("role: viewer → member", "role: member → viewer")
    lead = app.test_client()
    lead.post("/login", data={"username": "lee", "password": PASSWORD})
    board_csv = lead.get(f"/b/{site['team']}/audit.csv?action=membership.changed")
    assert len(list(csv.DictReader(io.StringIO(board_csv.text)))) == 60


def test_bad_filter_values_are_ignored_not_errors(client, auth, site):
    auth.login("ada")
    for query in ("since=yesterday", "person=abc", "action=<script>", "page=-4", "page=x"):
        page = client.get("/admin/audit?" + query)
        assert page.status_code == 200, query
        assert "<script>" not in page.text


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def test_both_audit_exports_neutralise_names_a_spreadsheet_would_run(app, client, site):
    tricky = {"lee": '=HYPERLINK("http://evil.example","x")', "ann": "@SUM(A1)"}
    with app.app_context():
        for who, name in tricky.items():
            db.session.get(User, site[who]).name = name
        db.session.commit()
        team = db.session.get(Board, site["team"])
        boards.set_membership(team, _user(site["ann"]), "viewer")  # audited, by nobody
        audit.record(
            "membership.changed",
            actor_id=site["lee"],
            board_id=site["team"],
            target_type="user",
            target_id=site["ann"],
            detail={"role": ["viewer", "member"]},
        )
        db.session.commit()
        db.session.remove()
    for who, path in (("ada", "/admin/audit.csv"), ("lee", f"/b/{site['team']}/audit.csv")):
        reader = app.test_client()
        reader.post("/login", data={"username": who, "password": PASSWORD})
        answer = reader.get(path)
        assert answer.status_code == 200, path
        rows = list(csv.reader(io.StringIO(answer.text)))
        cells = [cell for row in rows for cell in row]
        assert "'" + tricky["lee"] in cells, path
        assert not [cell for cell in cells if cell.startswith(FORMULA_START)], path


def test_every_csv_export_is_written_by_the_one_neutralising_function():
    writers = [
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "tracker").rglob("*.py")
        if "csv.writer(" in path.read_text() or "DictWriter(" in path.read_text()
    ]
    assert writers == ["tracker/domain/text.py"]
