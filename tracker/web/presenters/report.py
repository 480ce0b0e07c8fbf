"""The capacity report as people see it: the range a request asks for, the CSV's layout,
the SVG chart's geometry, figures and durations in words, and a new sprint's defaults."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from tracker.domain import text
from tracker.domain.periods import MEASURES
from tracker.domain.vocabulary import LaneKind
from tracker.services import reports
from tracker.web.params import sensible_date, whole_number


def report_range(count: str | None, until: str | None) -> tuple[int, date | None]:
    """The range picker's values from a request's query: how many periods (one of the
    offered ranges, else the default), ending with the one containing `until` (None for a
    missing, malformed or far-off date: today's)."""
    number = whole_number(count)
    if number not in reports.RANGES:
        number = reports.DEFAULT_RANGE
    try:
        last = sensible_date(date.fromisoformat(until or ""))
    except ValueError:
        last = None
    return number, last


# -- the CSV ----------------------------------------------------------------------------------

# The order of the chart's stacked segments (bottom up) and of the CSV's columns.
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


def csv_name(report) -> str:
    """The file name the CSV download suggests."""
    return f"capacity-report-board-{report.board.id}-{report.today.isoformat()}.csv"


# With a support rotation, each row also says who did the support work.
ROTATION_HEADER = [
    "support_days_on_duty",
    "support_days_off_duty",
    "absorbed_percent",
    "interruptions",
]


def csv_body(report) -> str:
    """The report's table as CSV, every measure, one row per period (and the rotation's
    figures when the board runs one)."""
    rotation = report.rotation is not None
    return text.csv_document(
        [
            CSV_HEADER + (ROTATION_HEADER if rotation else []),
            *(
                csv_row(report, load, emergency) + (_rotation_cells(load) if rotation else [])
                for load, emergency in zip(report.loads, report.expedite, strict=True)
            ),
        ]
    )


def _rotation_cells(load) -> list[str]:
    absorbed = load.absorbed
    return [
        _number(load.on_duty_days),
        _number(load.off_duty_days),
        "" if absorbed is None else f"{absorbed * 100:.1f}",
        str(load.interruptions),
    ]


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


# -- the chart: server-rendered SVG geometry --------------------------------------------------


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
                title=f"{title} {MEASURES[measure]}",
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


def measured(value: float | None, unit: str) -> str:
    """A figure with its unit in the right number: "1 card", "1.5 person-days"."""
    shown = fmt(value)
    return f"{shown} {unit.removesuffix('s') if shown == '1' else unit}"


def hours_taken(value: float | None) -> str:
    """A time in hours (an incident figure) in the same words as duration."""
    return duration(None if value is None else timedelta(hours=value))


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


# -- sprints ----------------------------------------------------------------------------------


def next_sprint_defaults(sprints) -> dict[str, Any]:
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
