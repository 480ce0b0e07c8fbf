"""Conversation on a card: what a comment may say, who is mentioned in it, how long its
author may still change it, and its Markdown-lite rendered as safe HTML.

Markdown-lite is deliberately small: paragraphs (a blank line), line breaks, `code` (a run
of backticks closed by a run of the same length, as in CommonMark), links made clickable
(http and https only) and @username mentions of the board's members. Nothing else is
markup: every other character of the comment is shown as typed.

The renderer escapes every fragment of the person's text before it builds any markup
around it, so what it returns is safe to show as it is (the web layer wraps it in Markup,
tracker.web.presenters.conversation). Pure Python: no framework.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

from tracker.domain.errors import InvalidRequest, NotAllowed
from tracker.domain.vocabulary import EventKind

COMMENT_LENGTH = 10_000
# A canned reply's title (services.desk: the desk's settings), as its form limits it too.
CANNED_TITLE_LENGTH = 60
# How long after writing it a person may still edit or delete their comment.
EDIT_WINDOW = timedelta(minutes=15)
# A mention: @ and a username's usual characters, not inside a word or an address
# (ann@example.com mentions nobody).
_MENTION = re.compile(r"(?<![\w@.])@([\w][\w.-]*)")
# A link: http or https, up to a space or a character that cannot end a bare link.
_LINK = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
_TRAILING = ".,;:!?*'\")]}"
_BACKTICKS = re.compile(r"`+")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
# The key of a comment event's changes that names the members it mentions, as
# {"mentioned": [[], [user ids]]}: notifications read it (a contract: keep key and shape).
MENTIONED = "mentioned"


def clean_body(body: str | None) -> str:
    """A comment's text as stored: NUL characters dropped, line endings made \\n, outer
    space stripped; refused when empty or longer than COMMENT_LENGTH."""
    text = (body or "").replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise InvalidRequest("Write the comment first.")
    if len(text) > COMMENT_LENGTH:
        raise InvalidRequest(f"Keep a comment to {COMMENT_LENGTH:,} characters or fewer.")
    return text


def still_changeable(written_at: datetime, now: datetime) -> bool:
    """Whether a comment written at `written_at` may still be edited or deleted at `now`."""
    return now - written_at < EDIT_WINDOW


def check_changeable(author_id: int | None, actor_id: int, written_at: datetime, now: datetime):
    """Refuse a change to a comment by anyone but its author (NotAllowed), and by its
    author once EDIT_WINDOW has passed since they wrote it (InvalidRequest)."""
    if author_id is None or author_id != actor_id:
        raise NotAllowed("Only the person who wrote a comment can edit or delete it.")
    if not still_changeable(written_at, now):
        minutes = int(EDIT_WINDOW.total_seconds() // 60)
        raise InvalidRequest(
            f"A comment can be edited or deleted for {minutes} minutes after it is written, "
            "and that time has passed for this one. Add a new comment instead."
        )


def mention_change(mentioned_ids: list[int]) -> dict[str, list[list[int]]]:
    """What a comment event notes of its mentions (MENTIONED), or nothing for none."""
    return {MENTIONED: [[], list(mentioned_ids)]} if mentioned_ids else {}


def new_watchers(kind: str, actor_id: int | None, changes: dict | None) -> set[int]:
    """Who starts watching a card through one of its history events: the person who
    created it or commented on it, whoever the event makes its assignee (a pull, an
    assignment, a card taken on a drag) and whoever a comment mentions."""
    changes = changes or {}
    found: set[int] = set()
    if kind in (EventKind.CREATED, EventKind.COMMENTED) and actor_id is not None:
        found.add(actor_id)
    assignee = changes.get("assignee_id")
    if assignee and assignee[1] is not None:
        found.add(assignee[1])
    mentioned_ids = changes.get(MENTIONED)
    if mentioned_ids and kind in (EventKind.COMMENTED, EventKind.COMMENT_EDITED):
        found.update(i for i in mentioned_ids[1] if isinstance(i, int))
    return found


# Reading the text -------------------------------------------------------------------------


@dataclass(frozen=True)
class Piece:
    """One run of a line: plain text, code, a link or a mention (text as typed)."""

    kind: str  # "text", "code", "link" or "mention"
    text: str


def _link_end(url: str) -> str:
    """A bare link without the punctuation that ends the sentence around it: "(see
    https://x.example/a)." links https://x.example/a, keeping a balanced ")" of the link."""
    while url and url[-1] in _TRAILING:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return url


def _mention_name(candidate: str, usernames: Collection[str]) -> str | None:
    """The member a mention names: the whole candidate, or without the dots and dashes
    that end the sentence ("thanks @ann." names ann). None for anyone else."""
    for name in (candidate, candidate.rstrip(".-")):
        if name and name.lower() in usernames:
            return name
    return None


def _plain(text: str, usernames: Collection[str]) -> Iterator[Piece]:
    """Text outside code: links first, then mentions in what is between them."""
    at = 0
    for found in _LINK.finditer(text):
        url = _link_end(found.group(0))
        if url.partition("://")[2]:
            yield from _mentions(text[at : found.start()], usernames)
            yield Piece("link", url)
            at = found.start() + len(url)
    yield from _mentions(text[at:], usernames)


def _mentions(text: str, usernames: Collection[str]) -> Iterator[Piece]:
    at = 0
    for found in _MENTION.finditer(text):
        name = _mention_name(found.group(1), usernames)
        if name is None:
            continue
        if found.start() > at:
            yield Piece("text", text[at : found.start()])
        yield Piece("mention", "@" + name)
        at = found.start() + 1 + len(name)
    if at < len(text):
        yield Piece("text", text[at:])


def pieces(line: str, usernames: Collection[str] = ()) -> list[Piece]:
    """One line of a comment as pieces. A run of backticks opens code that the next run of
    the same length closes; a run with no partner is plain text (so `a ``b`` c` is code
    "a ``b`` c", and a lone ` is a backtick). `usernames`: the board's members, lower case.
    """
    found: list[Piece] = []
    at = plain_from = 0
    while True:
        opening = _BACKTICKS.search(line, at)
        if opening is None:
            break
        run = opening.group(0)
        closing = _find_run(line, len(run), opening.end())
        if closing is None:
            at = opening.end()
            continue
        found.extend(_plain(line[plain_from : opening.start()], usernames))
        found.append(Piece("code", line[opening.end() : closing]))
        at = plain_from = closing + len(run)
    found.extend(_plain(line[plain_from:], usernames))
    return [piece for piece in found if piece.text or piece.kind == "code"]


def _find_run(line: str, length: int, start: int) -> int | None:
    """Where the next run of exactly `length` backticks begins, from `start`."""
    for run in _BACKTICKS.finditer(line, start):
        if len(run.group(0)) == length:
            return run.start()
    return None


def paragraphs(body: str) -> list[list[str]]:
    """The comment's paragraphs (split at blank lines), each a list of its lines."""
    text = body.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    return [block.split("\n") for block in _PARAGRAPH_BREAK.split(text) if block.strip()]


def mentioned(body: str, usernames: Collection[str]) -> list[str]:
    """The members a comment mentions (lower case, in order of first mention, each once):
    outside code and links, and only names in `usernames` (the board's, lower case)."""
    names: list[str] = []
    for lines in paragraphs(body):
        for line in lines:
            for piece in pieces(line, usernames):
                name = piece.text[1:].lower()
                if piece.kind == "mention" and name not in names:
                    names.append(name)
    return names


# Writing HTML -----------------------------------------------------------------------------


def _html(piece: Piece) -> str:
    text = escape(piece.text, quote=True)
    if piece.kind == "code":
        return f"<code>{text}</code>"
    if piece.kind == "link":
        return f'<a href="{text}" rel="nofollow noopener noreferrer">{text}</a>'
    if piece.kind == "mention":
        return f'<span class="mention">{text}</span>'
    return text


def render(body: str, usernames: Collection[str] = ()) -> str:
    """The comment as HTML: <p> per paragraph, <br> between its lines, <code>, <a> for http
    and https links, <span class="mention"> for a member's @username. Every fragment of the
    text is escaped (quotes too) before markup is built around it."""
    known = {name.lower() for name in usernames}
    out = []
    for lines in paragraphs(body):
        shown = ["".join(_html(piece) for piece in pieces(line, known)) for line in lines]
        out.append("<p>" + "<br>".join(shown) + "</p>")
    return "".join(out)
