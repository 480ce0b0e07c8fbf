"""The search box's text as a query, and the board's filter as its address carries it."""

from __future__ import annotations

import pytest

from tracker.domain.board_filter import BoardFilter, parse_filter
from tracker.domain.errors import InvalidRequest
from tracker.domain.labels import AA_CONTRAST, PALETTE, clean_label, contrast, label_change
from tracker.domain.search import MAX_TERMS, parse_query

# --- the query ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "terms", "prefix"),
    [
        ("export", ("export",), True),
        ("export ", ("export",), False),
        ("Export CSV", ("export", "csv"), True),
        ("export csv.", ("export", "csv"), False),
        ("SUP-42", ("sup", "42"), True),
        ('"quoted" OR 1=1 --', ("quoted", "or", "1", "1"), False),
        ("ünïcödé", ("ünïcödé",), True),
        ("snake_case", ("snake", "case"), True),
        ("", (), False),
        ("   ", (), False),
        ("*&|!:()'\"", (), False),
        (None, (), False),
    ],
)
def test_a_query_holds_letters_and_digits_only(text, terms, prefix):
    query = parse_query(text)
    assert query.terms == terms
    assert query.prefix is prefix
    assert query.empty is (not terms)
    assert all(term.isalnum() for term in query.terms)


def test_a_long_query_keeps_its_first_words_whole():
    query = parse_query(" ".join(f"w{i}" for i in range(MAX_TERMS + 5)))
    assert len(query.terms) == MAX_TERMS
    assert query.prefix is False  # the word being typed was cut off


@pytest.mark.parametrize(
    ("text", "reference"),
    [("SUP-42", "SUP-42"), (" feat-7 ", "FEAT-7"), ("SUP 42", None), ("login", None)],
)
def test_a_reference_is_recognised(text, reference):
    assert parse_query(text).reference == reference


# --- the filter ---------------------------------------------------------------------------


def test_a_full_filter_is_parsed_and_written_back_in_one_order():
    pairs = [
        ("label", "3"),
        ("sev", "s1"),
        ("who", "me"),
        ("who", "12"),
        ("q", "export csv"),
        ("lane", "support"),
        ("blocked", "1"),
        ("age", "7"),
    ]
    parsed = parse_filter(pairs)
    assert parsed == BoardFilter(
        q="export csv",
        lanes=("support",),
        who=("me", "12"),
        severities=("S1",),
        blocked=True,
        older_than=7,
        labels=(3,),
    )
    assert parsed.people == (12,)
    assert parsed.chips == 7 and BoardFilter(q="x").chips == 0
    assert parse_filter(parsed.pairs()) == parsed
    assert [name for name, _ in parsed.pairs()] == [
        "q",
        "lane",
        "who",
        "who",
        "sev",
        "blocked",
        "age",
        "label",
    ]


@pytest.mark.parametrize(
    ("bad", "good"),
    [
        (("lane", "nowhere"), ("lane", "feature")),
        (("who", "somebody"), ("who", "nobody")),
        (("who", "0"), ("who", "7")),
        (("who", "99999999999"), ("who", "me")),
        (("sev", "S9"), ("sev", "S4")),
        (("blocked", "maybe"), ("blocked", "0")),
        (("age", "-3"), ("age", "3")),
        (("age", "٣"), ("age", "14")),
        (("age", "999999"), ("age", "30")),
        (("label", "x"), ("label", "5")),
        (("label", "1e3"), ("label", "2")),
        (("label", ""), ("label", "9")),
    ],
)
def test_a_bad_value_is_dropped_alone(bad, good):
    """Whatever the order, a nonsense value loses nothing else of the filter."""
    expected = parse_filter([good, ("q", "x")])
    assert expected != BoardFilter(q="x")
    assert parse_filter([bad, good, ("q", "x")]) == expected
    assert parse_filter([good, bad, ("q", "x")]) == expected


def test_unknown_names_and_repeats_are_ignored():
    parsed = parse_filter(
        [("lane", "support"), ("lane", "support"), ("page", "2"), ("csrf_token", "x")]
    )
    assert parsed == BoardFilter(lanes=("support",))


def test_the_old_only_mine_box_is_who_me():
    assert parse_filter([("mine", "1")]) == BoardFilter(who=("me",))
    assert parse_filter([("mine", "0")]).empty


def test_text_is_kept_as_typed_without_control_characters():
    assert parse_filter([("q", "")]).empty
    assert parse_filter([("q", "   ")]).empty
    assert parse_filter([("q", "  a\x00b ")]).q == "ab "
    assert len(parse_filter([("q", "x" * 500)]).q) == 100


CARD = {
    "lane_kind": "support",
    "assignee_id": 5,
    "severity": "S2",
    "blocked": True,
    "days": 4,
    "label_ids": (2, 3),
    "me": 5,
}


@pytest.mark.parametrize(
    ("pairs", "admitted"),
    [
        ([], True),
        ([("lane", "support")], True),
        ([("lane", "feature")], False),
        ([("lane", "feature"), ("lane", "support")], True),
        ([("who", "me")], True),
        ([("who", "nobody")], False),
        ([("who", "5")], True),
        ([("who", "6")], False),
        ([("sev", "S2")], True),
        ([("sev", "S1")], False),
        ([("blocked", "1")], True),
        ([("blocked", "0")], False),
        ([("age", "3")], True),
        ([("age", "4")], False),
        ([("label", "3")], True),
        ([("label", "1"), ("label", "2")], True),
        ([("label", "1")], False),
        ([("lane", "support"), ("sev", "S1")], False),
        ([("q", "anything")], True),  # the text is matched apart
    ],
)
def test_a_card_passes_every_kind_of_chip(pairs, admitted):
    assert parse_filter(pairs).admits(**CARD) is admitted


def test_nobody_admits_unassigned_cards_only():
    unassigned = CARD | {"assignee_id": None}
    assert parse_filter([("who", "nobody")]).admits(**unassigned)
    assert not parse_filter([("who", "me")]).admits(**unassigned)
    assert not parse_filter([("who", "me")]).admits(**(CARD | {"me": 6}))


# --- labels -------------------------------------------------------------------------------


@pytest.mark.parametrize("colour", PALETTE, ids=lambda c: c.key)
def test_every_label_colour_carries_its_text_at_aa_contrast(colour):
    assert contrast(colour.text, colour.background) >= AA_CONTRAST


def test_contrast_is_the_wcag_ratio():
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert contrast("#777777", "#777777") == 1.0


def test_a_label_needs_a_fresh_name_and_a_palette_colour():
    assert clean_label("  Needs   design ", "blue", ["Bug"]) == ("Needs design", "blue")
    for name, colour, message in [
        ("", "blue", "name"),
        ("x" * 31, "blue", "at most"),
        ("bug", "blue", "already"),
        ("Docs", "#ff0000", "colours"),
    ]:
        with pytest.raises(InvalidRequest, match=message):
            clean_label(name, colour, ["Bug"])
    assert clean_label("BUG", "red", ["Bug", "Docs"], renaming="Bug") == ("BUG", "red")


def test_a_label_change_is_recorded_sorted_and_only_when_there_is_one():
    assert label_change(["b", "A"], ["A", "b"]) is None
    assert label_change(["b"], ["c", "A"]) == [["b"], ["A", "c"]]
