"""The support rotation page: everyone on the board reads the schedule; a lead sets the
rotation up, swaps and replaces people in terms, and marks people away."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from tracker.domain.errors import DomainError, InvalidRequest
from tracker.services import rotation
from tracker.web import errors
from tracker.web.access import load_board
from tracker.web.forms import AwayForm, EmptyForm, ReplaceForm, RotationForm, SwapForm

bp = Blueprint("rotation", __name__, url_prefix="/b/<int:board_id>/rotation")


def _term_label(term: rotation.TermRow) -> str:
    who = term.name or "nobody"
    return f"{term.start:%a %d %b} – {term.end:%a %d %b}, seat {term.seat + 1}: {who}"


def _page(board, actor, *, setup=None, swap=None, away=None, error=None, status=200):
    view = rotation.page(board)
    names = dict(view.candidates)
    pool = [(uid, names.get(uid, "")) for uid in view.pool]
    if setup is None:
        setup = RotationForm(
            formdata=None,
            enabled=view.enabled,
            on_duty=view.setup.on_duty,
            term_periods=view.setup.term_periods,
            staggered=view.setup.staggered,
            pool=view.pool,
        )
    open_terms = [t for t in view.terms if t.state != "past"]
    swap = swap or SwapForm(formdata=None)
    swap.one.choices = swap.other.choices = [(t.id, _term_label(t)) for t in open_terms]
    away = away or AwayForm(formdata=None)
    away.person.choices = pool
    replace_forms = {}
    for term in open_terms:
        form = ReplaceForm(formdata=None, prefix=f"t{term.id}", person=term.person_id)
        form.person.choices = pool
        replace_forms[term.id] = form
    return render_template(
        "rotation/page.html",
        board=board,
        actor=actor,
        view=view,
        pool=pool,
        setup=setup,
        swap=swap,
        away=away,
        replace_forms=replace_forms,
        terms_ahead=rotation.TERMS_AHEAD,
        error=error,
    ), status


def _check_form() -> None:
    if not EmptyForm().validate_on_submit():
        raise InvalidRequest("That form has expired; reload the page and try again.")


def _done(board, message: str, warnings: list[str] | None = None):
    flash(message, "info")
    for warning in warnings or ():
        flash(warning, "error")
    return redirect(url_for("rotation.show", board_id=board.id), 303)


@bp.get("")
def show(board_id: int):
    """The rotation: who is on duty when, and (for a lead) the forms that change it."""
    board, actor = load_board(board_id)
    return _page(board, actor)


@bp.post("")
def save(board_id: int):
    """Turn the rotation on or off, set it up, and regenerate its coming terms."""
    board, actor = load_board(board_id)
    form = RotationForm()
    if not form.validate_on_submit():
        return _page(board, actor, setup=form, error="Check the fields marked below.", status=422)
    warnings = rotation.save_setup(
        board.id,
        actor,
        enabled=form.enabled.data,
        on_duty=form.on_duty.data,
        term_periods=form.term_periods.data,
        staggered=form.staggered.data,
        pool=form.pool.data or [],
    )
    return _done(board, "Rotation saved.", warnings)


@bp.post("/regenerate")
def regenerate(board_id: int):
    """Generate the coming terms again (past and running terms stay)."""
    board, actor = load_board(board_id)
    _check_form()
    return _done(board, "Coming terms generated again.", rotation.regenerate(board.id, actor))


@bp.post("/swap")
def swap(board_id: int):
    """Two terms' people change places."""
    board, actor = load_board(board_id)
    form = SwapForm()
    if not form.validate_on_submit():
        return _page(board, actor, swap=form, error="Pick two terms to swap.", status=422)
    rotation.swap_terms(board.id, actor, form.one.data, form.other.data)
    return _done(board, "Terms swapped.")


@bp.post("/terms/<int:term_id>")
def replace(board_id: int, term_id: int):
    """Another person of the pool takes one term."""
    board, actor = load_board(board_id)
    rotation.get_term(board.id, term_id)
    form = ReplaceForm(prefix=f"t{term_id}")
    if not form.validate_on_submit():
        return _page(board, actor, error="Pick someone from the pool.", status=422)
    rotation.replace_person(board.id, actor, term_id, form.person.data)
    return _done(board, "Term changed.")


@bp.post("/away")
def add_away(board_id: int):
    """Mark a person of the pool away; someone else takes their coming terms."""
    board, actor = load_board(board_id)
    form = AwayForm()
    if not form.validate_on_submit():
        return _page(board, actor, away=form, error="Check the fields marked below.", status=422)
    warnings = rotation.add_away(
        board.id, actor, form.person.data, form.start_on.data, form.end_on.data
    )
    return _done(board, "Away dates saved; the coming terms were generated again.", warnings)


@bp.post("/away/<int:away_id>/delete")
def remove_away(board_id: int, away_id: int):
    """Forget an away period."""
    board, actor = load_board(board_id)
    rotation.get_away(board.id, away_id)
    _check_form()
    rotation.remove_away(board.id, actor, away_id)
    return _done(board, "Away dates removed. Regenerate to give them back their turns.")


def _again(error: DomainError, status: int):
    """The rotation page with the refusal at the top and the form as typed."""
    board, actor = load_board((request.view_args or {})["board_id"])
    forms = {"rotation.save": "setup", "rotation.swap": "swap", "rotation.add_away": "away"}
    typed = {}
    if request.endpoint in forms:
        kind = {"setup": RotationForm, "swap": SwapForm, "away": AwayForm}[forms[request.endpoint]]
        typed[forms[request.endpoint]] = kind()
    return _page(board, actor, error=error.message, status=status, **typed)


REFUSED_PAGES: dict[str, errors.Refusal] = {
    endpoint: _again
    for endpoint in (
        "rotation.save",
        "rotation.regenerate",
        "rotation.swap",
        "rotation.replace",
        "rotation.add_away",
        "rotation.remove_away",
    )
}

errors.answer_refusals(bp, REFUSED_PAGES)
