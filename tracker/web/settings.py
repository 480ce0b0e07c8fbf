"""A lead's board settings: limits and modes, pull order, time zone, and the columns."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from tracker.domain.errors import DomainError, InvalidRequest
from tracker.domain.labels import PALETTE
from tracker.domain.vocabulary import ColumnKind
from tracker.services import boards, intake, labels
from tracker.services import settings as board_settings
from tracker.web import errors
from tracker.web.access import load_board
from tracker.web.forms import ColumnsForm, ComponentForm, EmptyForm, LabelForm, SettingsForm
from tracker.web.params import parse_id

bp = Blueprint("settings", __name__, url_prefix="/b/<int:board_id>/settings")
CHANGED = "That form was changed; reload the page and try again."


def _settings_form(board) -> SettingsForm:
    form = SettingsForm(
        formdata=None,
        timezone=board.timezone,
        per_person_limit=board.per_person_limit or "",
        pull_order=board.pull_order,
    )
    for lane in board.lanes:
        form.lanes.append_entry(
            {
                "lane_id": lane.id,
                "name": lane.name,
                "wip_limit": lane.wip_limit or "",
                "mode": lane.limit_mode,
            }
        )
    for column in board.columns:
        form.columns.append_entry({"column_id": column.id, "wip_limit": column.wip_limit or ""})
    return form


def _columns_form(board) -> ColumnsForm:
    form = ColumnsForm(formdata=None)
    for position, column in enumerate(board.columns, start=1):  # people count from 1
        form.columns.append_entry(
            {"column_id": column.id, "name": column.name, "kind": column.kind, "position": position}
        )
    form.columns.append_entry(
        {"column_id": "", "name": "", "kind": ColumnKind.ACTIVE, "position": len(board.columns) + 1}
    )
    return form


def _page(
    board,
    actor,
    settings=None,
    columns=None,
    error=None,
    status=200,
    component=None,
    label=None,
):
    return render_template(
        "settings/page.html",
        board=board,
        actor=actor,
        form=settings or _settings_form(board),
        columns_form=columns or _columns_form(board),
        error=error,
        components=intake.component_rows(board.id),
        component_form=component or ComponentForm(formdata=None),
        mail=board_settings.mail_summary(board.id),
        labels=labels.board_labels(board.id),
        label_form=label or LabelForm(formdata=None),
        palette=PALETTE,
    ), status


@bp.get("")
def show(board_id: int):
    """The settings page."""
    board, actor = load_board(board_id)
    return _page(board, actor)


@bp.post("")
def save(board_id: int):
    """Save limits, modes, pull order and time zone."""
    board, actor = load_board(board_id)
    form = SettingsForm()
    if len(form.lanes) != len(board.lanes) or len(form.columns) != len(board.columns):
        # One entry per lane and per column of the board, as the page shows them; more or
        # fewer is an old page or a hand-made post (and the page could not show it again).
        return _page(board, actor, error=CHANGED, status=422)
    if not form.validate_on_submit():
        return _page(
            board, actor, settings=form, error="Check the fields marked below.", status=422
        )
    boards.update_settings(
        board.id,
        actor,
        timezone=form.timezone.data,
        per_person_limit=form.per_person_limit.data,
        pull_order=form.pull_order.data,
        lanes=[
            boards.LaneSetting(
                _int(e.form.lane_id.data),
                e.form.name.data,
                e.form.wip_limit.data,
                e.form.mode.data,
            )
            for e in form.lanes
        ],
        column_limits={_int(e.form.column_id.data): e.form.wip_limit.data for e in form.columns},
    )
    flash("Settings saved.", "info")
    return redirect(url_for("settings.show", board_id=board.id), 303)


@bp.post("/columns")
def save_columns(board_id: int):
    """Rename, reorder, add and remove columns (a column with cards cannot be removed)."""
    board, actor = load_board(board_id)
    form = ColumnsForm()
    if not form.validate_on_submit():
        return _page(
            board, actor, columns=form, error="Check the columns marked below.", status=422
        )
    rows = []
    for entry in form.columns:
        if entry.form.remove.data == "remove" or (
            not entry.form.column_id.data and not entry.form.name.data
        ):
            continue
        column_id = _int(entry.form.column_id.data) if entry.form.column_id.data else None
        position = entry.form.position.data if entry.form.position.data is not None else 99
        rows.append(
            (position, len(rows), (column_id, entry.form.kind.data, entry.form.name.data or ""))
        )
    specs = [spec for _, _, spec in sorted(rows)]
    boards.update_columns(board.id, actor, specs)
    flash("Columns saved.", "info")
    return redirect(url_for("settings.show", board_id=board.id), 303)


@bp.post("/components")
def add_component(board_id: int):
    """Add a component to the list the intake form offers."""
    board, actor = load_board(board_id)
    form = ComponentForm()
    if not form.validate_on_submit():
        return _page(board, actor, component=form, error="Check the component below.", status=422)
    name = intake.add_component(board.id, actor, form.name.data).name
    flash(f"Added the component {name}.", "info")
    return redirect(url_for("settings.show", board_id=board.id) + "#components", 303)


@bp.post("/components/<int:component_id>/remove")
def remove_component(board_id: int, component_id: int):
    """Take a component off the list; requests filed under it keep its name."""
    board, actor = load_board(board_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        raise InvalidRequest("That form has expired; reload the page and try again.")
    name = intake.remove_component(board.id, actor, component_id)
    flash(f"Removed the component {name}.", "info")
    return redirect(url_for("settings.show", board_id=board.id) + "#components", 303)


def _labels_page(board_id: int):
    return redirect(url_for("settings.show", board_id=board_id) + "#labels", 303)


@bp.post("/labels")
def add_label(board_id: int):
    """Add a label to the board's list."""
    board, actor = load_board(board_id)
    form = LabelForm()
    if not form.validate_on_submit():
        return _page(board, actor, label=form, error="Check the label below.", status=422)
    label = labels.add_label(board.id, actor, form.name.data, form.colour.data)
    flash(f"Added the label {label.name}.", "info")
    return _labels_page(board.id)


@bp.post("/labels/<int:label_id>")
def edit_label(board_id: int, label_id: int):
    """Rename or recolour a label; the cards carrying it show the change."""
    board, actor = load_board(board_id)
    form = LabelForm()
    if not form.validate_on_submit():
        messages = " ".join(m for errors in form.errors.values() for m in errors)
        return _page(board, actor, error=messages or "Check the label.", status=422)
    label = labels.edit_label(board.id, actor, label_id, form.name.data, form.colour.data)
    flash(f"Saved the label {label.name}.", "info")
    return _labels_page(board.id)


@bp.post("/labels/<int:label_id>/remove")
def remove_label(board_id: int, label_id: int):
    """Take a label off the board and off every card carrying it."""
    board, actor = load_board(board_id)
    if not EmptyForm().validate_on_submit():
        raise InvalidRequest("That form has expired; reload the page and try again.")
    name = labels.remove_label(board.id, actor, label_id)
    flash(f"Removed the label {name}.", "info")
    return _labels_page(board.id)


@bp.post("/mail/retry")
def retry_mail(board_id: int):
    """Send the board's waiting and given-up mail to requesters again, now."""
    board, actor = load_board(board_id)
    if not EmptyForm().validate_on_submit():
        raise InvalidRequest("That form has expired; reload the page and try again.")
    count = board_settings.retry_mail(board.id, actor)
    if count:
        flash(f"Sending {count} email(s) again now; reload in a moment to see how it went.", "info")
    else:
        flash("No email is waiting to be sent.", "info")
    return redirect(url_for("settings.show", board_id=board.id) + "#mail", 303)


def _int(value) -> int:
    number = parse_id(value)
    if number is None:
        raise InvalidRequest(CHANGED)
    return number


# --- refusals -----------------------------------------------------------------------------


def _board_and_actor():
    return load_board((request.view_args or {})["board_id"])


def _settings_again(error: DomainError, status: int):
    """The settings as typed, with the refusal."""
    board, actor = _board_and_actor()
    return _page(board, actor, settings=SettingsForm(), error=error.message, status=status)


def _columns_again(error: DomainError, status: int):
    """The columns as typed, with the refusal."""
    board, actor = _board_and_actor()
    return _page(board, actor, columns=ColumnsForm(), error=error.message, status=status)


def _component_again(error: DomainError, status: int):
    """The component as typed, the refusal by its name."""
    board, actor = _board_and_actor()
    form = ComponentForm()
    form.name.errors = [error.message]
    return _page(board, actor, component=form, error="Check the component below.", status=status)


def _label_again(error: DomainError, status: int):
    """The new label as typed, the refusal by its name."""
    board, actor = _board_and_actor()
    form = LabelForm()
    form.name.errors = [error.message]
    return _page(board, actor, label=form, error="Check the label below.", status=status)


def _page_again(error: DomainError, status: int):
    """The settings page with the refusal at the top."""
    board, actor = _board_and_actor()
    return _page(board, actor, error=error.message, status=status)


REFUSED_PAGES: dict[str, errors.Refusal] = {
    "settings.save": _settings_again,
    "settings.save_columns": _columns_again,
    "settings.add_component": _component_again,
    "settings.remove_component": _page_again,
    "settings.retry_mail": _page_again,
    "settings.add_label": _label_again,
    "settings.edit_label": _page_again,
    "settings.remove_label": _page_again,
}


errors.answer_refusals(bp, REFUSED_PAGES)
