"""Incidents on a card's panel: Mitigated, the responders' log, the drill mark and
break-glass access grants. Thin adapters over tracker.services.incidents.

Each answers htmx with the card's incident section (#incident-<card>), and a page without
htmx with a redirect to the card's page (or the page again with the message, 422, when
the input or a rule refused it)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_htmx import make_response

from tracker import clock
from tracker.domain import policy
from tracker.domain.errors import DomainError, InvalidRequest
from tracker.domain.policy import Action
from tracker.domain.reviews import SECTION_KEYS, SECTIONS, Line, permanent_fix_title
from tracker.domain.reviews import Action as ReviewAction
from tracker.domain.reviews import markdown as review_markdown
from tracker.domain.vocabulary import CardStatus
from tracker.extensions import htmx
from tracker.services import board_view, incidents, reviews
from tracker.services.common import get_card, today_on
from tracker.web import errors
from tracker.web.access import load_board
from tracker.web.board import panel_context
from tracker.web.forms import (
    DrillForm,
    FollowUpForm,
    GrantForm,
    GrantsFilterForm,
    IncidentLogForm,
    LeaveOpenForm,
    MitigateForm,
    ReviewForm,
)
from tracker.web.presenters.history import describer
from tracker.web.presenters.incidents import section

bp = Blueprint("incidents", __name__, url_prefix="/b/<int:board_id>")


def _fragment() -> bool:
    return bool(htmx) and not htmx.boosted


def section_context(board, actor, card, **shown) -> dict:
    """What templates/board/_incident.html needs (the panel includes it too)."""
    people = board_view.members(board.id)
    history = board_view.card_history(card.id)
    return {
        "board": board,
        "actor": actor,
        "card": card,
        "members": people,
        "assignable": [user for user, role in people if policy.may(role, Action.HOLD_CARDS)],
        **section(card, history, describer(board, people), **shown),
    }


def _answer(board, actor, card, *, status=200, **shown):
    """The card's incident section for htmx, else its page (422: with the message)."""
    if _fragment():
        html = render_template(
            "board/_incident.html", **section_context(board, actor, card, **shown)
        )
        response = make_response(html, status)
    else:
        context = panel_context(board, actor, card)
        context["shown"] = shown
        response = make_response(render_template("board/card.html", **context), status)
    response.vary.add("HX-Request")
    return response


def _done(board, actor, card, notice: str):
    if _fragment():
        return _answer(board, actor, card, notice=notice)
    flash(notice, "info")
    target = url_for("board.show_card", board_id=board.id, card_id=card.id)
    return redirect(f"{target}#incident-{card.id}", 303)


def _valid(form) -> None:
    if not form.validate_on_submit():
        messages = [m for found in form.errors.values() for m in found]
        raise InvalidRequest(" ".join(str(m) for m in messages) or "That request was incomplete.")


def _utc(local: datetime | None, timezone: str) -> datetime | None:
    """A time typed on the board's clock, in UTC."""
    if local is None:
        return None
    return local.replace(tzinfo=ZoneInfo(timezone)).astimezone(ZoneInfo("UTC"))


@bp.post("/cards/<int:card_id>/mitigate")
def mitigate(board_id: int, card_id: int):
    """Record the incident mitigated, with what did it."""
    board, actor = load_board(board_id)
    form = MitigateForm()
    _valid(form)
    card = incidents.mitigate(board.id, actor, card_id, form.note.data)
    return _done(board, actor, card, f"{card.ref} is mitigated; the banner is gone.")


@bp.post("/cards/<int:card_id>/log")
def add_log_entry(board_id: int, card_id: int):
    """Add a line to the incident log."""
    board, actor = load_board(board_id)
    form = IncidentLogForm()
    _valid(form)
    card = incidents.add_log_entry(board.id, actor, card_id, form.text.data)
    return _done(board, actor, card, "Added to the log.")


@bp.post("/cards/<int:card_id>/drill")
def set_drill(board_id: int, card_id: int):
    """Mark the incident a drill, or a real one."""
    board, actor = load_board(board_id)
    form = DrillForm()
    _valid(form)
    card = incidents.set_drill(board.id, actor, card_id, form.drill.data == "1")
    said = "a drill" if card.drill else "a real incident"
    return _done(board, actor, card, f"{card.ref} is marked {said}.")


@bp.post("/cards/<int:card_id>/grants")
def record_grant(board_id: int, card_id: int):
    """Record break-glass access given during the incident."""
    board, actor = load_board(board_id)
    form = GrantForm()
    _valid(form)
    given = incidents.GrantInput(
        holder_id=form.holder.data,
        target=form.target.data,
        why=form.why.data,
        buddy_id=form.buddy.data,
        buddy_name=form.buddy_name.data or "",
        granted_at=_utc(form.granted_at.data, board.timezone) or clock.now(),
        expected_end=_utc(form.expected_end.data, board.timezone),
    )
    grant = incidents.record_grant(board.id, actor, card_id, given)
    card = get_card(board.id, grant.card_id)
    return _done(board, actor, card, f"Access recorded: {grant.holder.name} on {grant.target}.")


@bp.post("/grants/<int:grant_id>/end")
def end_grant(board_id: int, grant_id: int):
    """Confirm a grant's access revoked."""
    board, actor = load_board(board_id)
    grant = incidents.end_grant(board.id, actor, grant_id)
    card = get_card(board.id, grant.card_id)
    return _done(board, actor, card, f"Access ended: {grant.holder.name} on {grant.target}.")


@bp.post("/grants/<int:grant_id>/leave-open")
def leave_open(board_id: int, grant_id: int):
    """Write why a grant stays open when the incident is resolved."""
    board, actor = load_board(board_id)
    form = LeaveOpenForm()
    _valid(form)
    grant = incidents.leave_open(board.id, actor, grant_id, form.reason.data)
    card = get_card(board.id, grant.card_id)
    return _done(board, actor, card, "The reason is recorded; end the access when it is revoked.")


# --- the post-incident review and follow-ups ------------------------------------------------


def _review_url(board, card_id) -> str:
    return url_for("incidents.show_review", board_id=board.id, incident_id=card_id)


def _go(url: str, notice: str):
    """To another page after a change: htmx is told to go there (HX-Redirect)."""
    flash(notice, "info")
    if _fragment():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, 303)


@bp.post("/cards/<int:card_id>/review")
def start_review(board_id: int, card_id: int):
    """Make the resolved incident's review card (one click) and open its review."""
    board, actor = load_board(board_id)
    review = reviews.start_review(board.id, actor, card_id)
    return _go(_review_url(board, review.incident_id), "The review card is in the Support lane.")


def _review_context(board, actor, card_id, **shown) -> dict:
    people = board_view.members(board.id)
    card = get_card(board.id, card_id)
    history = board_view.card_history(card.id)
    page = reviews.review_page(board.id, card.id, board.timezone, history)
    form = shown.pop("form", None) or ReviewForm(obj=page.review, formdata=None)
    return {
        "board": board,
        "actor": actor,
        "page": page,
        "form": form,
        "follow_form": shown.pop("follow_form", None)
        or FollowUpForm(formdata=None, title=_permanent_fix(page), back="page"),
        "sections": SECTIONS,
        "status_words": reviews.status_words,
        **section(card, history, describer(board, people)),
        "error": shown.get("error"),
    }


def _permanent_fix(page) -> str:
    note = page.incident.mitigated.note if page.incident.mitigated else ""
    return permanent_fix_title(note)


@bp.get("/incidents/<int:incident_id>/review")
def show_review(board_id: int, incident_id: int):
    """The incident's review: timeline, who took part, the sections, the action items."""
    board, actor = load_board(board_id)
    return render_template("incidents/review.html", **_review_context(board, actor, incident_id))


@bp.post("/incidents/<int:incident_id>/review")
def save_review(board_id: int, incident_id: int):
    """Save the review's sections."""
    card_id = incident_id
    board, actor = load_board(board_id)
    form = ReviewForm()
    _valid(form)
    sections = {key: getattr(form, key).data or "" for key in SECTION_KEYS}
    review = reviews.save_review(board.id, actor, card_id, sections)
    said = "The review is saved." + (
        "" if review.written_at else " Fill every section to finish it."
    )
    return _go(_review_url(board, card_id), said)


@bp.get("/incidents/<int:incident_id>/review.md")
def export_review(board_id: int, incident_id: int):
    """The review as a Markdown document."""
    board, actor = load_board(board_id)
    context = _review_context(board, actor, incident_id)
    page = context["page"]
    card = page.incident_card
    heading = ("Drill: " if card.drill else "") + f"Post-incident review: {card.ref} {card.title}"
    review = page.review
    sections = {key: getattr(review, key) for key in SECTION_KEYS} if review else {}
    actions = [
        ReviewAction(c.ref, c.title, reviews.status_words(c), c.status == CardStatus.DONE)
        for c in page.follow_ups
    ]
    lines = [
        Line(e.at.astimezone(ZoneInfo(board.timezone)).strftime("%Y-%m-%d %H:%M"), e.who, e.text)
        for e in context["timeline"]
    ]
    body = review_markdown(heading, page.stages, page.participants, sections, actions, lines)
    name = f"review-{card.ref}.md"
    return Response(
        body,
        mimetype="text/markdown",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.post("/cards/<int:card_id>/follow-ups")
def add_follow_up(board_id: int, card_id: int):
    """Make a follow-up card linked to the incident."""
    board, actor = load_board(board_id)
    form = FollowUpForm()
    _valid(form)
    made = reviews.add_follow_up(board.id, actor, card_id, form.title.data, form.lane.data)
    notice = f"{made.ref} is a follow-up of this incident, in {made.lane.name} · Ready."
    if form.back.data == "page":
        return _go(_review_url(board, card_id), notice)
    return _done(board, actor, get_card(board.id, card_id), notice)


# --- the grants page ---------------------------------------------------------------------

# The period the grants page shows when none is asked for: the last 90 days.
DEFAULT_DAYS = 90


def _period(board) -> tuple[GrantsFilterForm, date, date]:
    """The period asked for in the query string (odd dates ignored), else the last 90 days."""
    form = GrantsFilterForm(request.args)
    form.validate()
    today = today_on(board)
    until = form.until.data if form.until.data and not form.until.errors else today
    since = form.since.data if form.since.data and not form.since.errors else None
    since = since or until - timedelta(days=DEFAULT_DAYS - 1)
    if since > until:
        since, until = until, since
    form.since.data, form.until.data = since, until
    return form, since, until


@bp.get("/grants")
def grants(board_id: int):
    """The board's break-glass access grants in a period: who, on what, how long, buddy."""
    board, actor = load_board(board_id)
    form, since, until = _period(board)
    rows = incidents.grants_between(board.id, since, until, board.timezone)
    args = {"since": since.isoformat(), "until": until.isoformat()}
    return render_template(
        "incidents/grants.html", board=board, actor=actor, form=form, rows=rows, args=args
    )


@bp.get("/grants.csv")
def export_grants(board_id: int):
    """The same grants as CSV."""
    board, _actor = load_board(board_id)
    _form, since, until = _period(board)
    body = incidents.grants_csv(incidents.grants_between(board.id, since, until, board.timezone))
    name = f"grants-board-{board.id}-{since.isoformat()}-{until.isoformat()}.csv"
    return Response(
        body, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


# --- refusals -----------------------------------------------------------------------------


def _section_again(error: DomainError, status: int):
    """The incident section with the refusal (the panel's forms keep nothing typed but the
    message says what to change)."""
    board, actor = load_board((request.view_args or {})["board_id"])
    args = request.view_args or {}
    if "grant_id" in args:
        card = incidents.grant_card(board.id, args["grant_id"])
    else:
        card = get_card(board.id, args["card_id"])
    return _answer(board, actor, card, status=status, error=error.message, kept=request.form)


REFUSED_PAGES: dict[str, errors.Refusal] = {
    f"incidents.{name}": _section_again
    for name in (
        "mitigate",
        "add_log_entry",
        "set_drill",
        "record_grant",
        "end_grant",
        "leave_open",
    )
}

errors.answer_refusals(bp, REFUSED_PAGES)
