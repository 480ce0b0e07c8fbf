"""Conversation rules (tracker.domain.conversation): Markdown-lite rendered safely, who a
comment mentions, who an event makes a watcher, and the edit window."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.domain import conversation
from tracker.domain.conversation import (
    EDIT_WINDOW,
    check_changeable,
    clean_body,
    mentioned,
    new_watchers,
    render,
    still_changeable,
)
from tracker.domain.errors import InvalidRequest, NotAllowed
from tracker.domain.vocabulary import EventKind

MEMBERS = {"ann", "lee", "bo.b"}
LINK = 'rel="nofollow noopener noreferrer"'


@pytest.mark.parametrize(
    "body, html",
    [
        ("plain words", "<p>plain words</p>"),
        ("one\ntwo", "<p>one<br>two</p>"),
        ("one\n\ntwo\n \n\nthree", "<p>one</p><p>two</p><p>three</p>"),
        ("\n\n  padded  \n\n", "<p>  padded  </p>"),
        ("run `make test` now", "<p>run <code>make test</code> now</p>"),
        ("``a `tick` b``", "<p><code>a `tick` b</code></p>"),
        ("`a ``b`` c`", "<p><code>a ``b`` c</code></p>"),
        ("a lone ` stays", "<p>a lone ` stays</p>"),
        ("``open and `close", "<p>``open and `close</p>"),
        (
            "see https://example.com/a?b=1&c=2.",
            f'<p>see <a href="https://example.com/a?b=1&amp;c=2" {LINK}>'
            "https://example.com/a?b=1&amp;c=2</a>.</p>",
        ),
        (
            "(http://example.com/wiki/X_(y))",
            f'<p>(<a href="http://example.com/wiki/X_(y)" {LINK}>'
            "http://example.com/wiki/X_(y)</a>)</p>",
        ),
        (
            "hi @ann, and @lee.",
            '<p>hi <span class="mention">@ann</span>, and <span class="mention">@lee</span>.</p>',
        ),
        ("@Ann", '<p><span class="mention">@Ann</span></p>'),
        ("@bo.b.", '<p><span class="mention">@bo.b</span>.</p>'),
        ("@nobody here", "<p>@nobody here</p>"),
        ("mail ann@example.com", "<p>mail ann@example.com</p>"),
        ("`@ann` in code", "<p><code>@ann</code> in code</p>"),
        (
            "https://example.com/@ann",
            f'<p><a href="https://example.com/@ann" {LINK}>https://example.com/@ann</a></p>',
        ),
        ("`https://example.com`", "<p><code>https://example.com</code></p>"),
        ("**not bold** _nor_ # heading", "<p>**not bold** _nor_ # heading</p>"),
        (
            "[text](https://example.com)",
            f'<p>[text](<a href="https://example.com" {LINK}>https://example.com</a>)</p>',
        ),
    ],
)
def test_markdown_lite(body, html):
    assert render(body, MEMBERS) == html


@pytest.mark.parametrize(
    "body",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        'https://example.com/"onmouseover="alert(1)',
        "https://example.com/'onmouseover='alert(1)",
        "https://example.com/<script>",
        "`</code><script>alert(1)</script>`",
        "``a`</code><b>`b``",
        '<a href="javascript:alert(1)">x</a>',
        "@ann<script>",
        "&lt;b&gt; already escaped",
        "line\n<iframe src=https://evil.example>",
    ],
)
def test_no_markup_of_the_persons_own_comes_through(body):
    html = render(body, MEMBERS)
    # The only tags are the renderer's own, and the only href an http(s) link.
    tags = re.findall(r"<\s*/?\s*([a-zA-Z]+)", html)
    assert set(tags) <= {"p", "br", "code", "a", "span"}
    assert not re.search(r"<(script|img|iframe|b)\b", html)
    for href in re.findall(r'href="([^"]*)"', html):
        assert href.startswith(("http://", "https://")), href
        assert "<" not in href and ">" not in href and "'" not in href
    # No attribute but the renderer's own: a quote in the text never closes one.
    attributes = re.findall(r"\s([a-z-]+)=", "".join(re.findall(r"<[^>]*>", html)))
    assert set(attributes) <= {"href", "rel", "class"}
    assert "javascript:" not in "".join(re.findall(r'href="[^"]*"', html)).lower()


@given(st.text(alphabet=st.sampled_from(list("<>&\"'`@ann:/httpsx.\n ()javascript")), max_size=80))
def test_any_text_renders_to_its_own_words_and_the_renderers_tags_only(body):
    html = render(body, MEMBERS)
    tags = re.findall(r"<([a-zA-Z/][^>]*)>", html)
    for tag in tags:
        assert re.fullmatch(
            r'/?(p|br|code|span( class="mention")?|a( href="https?://[^"<>\']+" '
            r'rel="nofollow noopener noreferrer")?)',
            tag,
        ), tag
    # Taking the tags out and unescaping gives the text back, bar the paragraph breaks and
    # the backticks around code.
    text = re.sub(r"<br>", "\n", html)
    text = re.sub(r"</p><p>", "\n\n", text)
    text = re.sub(r"<[^>]+>", "", text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
    text = text.replace("&#x27;", "'").replace("&amp;", "&")
    # Backticks go after the split: a line of a lone backtick would read as a break.
    blocks = text.split("\n\n") if html else []
    kept = [" ".join(block.split("\n")).replace("`", "") for block in blocks]
    wanted = [" ".join(lines).replace("`", "") for lines in conversation.paragraphs(body)]
    assert kept == wanted


def test_mentions_are_members_only_in_order_each_once_outside_code_and_links():
    body = "@lee look, @ann and @LEE again; @nobody; `@bo.b`; https://x.example/@bo.b @bo.b."
    assert mentioned(body, MEMBERS) == ["lee", "ann", "bo.b"]
    assert mentioned("no one here, ann@example.com", MEMBERS) == []


def test_clean_body_refuses_empty_and_too_long_and_keeps_the_text():
    assert clean_body("  a\r\nb\x00  ") == "a\nb"
    for empty in ("", "   \n ", None, "\x00"):
        with pytest.raises(InvalidRequest, match="Write the comment first"):
            clean_body(empty)
    assert clean_body("x" * conversation.COMMENT_LENGTH)
    with pytest.raises(InvalidRequest, match="10,000"):
        clean_body("x" * (conversation.COMMENT_LENGTH + 1))


WRITTEN = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


def test_the_author_may_change_a_comment_until_the_window_ends():
    assert timedelta(minutes=15) == EDIT_WINDOW
    last_moment = WRITTEN + EDIT_WINDOW - timedelta(microseconds=1)
    for now in (WRITTEN, WRITTEN + timedelta(minutes=14, seconds=59), last_moment):
        assert still_changeable(WRITTEN, now)
        check_changeable(7, 7, WRITTEN, now)
    for now in (WRITTEN + EDIT_WINDOW, WRITTEN + timedelta(days=3)):
        assert not still_changeable(WRITTEN, now)
        with pytest.raises(InvalidRequest, match="15 minutes"):
            check_changeable(7, 7, WRITTEN, now)


def test_nobody_else_may_change_a_comment_even_at_once():
    for author in (8, None):
        with pytest.raises(NotAllowed, match="Only the person who wrote"):
            check_changeable(author, 7, WRITTEN, WRITTEN)


@pytest.mark.parametrize(
    "kind, actor, changes, watchers",
    [
        (EventKind.CREATED, 1, {"lane_id": [None, 3]}, {1}),
        (EventKind.CREATED, 1, {"assignee_id": [None, 2]}, {1, 2}),
        (EventKind.PULLED, 1, {"assignee_id": [None, 1]}, {1}),
        (EventKind.ASSIGNED, 1, {"assignee_id": [None, 2]}, {2}),
        (EventKind.ASSIGNED, 1, {"assignee_id": [2, None]}, set()),
        (EventKind.MOVED, 1, {"column_id": [1, 2], "assignee_id": [None, 1]}, {1}),
        (EventKind.MOVED, 1, {"column_id": [1, 2]}, set()),
        (EventKind.COMMENTED, 1, {}, {1}),
        (EventKind.COMMENTED, 1, {"mentioned": [[], [2, 3]]}, {1, 2, 3}),
        (EventKind.COMMENT_EDITED, 1, {"mentioned": [[], [4]]}, {4}),
        (EventKind.COMMENT_DELETED, 1, {}, set()),
        (EventKind.BLOCKED, 1, {"blocked": [False, True]}, set()),
        (EventKind.CREATED, None, {}, set()),
    ],
)
def test_who_an_event_makes_a_watcher(kind, actor, changes, watchers):
    assert new_watchers(kind, actor, changes) == watchers


def test_a_comment_notes_its_mentions_in_the_agreed_shape():
    assert conversation.mention_change([5, 2]) == {"mentioned": [[], [5, 2]]}
    assert conversation.mention_change([]) == {}
