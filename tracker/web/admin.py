"""Admin pages: people, their board roles, site admins, deactivation, password resets, and
erasing a requester's personal data. Every route here is "admin" in tracker.web.access.ROUTES."""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for

from tracker.domain.errors import DomainError, InvalidRequest
from tracker.domain.wording import counted
from tracker.services import board_view, erasure, people, users
from tracker.web import errors
from tracker.web.access import acting_person
from tracker.web.forms import (
    AdminFlagForm,
    EmptyForm,
    ErasureForm,
    ErasureSearchForm,
    MembershipForm,
    PersonForm,
    ResetPasswordForm,
)
from tracker.web.params import parse_id

bp = Blueprint("admin", __name__, url_prefix="/admin")

EXPIRED = "That form has expired; reload the page and try again."


def _no_store(html: str):
    """A page that shows a password once: never kept by a browser or a proxy."""
    response = make_response(html)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/people")
def list_people():
    """Everyone, with their boards and roles, admin flag and whether they can log in."""
    return render_template("admin/people.html", rows=people.people())


@bp.get("/people/new")
def new_person():
    return _new_person_page(PersonForm(formdata=None))


def _new_person_page(form: PersonForm, status: int = 200):
    return render_template(
        "admin/new_person.html", form=form, min_password=users.MIN_PASSWORD_LENGTH
    ), status


@bp.post("/people")
def create_person():
    """Add a person with a temporary password (typed, or generated and shown once)."""
    form = PersonForm()
    if not form.validate_on_submit():
        return _new_person_page(form, 422)
    made = people.create_person(
        form.username.data,
        form.name.data,
        form.email.data,
        form.password.data,
        is_admin=form.is_admin.data,
        actor=acting_person(),
    )
    if made.generated_password:
        return _no_store(
            render_template("admin/password.html", user=made.user, password=made.generated_password)
        )
    flash(f"Added {made.user.name}. Give them the temporary password you typed.", "info")
    return redirect(url_for("admin.show_person", user_id=made.user.id), 303)


def _person_page(user_id: int, *, error: str | None = None, status: int = 200):
    user = people.get_person(user_id)
    return render_template(
        "admin/person.html",
        user=user,
        memberships=people.memberships_of(user.id),
        boards=people.all_boards(),
        membership_form=MembershipForm(formdata=None, user_id=user.id),
        reset_form=ResetPasswordForm(formdata=None),
        error=error,
    ), status


@bp.get("/people/<int:user_id>")
def show_person(user_id: int):
    """A person: their boards and roles, and the admin acts on them."""
    return _person_page(user_id)


@bp.post("/people/<int:user_id>/admin")
def set_admin(user_id: int):
    """Make a person a site admin, or no longer one (never the last active admin)."""
    form = AdminFlagForm()
    if not form.validate_on_submit():
        return _person_page(user_id, error=EXPIRED, status=422)
    user = people.set_admin(user_id, form.make_admin.data == "yes", actor=acting_person())
    flash(f"{user.name} is {'now' if user.is_admin else 'no longer'} a site admin.", "info")
    return redirect(url_for("admin.show_person", user_id=user_id), 303)


def _set_active(user_id: int, active: bool):
    if not EmptyForm().validate_on_submit():
        return _person_page(user_id, error=EXPIRED, status=422)
    user = people.set_active(user_id, active, actor=acting_person())
    if active:
        flash(f"{user.name} can log in again.", "info")
    else:
        flash(f"{user.name} is deactivated: their sessions have ended.", "info")
    return redirect(url_for("admin.show_person", user_id=user_id), 303)


@bp.post("/people/<int:user_id>/deactivate")
def deactivate(user_id: int):
    """Stop a person logging in; any session of theirs ends at once. History keeps them."""
    return _set_active(user_id, False)


@bp.post("/people/<int:user_id>/reactivate")
def reactivate(user_id: int):
    return _set_active(user_id, True)


@bp.post("/people/<int:user_id>/password")
def reset_password(user_id: int):
    """Give a person a new temporary password; their sessions end."""
    form = ResetPasswordForm()
    if not form.validate_on_submit():
        return _person_page(user_id, error="Check the new password.", status=422)
    generated = people.reset_password(user_id, form.password.data, actor=acting_person())
    user = people.get_person(user_id)
    if generated:
        return _no_store(
            render_template("admin/password.html", user=user, password=generated, reset=True)
        )
    flash(f"{user.name}'s password is reset and their sessions ended.", "info")
    return redirect(url_for("admin.show_person", user_id=user_id), 303)


@bp.post("/memberships")
def set_membership():
    """Add a person to a board, change their role, or take them off (from either page)."""
    form = MembershipForm()
    back_to_board = request.form.get("back") == "board"
    if not form.validate_on_submit():
        raise InvalidRequest("Choose a person, a board and a role.")
    what = people.set_membership(
        form.board_id.data, form.user_id.data, form.role.data, actor=acting_person()
    )
    user = people.get_person(form.user_id.data)
    board = people.get_board(form.board_id.data)
    messages = {
        "added": f"{user.name} is now {form.role.data} on {board.name}.",
        "changed": f"{user.name} is now {form.role.data} on {board.name}.",
        "removed": f"{user.name} is no longer on {board.name}.",
        "unchanged": "Nothing changed.",
    }
    flash(messages[what], "info")
    if back_to_board:
        return redirect(url_for("admin.show_board_people", board_id=board.id), 303)
    return redirect(url_for("admin.show_person", user_id=user.id), 303)


@bp.get("/boards/<int:board_id>/people")
def show_board_people(board_id: int):
    """A board's people and roles, for an admin to change."""
    board = people.get_board(board_id)
    members = board_view.members(board.id)
    on_board = {user.id for user, _ in members}
    return render_template(
        "admin/board_people.html",
        board=board,
        members=members,
        others=[user for user in people.active_people() if user.id not in on_board],
        form=MembershipForm(formdata=None, board_id=board.id),
    )


@bp.get("/erasure")
def find_requester():
    """Search every board's requests by the requester's email or name."""
    form = ErasureSearchForm(request.args)
    matches = erasure.find(form.q.data) if form.q.data and form.validate() else None
    return _erasure_page(form, matches)


def _erasure_page(form: ErasureSearchForm, matches, *, error=None, status=200):
    return render_template(
        "admin/erasure.html",
        form=form,
        matches=matches,
        erase_form=ErasureForm(formdata=None, q=form.q.data or ""),
        error=error,
    ), status


@bp.post("/erasure")
def erase_requester():
    """Erase the requester's name and email from the chosen requests, history and mail."""
    form = ErasureForm()
    card_ids = [parse_id(value) for value in request.form.getlist("card_id")]
    if None in card_ids:  # not an id from the list: choose again
        card_ids = []
    if not form.validate_on_submit() or not card_ids:
        search = ErasureSearchForm(formdata=None, q=form.q.data or "")
        matches = erasure.find(form.q.data) if len(form.q.data or "") >= 3 else None
        return render_template(
            "admin/erasure.html",
            form=search,
            matches=matches,
            erase_form=form,
            error="Choose at least one request." if form.confirm.data else None,
        ), 422
    done = erasure.erase(acting_person(), card_ids)
    flash(
        f"Erased the requester's name and email from {counted(done.cards, 'request')}, "
        f"{counted(done.events, 'history event')} and {counted(done.mails, 'email')}; "
        f"{counted(done.cancelled, 'unsent email')} cancelled.",
        "info",
    )
    return redirect(url_for("admin.find_requester"), 303)


# --- refusals -----------------------------------------------------------------------------


def _new_person_again(error: DomainError, status: int):
    """The new person's form as typed, the refusal under the username."""
    form = PersonForm()
    form.username.errors = [error.message]
    return _new_person_page(form, status)


def _person_again(error: DomainError, status: int):
    """The person's page with the refusal at the top."""
    return _person_page((request.view_args or {})["user_id"], error=error.message, status=status)


def _search_again(error: DomainError, status: int):
    """The erasure search as typed, with the refusal and no matches."""
    return _erasure_page(ErasureSearchForm(request.args), None, error=error.message, status=status)


# The page each endpoint shows again with a refusal; the others answer the plain message.
REFUSED_PAGES: dict[str, errors.Refusal] = {
    "admin.create_person": _new_person_again,
    "admin.set_admin": _person_again,
    "admin.deactivate": _person_again,
    "admin.reactivate": _person_again,
    "admin.reset_password": _person_again,
    "admin.find_requester": _search_again,
}


errors.answer_refusals(bp, REFUSED_PAGES)
