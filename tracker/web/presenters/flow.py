"""The Flow page as people see it: the range a request asks for, each chart's scales for
its server-rendered SVG, and each chart's CSV."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from tracker.domain import text
from tracker.domain.flow import QUANTILES
from tracker.domain.vocabulary import LaneKind
from tracker.services import flow
from tracker.web.params import sensible_date, whole_number
from tracker.web.presenters.report import _nice_ceiling, fmt

SECTIONS = ("cfd", "cycle", "throughput", "aging", "blocked", "pareto", "forecast")
KIND_NAMES = {
    LaneKind.EXPEDITE: "Expedite",
    LaneKind.SUPPORT: "Support",
    LaneKind.FEATURE: "Feature",
}


def flow_range(weeks: str | None, until: str | None, today: date) -> flow.Range:
    """The range a query asks for: one of the offered numbers of weeks (else the default)
    up to the week of `until` (else today's)."""
    number = whole_number(weeks)
    if number not in flow.RANGES:
        number = flow.DEFAULT_RANGE
    try:
        last = sensible_date(date.fromisoformat(until or "")) or today
    except ValueError:
        last = today
    return flow.week_range(number, last)


def lane_kind(value: str | None) -> str | None:
    """The CFD's lane kind filter: one of the kinds, or None for all."""
    return value if value in KIND_NAMES else None


@dataclass
class Plot:
    """A chart's frame: the SVG's size, its margins, and linear scales from data to
    pixels (x from 0..x_max, y from 0..y_max, y up)."""

    x_max: float
    y_max: float
    width: int = 720
    height: int = 260
    left: int = 48
    right: int = 16
    top: int = 12
    bottom: int = 40

    def __post_init__(self) -> None:
        self.x_max = self.x_max or 1
        self.y_max = _nice_ceiling(self.y_max)

    @property
    def plot_width(self) -> float:
        return self.width - self.left - self.right

    @property
    def base(self) -> float:
        return self.height - self.bottom

    def x(self, value: float) -> float:
        return round(self.left + value / self.x_max * self.plot_width, 1)

    def y(self, value: float) -> float:
        plot_h = self.height - self.top - self.bottom
        return round(self.base - min(value, self.y_max) / self.y_max * plot_h, 1)

    def slot(self, count: int) -> float:
        return self.plot_width / max(count, 1)

    @property
    def ticks(self) -> list[tuple[float, str]]:
        return [(self.y(self.y_max * f), fmt(self.y_max * f)) for f in (0, 0.25, 0.5, 0.75, 1)]


# -- chart geometry ------------------------------------------------------------------------


def cfd_chart(figures: flow.Flow) -> tuple[Plot, list[tuple[flow.Column, str]]]:
    """The CFD's frame and one polygon (SVG points) per column, stacked with the first
    column on top, as Kanban tools draw it (done at the bottom)."""
    days = figures.days
    totals = [sum(day.values()) for day in figures.counts] or [0]
    plot = Plot(max(len(days) - 1, 1), max(totals))
    bands = []
    below = [0] * len(days)
    for column in reversed(figures.columns):
        above = [b + day[column.id] for b, day in zip(below, figures.counts, strict=True)]
        upper = [f"{plot.x(i)},{plot.y(v)}" for i, v in enumerate(above)]
        lower = [f"{plot.x(i)},{plot.y(v)}" for i, v in reversed(list(enumerate(below)))]
        bands.append((column, " ".join(upper + lower)))
        below = above
    return plot, list(reversed(bands))


def scatter(figures: flow.Cycle, lead: bool = False) -> Plot:
    values = [(d.lead if lead else d.cycle) or 0 for d in figures.done]
    return Plot(figures.range.weeks * 7, max(values, default=1))


def day_of(figures: flow.Cycle, done: flow.Done, timezone: str) -> float:
    """Days from the range's first day to when the card was done (the scatter's x)."""
    start = figures.range.first
    moment = done.done_at.astimezone(ZoneInfo(timezone))
    return (moment.date() - start).days + (moment.hour * 60 + moment.minute) / 1440


def throughput_chart(figures: flow.Cycle) -> Plot:
    most = max((max(c.values(), default=0) for _, c in figures.throughput), default=0)
    return Plot(max(len(figures.throughput) - 1, 1), most)


def aging_chart(figures: flow.Aging) -> Plot:
    most = max([a.days for a in figures.cards] + [a.p85 or 0 for a in figures.cards] + [1])
    return Plot(most, 1, height=max(60, 26 * len(figures.cards) + 52), left=120)


def weeks_chart(values: list[float]) -> Plot:
    return Plot(max(len(values), 1), max(values, default=0))


def pareto_chart(rows: list) -> Plot:
    return Plot(max(len(rows), 1), max((r.value for r in rows), default=0))


def share_y(plot: Plot, share: float) -> float:
    """The cumulative-share line's y: 0..100% over the plot's height."""
    plot_h = plot.height - plot.top - plot.bottom
    return round(plot.base - share * plot_h, 1)


# -- CSV -----------------------------------------------------------------------------------


def _n(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def csv_of(section: str, figures) -> str:
    """One chart's data as CSV."""
    rows: list[list[object]]
    if section == "cfd":
        rows = [["day", *(c.name for c in figures.columns)]]
        rows += [
            [day.isoformat(), *(counts[c.id] for c in figures.columns)]
            for day, counts in zip(figures.days, figures.counts, strict=True)
        ]
    elif section == "cycle":
        rows = [["card", "title", "lane_kind", "done_at", "cycle_days", "lead_days"]]
        rows += [
            [
                d.card.ref,
                d.card.title,
                d.card.lane_kind,
                d.done_at.isoformat(),
                _n(d.cycle),
                _n(d.lead),
            ]
            for d in figures.done
        ]
    elif section == "throughput":
        rows = [["week", *flow.KINDS]]
        rows += [[m.isoformat(), *(c[k] for k in flow.KINDS)] for m, c in figures.throughput]
    elif section == "aging":
        rows = [["card", "title", "lane_kind", "column", "age_days", "p85_days", "older_than_p85"]]
        rows += [
            [
                a.card.ref,
                a.card.title,
                a.card.lane_kind,
                a.column,
                _n(a.days),
                _n(a.p85),
                "yes" if a.old else "no",
            ]
            for a in figures.cards
        ]
    elif section == "blocked":
        rows = [["week", "blocked_hours"]]
        rows += [[m.isoformat(), _n(h)] for m, h in figures.weeks]
        rows += [[], ["reason", "blocks"], *([r, n] for r, n in figures.reasons)]
    elif section == "pareto":
        rows = [["measure", "component", "value", "cumulative_share_percent"]]
        for measure, pareto_rows in (("cards", figures.cards), ("person_days", figures.days)):
            rows += [
                [measure, r.name, _n(r.value), f"{r.cumulative_share * 100:.1f}"]
                for r in pareto_rows
            ]
    else:  # forecast
        rows = [["week", "support_and_expedite_arrivals"]]
        rows += [[m.isoformat(), n] for m, n in figures.weekly]
        if figures.figures:
            rows += [[], ["percent_of_trials", f"at_most_in_{figures.period_name}"]]
            rows += [[f"{round(q * 100)}", figures.figures[q]] for q in QUANTILES]
    return text.csv_document(rows)
