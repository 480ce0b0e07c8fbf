"""What the board page shows, read in a fixed number of queries whatever the card count."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import Select, String, bindparam, cast, func, or_, select, union_all
from sqlalchemy.orm import aliased, joinedload

from tracker import clock
from tracker.domain import flow as flow_rules
from tracker.domain import periods, wip
from tracker.domain.board_filter import BoardFilter
from tracker.domain.search import parse_query
from tracker.domain.vocabulary import CardStatus, ColumnKind
from tracker.extensions import db
from tracker.models import (
    Board,
    BoardColumn,
    Card,
    CardEvent,
    CardLabel,
    Label,
    Lane,
    Membership,
    Sprint,
    User,
)
from tracker.services import desk, flow_weeks, search
from tracker.store import column_rule, lane_rule, lanes_and_columns, plain_rows


@dataclass(frozen=True, slots=True)
class Assignee:
    """A card's assignee as a tile shows them: one of these per person per page."""

    id: int
    name: str
    username: str

    initials = User.initials  # the same rule as a User's
    colour = User.colour


@dataclass(frozen=True, slots=True)
class TileLabel:
    """A label as a tile and a filter chip show it: its colour is a key of the palette
    (tracker.domain.labels), the chip's CSS class lc-<colour>."""

    id: int
    name: str
    colour: str


# Within a tile's labels column (see _labels_column): between labels, and between a
# label's id, colour and name. Label names are whitespace-normalised, which removes both.
LABEL_SEPARATOR, FIELD_SEPARATOR = "\x1e", "\x1f"


@functools.lru_cache(maxsize=4096)
def _parsed_labels(text: str | None) -> tuple[TileLabel, ...]:
    if not text:
        return ()
    found = []
    for part in text.split(LABEL_SEPARATOR):
        label_id, colour, name = part.split(FIELD_SEPARATOR, 2)
        found.append(TileLabel(int(label_id), name, colour))
    return tuple(sorted(found, key=lambda label: (label.name.casefold(), label.id)))


class Tile(NamedTuple):
    """A card as the board shows it: only the fields a tile needs, read as plain rows.

    The board can hold thousands of cards; building ORM objects for each (with their
    descriptions) costs more than the query itself, so the board reads these instead. A
    tuple: cheap to build, and hashable, so the page can keep each tile's markup.
    """

    id: int
    ref: str
    title: str
    lane_id: int
    column_id: int
    assignee_id: int | None
    severity: str | None
    blocked: bool
    blocked_reason: str
    column_entered_at: datetime
    drill: bool  # a rehearsed emergency (services.incidents): labelled on its tile
    started_at: datetime | None  # first entry into an active column
    request: bool
    assignee: Assignee | None
    days: int  # whole days in its column, 0 on the first day
    labels: tuple[TileLabel, ...] = ()
    # The aging marker's words: in progress longer than most recent cards of its kind took.
    aged: str = ""
    # A request's response target clock (services.desk): "" (nothing to show), TILE_NEAR
    # (under 20% left) or TILE_LATE. Part of the tile, so its kept markup follows it.
    clock: str = ""


def _labels_column():
    """A card's labels as one text (id, colour and name of each): read with the card's
    row, so the board reads no more statements for them, however many cards it shows."""
    label = cast(Label.id, String) + FIELD_SEPARATOR + Label.colour + FIELD_SEPARATOR + Label.name
    return (
        select(func.aggregate_strings(label, LABEL_SEPARATOR))
        .join(CardLabel, CardLabel.label_id == Label.id)
        .where(CardLabel.card_id == Card.id)
        .correlate(Card)
        .scalar_subquery()
        .label("labels")
    )


# The columns of Tile, in order, then the assignee's (an outer-joined User) and the labels.
TILE_COLUMNS = (
    Card.id,
    Card.ref,
    Card.title,
    Card.lane_id,
    Card.column_id,
    Card.assignee_id,
    Card.severity,
    Card.blocked,
    Card.blocked_reason,
    Card.column_entered_at,
    Card.drill,
    Card.started_at,
    # A support request (filed through intake, or with a requester): its tile shows its
    # response target clock (services.desk.tile_clocks).
    or_(Card.filed_by_id.is_not(None), Card.requester != "").label("is_request"),
    User.name.label("assignee_name"),
    User.username.label("assignee_username"),
    _labels_column(),
)


class Placed(NamedTuple):
    """A card's tile and where it goes in its cell: after the card `after`, or at the top
    of the cell (None). What a change's answer sends instead of the card's whole cell."""

    tile: Tile
    after: int | None


@dataclass
class BoardView:
    board: Board
    lanes: list[Lane]
    columns: list[BoardColumn]
    wip: wip.BoardWip
    cells: dict[tuple[int, int], list[Tile]]
    done_total: dict[int, int]
    # This period's bounds, name and kind: None in a change's view that shows no done cell.
    period_start: datetime | None
    period_end: datetime | None
    now: datetime
    period_name: str | None
    in_sprint: bool | None
    done_shown: dict[int, int] = field(default_factory=dict)
    filtered: bool = False
    hidden: int = 0
    notices: list[str] = field(default_factory=list)
    placed: Placed | None = None
    # What the filter's chips offer (see filter_options), when the whole board was read.
    options: FilterOptions | None = None
    # When the next tile in progress ages past its kind's 85th percentile (see mark_aging),
    # and those percentiles by lane kind, once read.
    aging_next: datetime | None = None
    aging_p85: dict[str, float] | None = None
    # When the first request tile's clock would change look (services.desk.tile_clocks).
    clocks_change_at: datetime | None = None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.board.timezone)

    def cell(self, lane: Lane, column: BoardColumn) -> list[Tile]:
        return self.cells.get((lane.id, column.id), [])

    def lane_kind(self, lane_id: int) -> str:
        """The kind of a lane of the board (a tile's coloured edge)."""
        return next(lane.kind for lane in self.lanes if lane.id == lane_id)

    def column_number(self, column: BoardColumn) -> int:
        """The column's place on the board, from 1 (a phone shows one column at a time)."""
        return next(i for i, c in enumerate(self.columns, 1) if c.id == column.id)

    def done_more(self, lane: Lane) -> int:
        """How many of the lane's cards done this period are not shown on the board."""
        return self.done_total.get(lane.id, 0) - self.done_shown.get(lane.id, 0)


def current_period(board_id: int, today: date) -> periods.Period:
    """This period: the sprint running today, or else the calendar week (DESIGN.md)."""
    sprint = plain_rows(_sprint_statement(), {"board_id": board_id, "today": today})
    if not sprint:
        return periods.weeks(today, 1)[0]
    sprint_id, name, start_on, end_on = sprint[0]
    return periods.Period(name, start_on, end_on, sprint_id=sprint_id)


@functools.cache
def _sprint_statement() -> Select:
    """The sprint running on `today`, if any (sprints do not overlap)."""
    return (
        select(Sprint.id, Sprint.name, Sprint.start_on, Sprint.end_on)
        .where(
            Sprint.board_id == bindparam("board_id"),
            Sprint.start_on <= bindparam("today"),
            Sprint.end_on >= bindparam("today"),
        )
        .limit(1)
    )


@dataclass(frozen=True)
class FilterOptions:
    """What the board's filter chips offer besides the fixed ones (lanes, severities, me,
    nobody): the people holding cards on the board and the labels its cards carry, by
    name. Taken from the tiles the board read, so they cost no statement of their own."""

    people: tuple[Assignee, ...] = ()
    labels: tuple[TileLabel, ...] = ()
    # The board's lanes, top to bottom, as (kind, name).
    lanes: tuple[tuple[str, str], ...] = ()


def filter_options(tiles: list[Tile], lanes: list[Lane]) -> FilterOptions:
    people = {tile.assignee.id: tile.assignee for tile in tiles if tile.assignee is not None}
    labels = {label.id: label for tile in tiles for label in tile.labels}
    return FilterOptions(
        tuple(sorted(people.values(), key=lambda p: (p.name.casefold(), p.id))),
        tuple(sorted(labels.values(), key=lambda x: (x.name.casefold(), x.id))),
        tuple((lane.kind, lane.name) for lane in lanes),
    )


def _tiles(statement: Select, params: dict, now: datetime) -> list[tuple[Tile, ...]]:
    """Run a statement selecting TILE_COLUMNS then any extra columns: (tile, *extra) rows."""
    card_width, width = len(TILE_COLUMNS) - 3, len(TILE_COLUMNS)
    people: dict[int, Assignee] = {}
    found = []
    for row in plain_rows(statement, params):
        person = None
        if row.assignee_id is not None:
            person = people.get(row.assignee_id)
            if person is None:
                person = Assignee(row.assignee_id, row.assignee_name, row.assignee_username)
                people[row.assignee_id] = person
        days = max(0, (now - row.column_entered_at).days)
        labels = _parsed_labels(row.labels)
        found.append((Tile(*row[:card_width], person, days, labels), *row[width:]))
    return found


# The board's two card statements are composed once, with bound parameters: composing
# them (the done one especially) costs more Python time than SQLite takes to run them.


@functools.cache
def _open_statement() -> Select:
    """The board's open cards (all of them: the page and the WIP counts need each)."""
    return (
        select(*TILE_COLUMNS)
        .outerjoin(User, User.id == Card.assignee_id)
        .where(Card.board_id == bindparam("board_id"), Card.status == CardStatus.OPEN)
        .order_by(Card.rank)
    )


@functools.cache
def _cells_statement() -> Select:
    """The open cards of some lanes and columns (a superset of the cells asked for)."""
    return (
        select(*TILE_COLUMNS)
        .outerjoin(User, User.id == Card.assignee_id)
        .where(
            Card.board_id == bindparam("board_id"),
            Card.status == CardStatus.OPEN,
            Card.lane_id.in_(bindparam("lanes", expanding=True)),
            Card.column_id.in_(bindparam("columns", expanding=True)),
        )
        .order_by(Card.rank)
    )


@functools.cache
def _done_statement(lane_count: int) -> Select:
    """Each lane's latest cards done since `start` (at most `per_lane`), with its total.

    One UNION ALL branch per lane (parameters lane_0, lane_1, ...), each an index range
    read from the newest end (ix_card_lane_board_status_done): the cost follows the cards
    shown, not the cards done this period. board_id stays in the conditions so that a
    database without that index still reads only this period's range of
    ix_card_board_status_done, not the lane's whole history.
    """
    branches = []
    for i in range(max(lane_count, 1)):
        in_lane = (
            Card.board_id == bindparam("board_id"),
            Card.lane_id == bindparam(f"lane_{i}"),
            Card.status == CardStatus.DONE,
            Card.done_at >= bindparam("start"),
        )
        total = select(func.count()).select_from(Card).where(*in_lane).correlate(None)
        newest = (
            select(Card.id, total.scalar_subquery().label("total"))
            .where(*in_lane)
            .order_by(Card.done_at.desc(), Card.id.desc())
            .limit(bindparam("per_lane"))
            .subquery()
        )
        branches.append(select(newest.c.id, newest.c.total))
    latest = union_all(*branches).subquery()
    return (
        select(*TILE_COLUMNS, latest.c.total)
        .join(latest, latest.c.id == Card.id)
        .outerjoin(User, User.id == Card.assignee_id)
        .order_by(Card.done_at.desc(), Card.id.desc())
    )


@functools.cache
def _placed_statement() -> Select:
    """A card's tile, with the id of the card just above it in its open cell (None at the
    top): one index step back in ix_card_cell_rank, whatever the cell holds."""
    above = aliased(Card)
    previous = (
        select(above.id)
        .where(
            above.column_id == Card.column_id,
            above.lane_id == Card.lane_id,
            above.status == CardStatus.OPEN,
            above.rank < Card.rank,
        )
        .order_by(above.rank.desc())
        .limit(1)
        .correlate(Card)
        .scalar_subquery()
    )
    return (
        select(*TILE_COLUMNS, previous)
        .outerjoin(User, User.id == Card.assignee_id)
        .where(Card.id == bindparam("card_id"))
    )


def load_board_view(
    board: Board,
    *,
    done_per_lane: int,
    shown: BoardFilter | None = None,
    me: int | None = None,
) -> BoardView:
    """Lanes, columns, open cards and the latest cards done this period, with counts; with
    a filter, only the cards it admits (`me` is the person "who=me" means), the WIP counts
    still of every card."""
    now = clock.now()
    lanes, columns = lanes_and_columns(board.id)
    open_cards = [tile for (tile,) in _tiles(_open_statement(), {"board_id": board.id}, now)]
    counts = wip.BoardWip(
        [lane_rule(x) for x in lanes],
        [column_rule(c) for c in columns],
        (wip.Placement(c.lane_id, c.column_id, c.assignee_id) for c in open_cards),
        board.per_person_limit,
    )
    view = _view(board, lanes, columns, counts, now)
    open_cards = _clocked(view, mark_aging(view, open_cards))
    done_cards = _done_tiles(view, lanes, done_per_lane)
    view.options = filter_options(open_cards + done_cards, lanes)
    admitted = _admitted(open_cards + done_cards, lanes, shown, me)
    for card in open_cards:
        if admitted is None or card.id in admitted:
            view.cells.setdefault((card.lane_id, card.column_id), []).append(card)
        else:
            view.hidden += 1
    for card in done_cards:
        if admitted is None or card.id in admitted:
            view.cells.setdefault((card.lane_id, card.column_id), []).append(card)
            view.done_shown[card.lane_id] = view.done_shown.get(card.lane_id, 0) + 1
    view.filtered = admitted is not None
    return view


def _admitted(
    tiles: list[Tile], lanes: list[Lane], shown: BoardFilter | None, me: int | None
) -> set[int] | None:
    """The ids of the tiles the filter admits (None: no filter, all of them): its chips
    asked of each tile, its text of the full-text index, in one statement."""
    if shown is None or shown.empty:
        return None
    kinds = {lane.id: lane.kind for lane in lanes}
    passing = {
        tile.id
        for tile in tiles
        if shown.admits(
            lane_kind=kinds.get(tile.lane_id, ""),
            assignee_id=tile.assignee_id,
            severity=tile.severity,
            blocked=tile.blocked,
            days=tile.days,
            label_ids=[label.id for label in tile.labels],
            me=me,
        )
    }
    return search.matching(parse_query(shown.q), passing)


def load_changed_view(
    board: Board,
    lanes: list[Lane],
    columns: list[BoardColumn],
    counts: wip.BoardWip,
    cells: list[tuple[int, int]],
    *,
    done_per_lane: int,
    placed: int | None = None,
) -> BoardView:
    """The board's view with only the given cells (lane, column) read, and the tile of the
    open card `placed` with its place in its cell: what a change's answer redraws. Lanes,
    columns and WIP counts come from the change, which read them under the board lock;
    the cells' cards are read now, unfiltered."""
    kinds = {column.id: column.kind for column in columns}
    done_lanes = {lane_id for lane_id, column_id in cells if kinds[column_id] == ColumnKind.DONE}
    view = _view(board, lanes, columns, counts, clock.now(), period=bool(done_lanes))
    open_cells = [cell for cell in cells if kinds[cell[1]] != ColumnKind.DONE]
    if open_cells:
        params = {
            "board_id": board.id,
            "lanes": sorted({lane_id for lane_id, _ in open_cells}),
            "columns": sorted({column_id for _, column_id in open_cells}),
        }
        found = [tile for (tile,) in _tiles(_cells_statement(), params, view.now)]
        for tile in _clocked(view, mark_aging(view, found)):
            if (tile.lane_id, tile.column_id) in open_cells:
                view.cells.setdefault((tile.lane_id, tile.column_id), []).append(tile)
    if done_lanes:
        _add_done(view, [lane for lane in lanes if lane.id in done_lanes], done_per_lane)
    if placed is not None:
        ((tile, after),) = _tiles(_placed_statement(), {"card_id": placed}, view.now)
        (tile,) = _clocked(view, mark_aging(view, [tile]))
        view.placed = Placed(tile, after)
    return view


def _clocked(view: BoardView, tiles: list[Tile]) -> list[Tile]:
    """The open tiles with their response target clocks (requests with a severity only:
    one statement for those, none when there are none); notes when the first changes."""
    asked = [tile.id for tile in tiles if tile.severity and tile.request]
    if not asked:
        return tiles
    shown = desk.tile_clocks(view.board, asked, view.now)
    if shown.changes_at is not None:
        earlier = view.clocks_change_at
        view.clocks_change_at = min(shown.changes_at, earlier or shown.changes_at)
    if not shown.looks:
        return tiles
    return [tile._replace(clock=shown.looks.get(tile.id, "")) for tile in tiles]


def mark_aging(view: BoardView, tiles: list[Tile]) -> list[Tile]:
    """The tiles, each in progress longer than its lane kind's 85th percentile cycle time
    (flow_weeks.aging_percentiles: one small stored row) with its marker's words; notes in
    the view when the next one crosses its percentile (a kept grid is good until then)."""
    active = {c.id for c in view.columns if c.kind == ColumnKind.ACTIVE}
    if not any(t.column_id in active and t.started_at is not None for t in tiles):
        return tiles
    if view.aging_p85 is None:
        view.aging_p85 = flow_weeks.aging_percentiles(view.board).p85
    p85 = view.aging_p85
    kinds = {lane.id: lane.kind for lane in view.lanes}
    marked = []
    for tile in tiles:
        kind = kinds.get(tile.lane_id, "")
        limit = p85.get(kind)
        if limit is not None and tile.column_id in active and tile.started_at is not None:
            crossing = tile.started_at + timedelta(days=limit)
            if view.now > crossing:
                started_on = tile.started_at.astimezone(view.tz).date()
                tile = tile._replace(aged=flow_rules.aged_words(started_on, limit, kind))
            elif view.aging_next is None or crossing < view.aging_next:
                view.aging_next = crossing
        marked.append(tile)
    return marked


def _view(board, lanes, columns, counts, now, *, period=True) -> BoardView:
    """A BoardView with no cards yet, in this period (the sprint running, else the week);
    without period, a view that shows no done cell and so needs no period (None)."""
    if not period:
        return BoardView(board, lanes, columns, counts, {}, {}, None, None, now, None, None)
    tz = ZoneInfo(board.timezone)
    found = current_period(board.id, now.astimezone(tz).date())
    start, end = found.bounds(tz)
    in_sprint = found.sprint_id is not None
    return BoardView(board, lanes, columns, counts, {}, {}, start, end, now, found.name, in_sprint)


def _done_tiles(view: BoardView, lanes: list[Lane], per_lane: int) -> list[Tile]:
    """Each lane's latest cards done this period (at most per_lane); each lane's total is
    noted in the view."""
    params = {"board_id": view.board.id, "start": view.period_start, "per_lane": per_lane}
    params |= {"lane_0": None} | {f"lane_{i}": lane.id for i, lane in enumerate(lanes)}
    found = []
    for card, total in _tiles(_done_statement(len(lanes)), params, view.now):
        view.done_total[card.lane_id] = total
        found.append(card)
    return found


def _add_done(view: BoardView, lanes: list[Lane], per_lane: int) -> None:
    """Each lane's latest cards done this period (at most per_lane), and its total."""
    for card in _done_tiles(view, lanes, per_lane):
        view.cells.setdefault((card.lane_id, card.column_id), []).append(card)
        view.done_shown[card.lane_id] = view.done_shown.get(card.lane_id, 0) + 1


def members(board_id: int) -> list[tuple[User, str]]:
    """The board's people and their roles, by name (case-insensitive)."""
    rows = db.session.execute(
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.board_id == board_id)
        .order_by(func.lower(User.name), User.id)
    )
    return [(user, role) for user, role in rows]


def card_history(card_id: int):
    """A card's events, oldest first, with who made them."""
    return list(
        db.session.execute(
            select(CardEvent)
            .options(joinedload(CardEvent.actor))
            .where(CardEvent.card_id == card_id)
            .order_by(CardEvent.id)
        ).scalars()
    )


def archive(board: Board, *, text: str, page: int, per_page: int) -> search.Ranked:
    """Done and closed cards, one page: newest first, or with a search text the ones that
    match it, best first (services.search), and how many there are."""
    finished = (CardStatus.DONE, CardStatus.CLOSED)
    query = parse_query(text)
    if not query.empty:
        return search.ranked(board.id, query, finished, page=page, per_page=per_page)
    where = (Card.board_id == board.id, Card.status.in_(finished))
    total = db.session.execute(select(func.count()).select_from(Card).where(*where)).scalar_one()
    cards = list(
        db.session.execute(
            select(Card)
            .where(*where)
            .options(joinedload(Card.assignee), joinedload(Card.lane))
            .order_by(func.coalesce(Card.done_at, Card.closed_at).desc(), Card.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        ).scalars()
    )
    return search.Ranked(cards, total)


def listed_cards(
    board: Board, *, shown: BoardFilter | None, me: int | None, after: int | None, limit: int
) -> tuple[list[Tile], bool]:
    """One page of the board's open cards that the filter admits (as the board page shows
    them: its chips and its search), by id, after the card id `after`; and whether more
    follow. The API's card list. Unfiltered, only the page is read (bench: api_list_cards_ms:
    reading all 2,000 open cards of a board to answer 50 took 20 ms of CPU); a filter reads
    them all, as the board page does, since its chips ask each card."""
    now = clock.now()
    if shown is None or shown.empty:
        params = {"board_id": board.id, "after": after or 0, "limit": limit + 1}
        tiles = [tile for (tile,) in _tiles(_page_statement(), params, now)]
        return tiles[:limit], len(tiles) > limit
    lanes, _columns = lanes_and_columns(board.id)
    tiles = [tile for (tile,) in _tiles(_open_statement(), {"board_id": board.id}, now)]
    admitted = _admitted(tiles, lanes, shown, me)
    ordered = sorted(
        (t for t in tiles if (admitted is None or t.id in admitted) and (after or 0) < t.id),
        key=lambda t: t.id,
    )
    return ordered[:limit], len(ordered) > limit


@functools.cache
def _page_statement() -> Select:
    """A page of the board's open cards by id, after a card id (the API's card list)."""
    return (
        select(*TILE_COLUMNS)
        .outerjoin(User, User.id == Card.assignee_id)
        .where(
            Card.board_id == bindparam("board_id"),
            Card.status == CardStatus.OPEN,
            Card.id > bindparam("after"),
        )
        .order_by(Card.id)
        .limit(bindparam("limit"))
    )
