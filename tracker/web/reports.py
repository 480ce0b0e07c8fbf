"""The capacity report page, its CSV, its settings, and a lead's sprints: thin adapters."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from tracker.domain import capacity, text
from tracker.domain.errors import InvalidRequest
from tracker.domain.policy import Action
from tracker.domain.vocabulary import LaneKind
from tracker.services import reports
from tracker.web.access import can, load_board
from tracker.web.forms import ReportSettingsForm, SprintForm
from tracker.web.params import sensible_date, whole_number

bp = Blueprint("reports", __name__, url_prefix="/b/<int:board_id>")


def _range() -> tuple[int, date | None]:
    """The range picker's values: how many periods, ending with the one containing `until`."""
    count = whole_number(request.args.get("count"))
    if count not in reports.RANGES:
        count = reports.DEFAULT_RANGE
    try:
        until = sensible_date(date.fromisoformat(request.args.get("until", "")))
    except ValueError:
        until = None
    return count, until


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
    try:
        reports.update_settings(
            board.id,
            actor,
            window_size=form.window_size.data,
            measure=form.measure.data,
            threshold=form.threshold.data,
        )
    except InvalidRequest as error:
        return _page(board, actor, form=form, error=error.message, status=422)
    flash("Report settings saved.", "info")
    return redirect(url_for("reports.show", board_id=board.id), 303)


@bp.get("/report.csv")
def export(board_id: int):
    """The report's table as CSV, every measure, one row per period."""
    board, _actor = load_board(board_id)
    count, until = _range()
    report = reports.build_report(board, count=count, until=until)
    body = text.csv_document(
        [
            CSV_HEADER,
            *(
                csv_row(report, load, emergency)
                for load, emergency in zip(report.loads, report.expedite, strict=True)
            ),
        ]
    )
    name = f"capacity-report-board-{board.id}-{report.today.isoformat()}.csv"
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


KINDS = (LaneKind.SUPPORT, LaneKind.EXPEDITE, LaneKind.FEATURE)
CSV_HEADER = (
    ["period", "first_day", "last_day", "finished", "planned_person_days", "planned_points"]
    + [f"{k}_person_days" for k in KINDS]
    + [f"{k}_cards_done" for k in KINDS]
    + [f"{k}_points_done" for k in KINDS]
    + [f"{k}_unestimated_done" for k in KINDS]
    + ["support_share_percent", "wip_overrides", "emergencies"]
    + ["hours_until_pulled_median", "hours_until_pulled_p85"]
    + ["hours_until_done_median", "hours_until_done_p85"]
)


def _hours(value: timedelta | None) -> str:
    return "" if value is None else f"{value.total_seconds() / 3600:.2f}"


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}".rstrip("0").rstrip(".")


def csv_row(report, load, emergency) -> list[str]:
    period = load.period
    share = load.share(report.measure)
    return (
        [
            period.name,
            period.start.isoformat(),
            period.end.isoformat(),
            "yes" if period.finished(report.today) else "no",
            _number(period.planned_days),
            _number(period.planned_points),
        ]
        + [_number(load.days[k]) for k in KINDS]
        + [_number(load.cards[k]) for k in KINDS]
        + [_number(load.points[k]) for k in KINDS]
        + [_number(load.unestimated[k]) for k in KINDS]
        + [
            "" if share is None else f"{share * 100:.1f}",
            str(load.overrides),
            str(emergency.count),
            _hours(emergency.pulled_median),
            _hours(emergency.pulled_p85),
            _hours(emergency.done_median),
            _hours(emergency.done_p85),
        ]
    )


# -- the chart: server-rendered SVG geometry ------------------------------------------------


@dataclass
class Bar:
    label: str
    title: str
    x: float
    segments: list[tuple[str, float, float, float]]  # (kind, y, height, value)
    running: bool


@dataclass
class Chart:
    width: int
    height: int
    bar_width: float
    bars: list[Bar]
    ticks: list[tuple[float, str]]  # (y, label)
    allowance_y: float | None
    top: float
    bottom: float
    left: float
    right: float


def _nice_ceiling(value: float) -> float:
    """The scale's top: 1, 2, 4 or 8 times a power of ten, so quarter ticks read well."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for factor in (1, 2, 4, 8):
        if value <= magnitude * factor * (1 + 1e-9):
            return magnitude * factor
    return magnitude * 10


def chart(report) -> Chart:
    """Stacked bars per period (support, expedite, feature) and the allowance line."""
    width, height, left, right, top, bottom = 720, 260, 48, 12, 12, 44
    measure = report.measure
    # No line where the headline has no figure (no finished period, or no estimates at all).
    average = report.headline.hold_back
    tallest = max([load.total(measure) for load in report.loads] + [average or 0])
    scale_max = _nice_ceiling(tallest)
    plot_h = height - top - bottom
    slot = (width - left - right) / max(len(report.loads), 1)
    bar_width = min(slot * 0.7, 48)
    bars = []
    for i, load in enumerate(report.loads):
        y = height - bottom
        segments = []
        for kind in KINDS:
            value = load.of(measure)[kind]
            h = value / scale_max * plot_h
            y -= h
            segments.append((kind, round(y, 1), round(h, 1), value))
        period = load.period
        label = period.name if report.by_sprint else f"{period.start:%d %b}"
        title = f"{period.name}: " + ", ".join(
            f"{kind} {fmt(load.of(measure)[kind])}" for kind in KINDS
        )
        bars.append(
            Bar(
                label=label[:14],
                title=f"{title} {capacity.MEASURES[measure]}",
                x=round(left + slot * i + (slot - bar_width) / 2, 1),
                segments=segments,
                running=not period.finished(report.today),
            )
        )
    ticks = [
        (round(height - bottom - plot_h * f, 1), fmt(scale_max * f))
        for f in (0, 0.25, 0.5, 0.75, 1)
    ]
    allowance_y = (
        None if average is None else round(height - bottom - average / scale_max * plot_h, 1)
    )
    return Chart(width, height, bar_width, bars, ticks, allowance_y, top, bottom, left, right)


def fmt(value: float | None) -> str:
    """A figure for people: one decimal at most, none when whole."""
    if value is None:
        return "–"
    shown = f"{value:.1f}"
    return shown[:-2] if shown.endswith(".0") else shown


def duration(value: timedelta | None) -> str:
    """A waiting time in words: 25 min, 3 h 10 min, 2 d 4 h."""
    if value is None:
        return "–"
    minutes = round(value.total_seconds() / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


@bp.app_template_filter("figure")
def _figure(value):
    return fmt(value)


@bp.app_template_filter("duration")
def _duration(value):
    return duration(value)


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
    new_form = SprintForm(formdata=None, **_next_sprint_defaults(sprints))
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


def _next_sprint_defaults(sprints) -> dict:
    """A new sprint starts the day after the last one and is as long (two weeks at first)."""
    sprints = [s for s in sprints if sensible_date(s.start_on) and sensible_date(s.end_on)]
    if not sprints:
        return {}
    last = sprints[-1]
    length = last.end_on - last.start_on
    start = last.end_on + timedelta(days=1)
    return {
        "start_on": start,
        "end_on": start + length,
        "capacity_days": last.capacity_days,
        "capacity_points": last.capacity_points,
    }


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
    try:
        if sprint_id is None:
            sprint = reports.add_sprint(board.id, actor, _sprint_input(form))
        else:
            sprint = reports.update_sprint(board.id, actor, sprint_id, _sprint_input(form))
    except capacity.BadSprint as error:
        getattr(form, error.field).errors = [error.message]
        return _sprints_page(
            board, actor, form=form, editing=sprint_id, error=error.message, status=422
        )
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
