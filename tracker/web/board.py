"""The board page and every card action on it: thin adapters over tracker.services.cards."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any, NamedTuple
from urllib.parse import urlencode

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_htmx import make_response
from flask_login import current_user
from markupsafe import Markup

from tracker.domain import policy, undo
from tracker.domain.board_filter import AGES, BoardFilter, parse_filter
from tracker.domain.errors import (
    DomainError,
    InvalidRequest,
    NotFound,
    StaleCard,
    WipLimitExceeded,
)
from tracker.domain.policy import Action
from tracker.domain.vocabulary import CardStatus, ColumnKind
from tracker.extensions import htmx
from tracker.services import board_view, cards, labels
from tracker.services.common import get_card
from tracker.web import access, errors, notifications
from tracker.web.access import load_board
from tracker.web.forms import (
    AssignForm,
    BlockForm,
    CloseForm,
    EditCardForm,
    MoveForm,
    NewCardForm,
    PanelForm,
    ReopenForm,
    ReorderForm,
    UndoForm,
)
from tracker.web.params import page_number, parse_id, search_term, whole_number
from tracker.web.presenters import conversation, grid
from tracker.web.presenters.history import describer
from tracker.web.presenters.incidents import section as incident_section

bp = Blueprint("board", __name__, url_prefix="/b/<int:board_id>")


def page_filter() -> BoardFilter:
    """The board's filter this request carries: in the address of a page, or posted along
    with a change from a filtered page (the board's forms include #filters)."""
    return parse_filter(request.values.items(multi=True))


def filter_address(board_id: int, shown: BoardFilter) -> str:
    """The board's address with this filter, its values in one order."""
    base = url_for("board.show", board_id=board_id)
    pairs = shown.pairs()
    return f"{base}?{urlencode(pairs)}" if pairs else base


def view_for(board, actor, notices=()) -> grid.BoardPage:
    """The board page, with the page's filter applied: its grid kept per board version
    when unfiltered (presenters.grid)."""
    page = grid.board_page(
        board,
        can_change=access.can(actor, Action.CHANGE_CARDS),
        shown=page_filter(),
        me=actor.id,
    )
    page.notices.extend(notices)
    return page


# The card panel emptied out of band: the answer to a form that was in it and is done.
CLOSED_PANEL = '<aside id="panel" hx-swap-oob="innerHTML"></aside>'


def render_board(
    board, actor, *, notices=(), status=200, error=None, panel_card=None, close_panel=False
):
    """The board: the #board fragment for htmx (with the card panel out of band, or the
    panel emptied), else the page (with the card panel open, for a linked card). htmx's
    history restore (the back button, with no pages cached) gets the page."""
    view = view_for(board, actor, notices)
    context = {"view": view, "actor": actor, "error": error}
    if htmx and not htmx.boosted and not htmx.history_restore_request:
        html = render_template("board/_board.html", **context)
        if panel_card is not None:
            html += render_panel(board, actor, panel_card, oob=True)
        elif close_panel:
            html += CLOSED_PANEL
        response = make_response(html, status)
    else:
        if panel_card is not None:
            # A template's output: Jinja escaped every value in it already.
            context["panel"] = Markup(render_panel(board, actor, panel_card))  # noqa: S704
        context |= {"shown": page_filter(), "ages": AGES}
        response = make_response(render_template("board/page.html", **context), status)
    response.vary.update(("HX-Request", "HX-History-Restore-Request"))
    return response


def page_was_current(board) -> bool:
    """Whether the page that asked for a change showed the board as it was just before it:
    its version (the X-Board-Version header app.js sends from #board-live) is the one this
    change moved on from, and no filter hides cards. Then redrawing the parts the change
    touched gives the page the same board a fresh read would."""
    shown = request.headers.get("X-Board-Version", type=int)
    return shown == board.version - 1 and page_filter().empty


class Touched(NamedTuple):
    """What a change's answer sends (see render_changed): the tiles it deletes, the cells it
    redraws, and the card whose tile it then puts in its place in an open cell."""

    removed: list[int]
    cells: list[tuple[int, int]]
    placed: int | None


def _touched(change) -> Touched:
    """A card that ends in an open cell (Ready, In progress...) has its tile deleted and put
    back in its place in that cell, whatever else the cell holds: the answer costs the same
    on a board of 200 cards and of 2,000 (bench: serve_move_2000_over_200). A done cell
    shows only its latest cards and the count of the rest, so it is redrawn whenever the
    card entered or left it."""
    state, left, entered = change.state, change.left, change.entered
    done = [c for c in dict.fromkeys([left, entered]) if state.column(c[1]).kind == ColumnKind.DONE]
    if entered in done:
        return Touched([] if left in done else [change.card.id], done, None)
    return Touched([change.card.id], done, change.card.id)


def read_changed(change):
    """The view of the cells and the tile a change touched (what render_changed shows)."""
    state = change.state
    touched = _touched(change)
    return board_view.load_changed_view(
        state.board,
        state.lanes,
        state.columns,
        state.wip,
        touched.cells,
        done_per_lane=current_app.config["DONE_SHOWN_PER_LANE"],
        placed=touched.placed,
    )


def changed_reader():
    """What a change (cards.move_card, cards.pull_next) should read for its answer before
    it commits (store.commit's `answer`): the cells it touched, when the answer will show
    only those (an htmx page that was current; see after_change), else nothing."""
    if not htmx or htmx.boosted:
        return None
    return lambda change: read_changed(change) if page_was_current(change.state.board) else None


def render_changed(board, actor, change, notice, panel_card=None):
    """The parts of the board a change touched, swapped in out of band (see _changed.html):
    the lane and column counts, the card's tile in its new place (or the done cell it
    entered), and the done cell it left. The page was current, so nothing else changed.
    The parts come from the change's answer when it read them (changed_reader).
    """
    left, entered = change.left, change.entered
    touched = _touched(change)
    view = change.answer if change.answer is not None else read_changed(change)
    view.notices.append(notice)
    html = render_template(
        "board/_changed.html",
        view=view,
        actor=actor,
        removed=touched.removed,
        cells=touched.cells,
        lanes={left[0], entered[0]},
        columns={left[1], entered[1]},
    )
    if panel_card is not None:
        html += render_panel(board, actor, panel_card, oob=True)
    response = make_response(html)
    response.headers["HX-Reswap"] = "none"
    response.vary.add("HX-Request")
    return response


def render_panel(board, actor, card, *, oob=False, form=None, error=None, yours=None):
    """The card panel: details, the controls a person's role allows, and the history."""
    context = panel_context(board, actor, card, oob=oob, form=form, error=error, yours=yours)
    return render_template("board/_panel.html", **context)


def panel_context(board, actor, card, *, oob=False, form=None, error=None, yours=None) -> dict:
    """What templates/board/_panel.html needs (the card page includes it too)."""
    people = board_view.members(board.id)
    history = board_view.card_history(card.id)
    describe = describer(board, people)
    form = form or EditCardForm(obj=card, formdata=None)
    if form.labels.data is None:  # not posted: the labels the card carries
        form.labels.data = [label.id for label in labels.card_labels(card.id)]
    return {
        "board": board,
        "actor": actor,
        "card": card,
        "form": form,
        "board_labels": labels.board_labels(board.id),
        "history": history,
        "members": people,
        # Whom the assignee list offers: the people the policy lets hold cards.
        "assignable": [user for user, role in people if policy.may(role, Action.HOLD_CARDS)],
        "describe": describe,
        "lanes": board.lanes,
        "columns": board.columns,
        "oob": oob,
        "error": error,
        "yours": yours,
        # The card's comments, the comment form and the watch button (web.conversation).
        "talk": conversation.thread(board, actor, card),
        # The incident on an Expedite card: stages, timeline, grants (web.incidents).
        **incident_section(card, history, describe),
    }


def after_change(board, actor, card, notice, form, change=None):
    """Answer a successful change: for htmx the parts of the board it changed when the page
    was current (see page_was_current), else the fresh board; a redirect without htmx.
    The notice is its text, or an offer to undo the change (undo_offer)."""
    if htmx and not htmx.boosted:
        panel_card = card if form.panel.data and card.status != CardStatus.CLOSED else None
        if change is not None and page_was_current(board):
            return render_changed(board, actor, change, notice, panel_card)
        return render_board(board, actor, notices=[notice], panel_card=panel_card)
    flash(notice, "undo" if isinstance(notice, dict) else "info")
    if form.panel.data and card.status != CardStatus.CLOSED:
        return redirect(url_for("board.show_card", board_id=board.id, card_id=card.id), 303)
    return redirect(url_for("board.show", board_id=board.id), 303)


def undo_window() -> timedelta:
    """How long a change can be undone from its notice (config UNDO_SECONDS): the server's
    limit, and how long the notice offering it stays (static/app.js)."""
    return timedelta(seconds=current_app.config["UNDO_SECONDS"])


def undo_offer(board, change, text: str, form) -> dict[str, Any]:
    """A change's notice with its Undo form (templates/board/_undo.html): the change's first
    history event, a moved card's rank before the move, whether it came from the card's
    panel, and for how many milliseconds to offer it. A dict, as the notice of a change
    answered with a redirect is a flashed message, kept in the session cookie."""
    card = change.card
    return {
        "text": text,
        "action": url_for("board.undo_card", board_id=board.id, card_id=card.id),
        "card": card.id,
        "event": change.events[0].id,
        "rank": "" if change.from_rank is None else repr(change.from_rank),
        "panel": form.panel.data or "",
        "ms": round(undo_window().total_seconds() * 1000),
    }


def require_valid(form) -> None:
    """Turn a form's shape errors into one message the board shows (422)."""
    if not form.validate_on_submit():
        messages = [m for errors in form.errors.values() for m in errors]
        raise InvalidRequest(" ".join(str(m) for m in messages) or "That request was incomplete.")


@bp.get("")
def show(board_id: int):
    """The board: lanes × columns, WIP counters, cards, and this period's done cards; with
    ?card=<id>, that card's panel open (the address an opened card pushes: see show_card)."""
    board, actor = load_board(board_id)
    if "card" not in request.args:
        response = render_board(board, actor)
        if htmx and htmx.trigger == "filters":
            # The filter form's answer: the address it pushes is the filter's own (the
            # form's empty selects and unknown values left out), to share or reload.
            response.headers["HX-Push-Url"] = filter_address(board.id, page_filter())
        return response
    card_id = parse_id(request.args["card"])  # None for anything but an id in range
    try:
        card = get_card(board.id, card_id)
    except NotFound:
        return render_board(board, actor, notices=["That card is not on this board."])
    return render_board(board, actor, panel_card=card)


@bp.get("/live")
def live(board_id: int):
    """The live-board poll: 204 while the board's version is the one the page shows and
    the person's unread count the one its bell shows, else the fresh #board fragment
    and/or the bell out of band. The version comes with the board row the access check
    reads and the count with the person's, so an unchanged board costs no statement beyond
    that check."""
    board, actor = load_board(board_id)
    # The unread count the page's bell shows, against the one kept on the person's row
    # (read with them): a bell that moved on comes out of band, at no statement more.
    unread = current_user.unread_notifications
    seen = request.args.get("seen", type=whole_number)
    bell = None if seen is None or seen == unread else notifications.bell(unread, oob=True)
    if request.args.get("v", type=whole_number) == board.version:
        if bell is None:
            return "", 204
        response = make_response(bell)
        response.headers["HX-Reswap"] = "none"
        return response
    response = render_board(board, actor)
    if bell is not None and htmx:
        response.set_data(response.get_data(as_text=True) + bell)
    return response


@bp.post("/pull")
def pull(board_id: int):
    """Pull next: assign the person the highest-priority card they may take."""
    board, actor = load_board(board_id)
    require_valid(PanelForm())
    result = cards.pull_next(board.id, actor, answer=changed_reader())
    if result.card is None:
        notices = ["Nothing to pull right now.", *result.reasons]
        if htmx and not htmx.boosted:
            return render_board(board, actor, notices=notices)
        for line in notices:
            flash(line, "info")
        return redirect(url_for("board.show", board_id=board.id), 303)
    notice = f"You pulled {result.card.ref}: {result.card.title}"
    return after_change(board, actor, result.card, notice, PanelForm(formdata=None), result.change)


@bp.route("/cards/new", methods=["GET", "POST"])
def new_card(board_id: int):
    """A form to add a card to a lane's ready queue (also served alone for htmx).

    Added, htmx gets the board with the form's panel closed, and the card-added event
    (after the swap settles) names the new tile, which app.js shows and focuses. The form's
    one-time key makes a double click or a resend file one card.
    """
    board, actor = load_board(board_id)
    form = NewCardForm()
    if request.method == "GET":
        form.lane_id.data = request.args.get("lane", type=parse_id)
        form.form_key.data = cards.new_form_key()
    if form.validate_on_submit():
        fields = {
            "title": form.title.data,
            "description": form.description.data or "",
            "estimate": form.estimate.data,
            "severity": form.severity.data or None,
        }
        key = form.form_key.data or None
        card = cards.create_card(board.id, actor, form.lane_id.data, fields, key)
        notice = f"Added {card.ref}: {card.title}"
        if htmx and not htmx.boosted:
            response = render_board(board, actor, notices=[notice], close_panel=True)
            response.headers["HX-Trigger-After-Settle"] = json.dumps(
                {"card-added": {"id": card.id}}
            )
            return response
        return after_change(board, actor, card, notice, PanelForm())
    status = 422 if form.errors else 200
    template = "board/_new_card.html" if htmx and not htmx.boosted else "board/new_card.html"
    response = make_response(
        render_template(template, board=board, actor=actor, form=form, lanes=board.lanes),
        status,
    )
    if status == 422 and htmx and not htmx.boosted:
        response.headers["HX-Retarget"] = "#new-card"
        response.headers["HX-Reswap"] = "outerHTML"
    return response


@bp.get("/cards/<int:card_id>")
def show_card(board_id: int, card_id: int):
    """A card's details, controls and history: the panel for htmx, a page otherwise."""
    board, actor = load_board(board_id)
    card = get_card(board.id, card_id)
    if htmx and not htmx.boosted:
        response = make_response(render_panel(board, actor, card))
        # The open card has an address of its own: linked, it opens again; Back closes it.
        response.headers["HX-Push-Url"] = url_for("board.show", board_id=board.id, card=card.id)
    else:
        response = make_response(
            render_template("board/card.html", **panel_context(board, actor, card))
        )
    response.vary.add("HX-Request")
    return response


@bp.post("/cards/<int:card_id>/edit")
def edit_card(board_id: int, card_id: int):
    """Save a card's text fields; a stale version is refused with the current values."""
    board, actor = load_board(board_id)
    card = get_card(board.id, card_id)
    form = EditCardForm()
    if not form.validate_on_submit():
        return panel_error(board, actor, card, form, "Check the fields marked below.")
    card = cards.edit_card(board.id, actor, card.id, form.version.data, form.values())
    saved = PanelForm(formdata=None, panel="1")
    return after_change(board, actor, card, f"Saved {card.ref}.", saved)


def panel_error(board, actor, card, form, message, status=422, yours=None):
    """The card panel again with the person's input kept and a message (422 or 409)."""
    context = panel_context(board, actor, card, form=form, error=message, yours=yours)
    if htmx and not htmx.boosted:
        response = make_response(render_template("board/_panel.html", **context), status)
        response.headers["HX-Retarget"] = "#panel"
        response.headers["HX-Reswap"] = "innerHTML"
        return response
    return make_response(render_template("board/card.html", **context), status)


def _where(change) -> str:
    """Where a change left its card, "Lane · Column", from the board as the change read it."""
    card, state = change.card, change.state
    return f"{state.lane(card.lane_id).name} · {state.column(card.column_id).name}"


@bp.post("/cards/<int:card_id>/move")
def move_card(board_id: int, card_id: int):
    """Move a card to a lane and column (drag and drop, or the keyboard select)."""
    board, actor = load_board(board_id)
    form = MoveForm()
    require_valid(form)
    destination = form.destination()
    if destination is None:
        raise InvalidRequest("Choose where to move the card.")
    lane_id, column_id = destination
    change = cards.move_card(
        board.id,
        actor,
        card_id,
        lane_id=lane_id,
        column_id=column_id,
        after=form.after.data,
        reason=form.reason.data,
        answer=changed_reader(),
        take=True,
    )
    card = change.card
    notice = f"Moved {card.ref} to {_where(change)}."
    if change.before.assignee_id is None and card.assignee_id == actor.id:
        notice += " It is yours now: a card in progress needs someone on it."
    return after_change(board, actor, card, undo_offer(board, change, notice, form), form, change)


@bp.post("/cards/<int:card_id>/reorder")
def reorder_card(board_id: int, card_id: int):
    """Move a card one place up or down in its cell."""
    board, actor = load_board(board_id)
    form = ReorderForm()
    require_valid(form)
    card = cards.reorder_card(board.id, actor, card_id, form.direction.data)
    return after_change(board, actor, card, f"Moved {card.ref} {form.direction.data}.", form)


@bp.post("/cards/<int:card_id>/assign")
def assign_card(board_id: int, card_id: int):
    """Assign a card to a member of the board, or to nobody."""
    board, actor = load_board(board_id)
    form = AssignForm()
    require_valid(form)
    value = (form.assignee.data or "").strip()
    assignee = parse_id(value)
    if value and assignee is None:
        raise InvalidRequest("Choose a person from the list.")
    card = cards.assign_card(board.id, actor, card_id, assignee, form.reason.data)
    who = card.assignee.name if card.assignee else "nobody"
    return after_change(board, actor, card, f"{card.ref} is assigned to {who}.", form)


@bp.post("/cards/<int:card_id>/block")
def block_card(board_id: int, card_id: int):
    """Mark a card blocked, with what it waits for."""
    board, actor = load_board(board_id)
    form = BlockForm()
    require_valid(form)
    change = cards.set_blocked(board.id, actor, card_id, True, form.reason.data)
    notice = undo_offer(board, change, f"{change.card.ref} is blocked.", form)
    return after_change(board, actor, change.card, notice, form)


@bp.post("/cards/<int:card_id>/unblock")
def unblock_card(board_id: int, card_id: int):
    """Clear a card's blocked flag."""
    board, actor = load_board(board_id)
    form = PanelForm()
    require_valid(form)
    card = cards.set_blocked(board.id, actor, card_id, False).card
    return after_change(board, actor, card, f"{card.ref} is unblocked.", form)


@bp.post("/cards/<int:card_id>/close")
def close_card(board_id: int, card_id: int):
    """Close a card without doing it (won't do, duplicate), with a reason."""
    board, actor = load_board(board_id)
    form = CloseForm()
    require_valid(form)
    change = cards.close_card(board.id, actor, card_id, form.why.data, form.note.data)
    card = change.card
    notice = undo_offer(board, change, f"Closed {card.ref}: {card.close_reason}", form)
    return after_change(board, actor, card, notice, form)


@bp.post("/cards/<int:card_id>/reopen")
def reopen_card(board_id: int, card_id: int):
    """Bring a done or closed card back to its lane's ready queue, with why."""
    board, actor = load_board(board_id)
    form = ReopenForm()
    require_valid(form)
    change = cards.reopen_card(board.id, actor, card_id, form.why.data)
    notice = f"Reopened {change.card.ref}: it is in {_where(change)}."
    return after_change(board, actor, change.card, notice, form)


# What the notice says once a change is undone, by what the undo did.
UNDONE = {
    undo.Undoing.MOVE: "Undone: {ref} is back in {where}.",
    undo.Undoing.REOPEN: "Undone: {ref} is back on the board, in {where}.",
    undo.Undoing.UNBLOCK: "Undone: {ref} is unblocked.",
}


@bp.post("/cards/<int:card_id>/undo")
def undo_card(board_id: int, card_id: int):
    """Undo a move, a close or a block from the notice that offered it: only the person who
    made it, within the undo window, and while nobody changed the card since."""
    board, actor = load_board(board_id)
    form = UndoForm()
    require_valid(form)
    undone = cards.undo_change(
        board.id,
        actor,
        card_id,
        form.event.data,
        window=undo_window(),
        rank=form.old_rank(),
        reason=form.reason.data,
        answer=changed_reader(),
    )
    change = undone.change
    notice = UNDONE[undone.undoing].format(ref=change.card.ref, where=_where(change))
    moved = change if undone.undoing == undo.Undoing.MOVE else None
    return after_change(board, actor, change.card, notice, form, moved)


@bp.get("/done")
def archive(board_id: int):
    """Every done or closed card of the board, newest first, paged and searchable."""
    board, actor = load_board(board_id)
    text = search_term(request.args.get("q"))
    page = page_number(request.args.get("page"))
    per_page = current_app.config["ARCHIVE_PAGE_SIZE"]
    found = board_view.archive(board, text=text, page=page, per_page=per_page)
    pages = max(1, -(-found.total // per_page))
    if page > pages:  # past the end (an old link, or typed): the last page
        page = pages
        found = board_view.archive(board, text=text, page=page, per_page=per_page)
    return render_template(
        "board/archive.html",
        board=board,
        actor=actor,
        cards=found.cards,
        total=found.total,
        more=found.more,
        page=page,
        pages=pages,
        q=text,
    )


# --- refusals -----------------------------------------------------------------------------


def _board_again(error: DomainError, status: int):
    """Refused by a rule, nothing changed: the board again with the message. A limit a lead
    may go over offers the same change again with a reason; a stale edit shows the card's
    panel with its current values and the person's text kept (409)."""
    board, actor = load_board((request.view_args or {})["board_id"])
    if isinstance(error, StaleCard):
        card = get_card(board.id, error.current.id)
        yours = {k: request.form.get(k, "") for k in ("title", "description")}
        form = EditCardForm(obj=card, formdata=None)
        return panel_error(board, actor, card, form, error.message, status=status, yours=yours)
    card_id = (request.view_args or {}).get("card_id")
    override = None
    if isinstance(error, WipLimitExceeded) and error.overridable and card_id:
        override = {
            "card_id": card_id,
            "action": request.endpoint,
            "fields": {k: v for k, v in request.form.items() if k not in ("csrf_token", "reason")},
        }
    return render_board(
        board, actor, status=status, error={"message": error.message, "override": override}
    )


@bp.errorhandler(DomainError)
def refused(error: DomainError):
    """Every card action answers a refusal with the board (or the card's panel) again."""
    return errors.answer_refusal(error, _board_again)
