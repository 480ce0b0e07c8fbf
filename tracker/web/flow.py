"""The Flow page (issue 15): its charts, one chart alone for htmx, and each chart's CSV."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request

from tracker.extensions import htmx
from tracker.services import flow, flow_weeks
from tracker.services.common import today_on
from tracker.web.access import load_board
from tracker.web.presenters import flow as shown

# The part of the weeks' figures (flow_weeks.PARTS) each section reads.
PARTS = {
    "cfd": "cfd",
    "cycle": "finished",
    "throughput": "finished",
    "blocked": "blocks",
    "pareto": "sources",
}

bp = Blueprint("flow", __name__, url_prefix="/b/<int:board_id>")


def _figures(board, sections, *, every: bool = False) -> dict:
    """The figures of the asked sections, reading the range's weeks once (flow_weeks:
    finished weeks stored, the running one replayed)."""
    rng = shown.flow_range(request.args.get("weeks"), request.args.get("until"), today_on(board))
    kind = shown.lane_kind(request.args.get("kind"))
    figures: dict = {"range": rng, "kind": kind}
    parts = {PARTS[s] for s in sections if s in PARTS}
    weeks = flow_weeks.weeks(board, rng.mondays, parts) if parts else None
    if "cfd" in sections:
        figures["cfd"] = flow.cumulative_flow(board, rng, kind, weeks=weeks)
    if "cycle" in sections or "throughput" in sections:
        # The CSV lists every card; the page draws a readable sample (SCATTER_DOTS).
        figures["cycle"] = figures["throughput"] = flow.cycle_times(
            board, rng, every=every, weeks=weeks
        )
    if "aging" in sections:
        figures["aging"] = flow.aging(board)
    if "blocked" in sections:
        figures["blocked"] = flow.blocked_time(board, rng, weeks=weeks)
    if "pareto" in sections:
        figures["pareto"] = flow.where_support_comes_from(board, rng, weeks=weeks)
    if "forecast" in sections:
        figures["forecast"] = flow.arrivals_forecast(board)
    return figures


@bp.get("/flow")
def show(board_id: int):
    """Every chart; for htmx, one chart alone (`section`) or all of them without the page."""
    board, actor = load_board(board_id)
    section = request.args.get("section")
    fragment = bool(htmx) and not htmx.boosted  # a boosted link or form wants the page
    if fragment and section in shown.SECTIONS:
        body = render_template(
            f"flow/_{section}.html", board=board, **_figures(board, {section}), p=shown
        )
    else:
        template = "flow/_sections.html" if fragment else "flow/page.html"
        body = render_template(
            template,
            board=board,
            actor=actor,
            ranges=flow.RANGES,
            kinds=shown.KIND_NAMES,
            p=shown,
            **_figures(board, set(shown.SECTIONS)),
        )
    return Response(body, headers={"Vary": "HX-Request"})


@bp.get("/flow/<chart>.csv")
def export(board_id: int, chart: str):
    """One chart's data as CSV, for the range (and lane kind) the page shows."""
    board, _actor = load_board(board_id)
    if chart not in shown.SECTIONS:
        abort(404)
    figures = _figures(board, {chart}, every=True)
    rng = figures["range"]
    filename = f"flow-{chart}-board-{board.id}-{rng.first.isoformat()}-{rng.last.isoformat()}.csv"
    return Response(
        shown.csv_of(chart, figures[chart]),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
