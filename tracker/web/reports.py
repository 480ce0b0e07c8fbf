"""The capacity report page, its CSV, its settings, and a lead's sprints: thin adapters."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from tracker.domain.errors import DomainError
from tracker.domain.periods import BadSprint
from tracker.domain.policy import Action
from tracker.services import flow, reports
from tracker.web import errors
from tracker.web.access import can, load_board
from tracker.web.forms import ReportSettingsForm, SprintForm
from tracker.web.presenters.report import (
    chart,
    csv_body,
    csv_name,
    next_sprint_defaults,
    report_range,
)

bp = Blueprint("reports", __name__, url_prefix="/b/<int:board_id>")


def _range():
    """The range the query asks for: `count` periods up to the one containing `until`."""
    return report_range(request.args.get("count"), request.args.get("until"))


def _settings_form(report) -> ReportSettingsForm:
    s = report.settings
    return ReportSettingsForm(
        formdata=None, window_size=s.window_size, measure=s.measure, threshold=s.threshold
    )


def _page(board, actor, *, form=None, error=None, status=200):
    count, until = _range()
    report = reports.build_report(board, count=count, until=until)
    return render_template(
        "reports/page.html",
        board=board,
        actor=actor,
        report=report,
        chart=chart(report),
        forecast=flow.arrivals_forecast(board),
        form=form or _settings_form(report),
        error=error,
        ranges=reports.RANGES,
        can_manage=can(actor, Action.MANAGE_SPRINTS),
    ), status


@bp.get("/report")
def show(board_id: int):
    """The report: chart, allowance, table, emergencies; settings for leads."""
    board, actor = load_board(board_id)
    return _page(board, actor)


@bp.post("/report/settings")
def save_settings(board_id: int):
    """A lead changes N, the measure or the threshold; the page shows the new allowance."""
    board, actor = load_board(board_id)
    form = ReportSettingsForm()
    if not form.validate_on_submit():
        return _page(board, actor, form=form, error="Check the settings marked below.", status=422)
    reports.update_settings(
        board.id,
        actor,
        window_size=form.window_size.data,
        measure=form.measure.data,
        threshold=form.threshold.data,
    )
    flash("Report settings saved.", "info")
    return redirect(url_for("reports.show", board_id=board.id), 303)


@bp.get("/report.csv")
def export(board_id: int):
    """The report's table as CSV, every measure, one row per period."""
    board, _actor = load_board(board_id)
    count, until = _range()
    report = reports.build_report(board, count=count, until=until)
    return Response(
        csv_body(report),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{csv_name(report)}"'},
    )


# -- sprints --------------------------------------------------------------------------------


def _sprint_input(form: SprintForm) -> reports.SprintInput:
    return reports.SprintInput(
        form.name.data or "",
        form.start_on.data,
        form.end_on.data,
        form.capacity_days.data,
        form.capacity_points.data,
    )


def _sprints_page(board, actor, *, form=None, editing=None, error=None, status=200):
    """The sprints page; `form` is the one that failed (the new one, or sprint `editing`)."""
    sprints = reports.sprints_of(board.id, every=True)
    edit_forms = {s.id: SprintForm(formdata=None, obj=s, prefix=f"s{s.id}") for s in sprints}
    new_form = SprintForm(formdata=None, **next_sprint_defaults(sprints))
    if form is not None and editing is not None:
        edit_forms[editing] = form
    elif form is not None:
        new_form = form
    return render_template(
        "reports/sprints.html",
        board=board,
        actor=actor,
        sprints=sprints,
        form=new_form,
        edit_forms=edit_forms,
        editing=editing,
        error=error,
        today=reports.today_on(board),
    ), status


@bp.get("/sprints")
def sprints(board_id: int):
    """A lead's sprints: the list, each editable, and a form for the next one."""
    board, actor = load_board(board_id)
    return _sprints_page(board, actor)


def _save_sprint(board, actor, sprint_id: int | None):
    form = SprintForm(prefix=f"s{sprint_id}" if sprint_id is not None else "")
    if not form.validate_on_submit():
        return _sprints_page(
            board,
            actor,
            form=form,
            editing=sprint_id,
            error="Check the fields marked below.",
            status=422,
        )
    if sprint_id is None:
        sprint = reports.add_sprint(board.id, actor, _sprint_input(form))
    else:
        sprint = reports.update_sprint(board.id, actor, sprint_id, _sprint_input(form))
    flash(f"{sprint.name} saved.", "info")
    return redirect(url_for("reports.sprints", board_id=board.id), 303)


@bp.post("/sprints")
def add_sprint(board_id: int):
    board, actor = load_board(board_id)
    return _save_sprint(board, actor, None)


@bp.post("/sprints/<int:sprint_id>")
def edit_sprint(board_id: int, sprint_id: int):
    board, actor = load_board(board_id)
    reports.get_sprint(board.id, sprint_id)
    return _save_sprint(board, actor, sprint_id)


@bp.post("/sprints/<int:sprint_id>/delete")
def delete_sprint(board_id: int, sprint_id: int):
    board, actor = load_board(board_id)
    reports.delete_sprint(board.id, actor, sprint_id)
    flash("Sprint removed.", "info")
    return redirect(url_for("reports.sprints", board_id=board.id), 303)


# --- refusals -----------------------------------------------------------------------------


def _board_and_actor():
    return load_board((request.view_args or {})["board_id"])


def _settings_again(error: DomainError, status: int):
    """The report with its settings as typed and the refusal."""
    board, actor = _board_and_actor()
    return _page(board, actor, form=ReportSettingsForm(), error=error.message, status=status)


def _sprint_again(error: DomainError, status: int):
    """The sprints with the one being saved as typed; a sprint's impossible date or
    capacity is marked at its field too."""
    board, actor = _board_and_actor()
    sprint_id = (request.view_args or {}).get("sprint_id")
    form = SprintForm(prefix=f"s{sprint_id}" if sprint_id is not None else "")
    if isinstance(error, BadSprint):
        getattr(form, error.field).errors = [error.message]
    return _sprints_page(
        board, actor, form=form, editing=sprint_id, error=error.message, status=status
    )


def _sprints_again(error: DomainError, status: int):
    """The sprints with the refusal at the top."""
    board, actor = _board_and_actor()
    return _sprints_page(board, actor, error=error.message, status=status)


REFUSED_PAGES: dict[str, errors.Refusal] = {
    "reports.save_settings": _settings_again,
    "reports.add_sprint": _sprint_again,
    "reports.edit_sprint": _sprint_again,
    "reports.delete_sprint": _sprints_again,
}


errors.answer_refusals(bp, REFUSED_PAGES)
