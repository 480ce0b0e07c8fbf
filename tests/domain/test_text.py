"""Untrusted text made safe to show, export or keep: addresses masked, spreadsheet formulas
neutralised, bidirectional controls removed, an erased person's mentions replaced."""

import pytest

from tracker.domain import text


def test_an_address_is_masked_to_its_first_letter_and_domain():
    assert text.mask_address("jane.roe@example.com") == "j***@example.com"
    assert text.mask_address("not an address") == "***"


def test_every_address_in_an_error_is_masked():
    error = (
        "SMTPRecipientsRefused: {'Jane.Roe@Example.com': (550, b'5.1.1 "
        "<Jane.Roe@Example.com>: Recipient address rejected'), 'x@y.org': (550, b'no')}"
    )
    masked = text.mask_addresses(error)
    assert "Jane.Roe@Example.com" not in masked and "x@y.org" not in masked
    assert masked.count("J***@Example.com") == 2 and "x***@y.org" in masked
    assert "Recipient address rejected" in masked
    assert text.mask_addresses("ConnectionRefusedError: [Errno 111]") == (
        "ConnectionRefusedError: [Errno 111]"
    )


@pytest.mark.parametrize("first", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_that_a_spreadsheet_would_run_is_quoted(first):
    cell = first + 'HYPERLINK("http://evil.example","x")'
    assert text.csv_cell(cell) == "'" + cell


@pytest.mark.parametrize("value", ["Sprint 1", "", "a=b", " =1", "'=1", 3, 2.5, None])
def test_other_cells_are_left_as_they_are(value):
    assert text.csv_cell(value) == value


def test_bidirectional_controls_are_removed_and_other_text_kept():
    tricky = "Invoice \u202egnp.exe\u202c \u2066x\u2069 \u200f"
    assert text.strip_bidi(tricky) == "Invoice gnp.exe x "
    assert text.strip_bidi("שלום Grüße") == "שלום Grüße"


def test_mentions_of_an_erased_person_are_replaced_whatever_the_case_or_spacing():
    written = "Jane  Roe (JANE.ROE@example.com) called; jane roe again. Janet stays."
    erased = text.erase_mentions(written, ["Jane Roe", "jane.roe@example.com"], "[erased]")
    assert erased == "[erased] ([erased]) called; [erased] again. Janet stays."
    assert text.erase_mentions("Ab", ["", " "], "[erased]") == "Ab"
    assert text.erase_mentions("Sample by Sam, sam.", ["Sam"], "[x]") == "Sample by [x], [x]."


def test_a_csv_document_neutralises_every_cell_and_keeps_numbers():
    document = text.csv_document([["name", "n"], ["=1+1", 3], ["-x", -2.5], ["ok", None]])
    assert document.splitlines() == ["name,n", "'=1+1,3", "'-x,-2.5", "ok,"]


def test_markup_stays_markup_without_its_bidirectional_controls():
    from markupsafe import Markup

    cleaned = text.strip_bidi(Markup("<b>a\u202eb</b>"))
    assert isinstance(cleaned, Markup) and cleaned == Markup("<b>ab</b>")
