"""Replies by email: the reply address's signed token, and a reply's own words."""

from hypothesis import given
from hypothesis import strategies as st

from tracker.domain import inbound

SECRET = "not the real key"


@given(st.integers(1, 10**12 - 1))
def test_a_token_names_its_card_and_only_with_the_right_key(card_id):
    token = inbound.reply_token(SECRET, card_id)
    assert inbound.card_of_token(SECRET, token) == card_id
    assert inbound.card_of_token(SECRET.upper(), token) is None
    assert inbound.card_of_token(SECRET, token.replace(f"{card_id}.", f"{card_id + 1}.")) is None


@given(st.text(max_size=40))
def test_anything_else_names_no_card(text):
    assert inbound.card_of_token(SECRET, text) is None or text.strip().lower() == (
        inbound.reply_token(SECRET, int(text.strip().split(".")[0]))
    )


def test_the_reply_address_and_finding_its_token_again():
    token = inbound.reply_token(SECRET, 42)
    address = inbound.reply_address("support@example.com", token)
    assert address == f"support+{token}@example.com"
    headers = [f'"Support" <{address.upper()}>, other@example.com', "support@example.com"]
    assert inbound.tokens_in(headers, "support@example.com") == [token]
    assert inbound.tokens_in([f"support+{token}@evil.example"], "support@example.com") == []
    assert inbound.tokens_in(["not an address", ""], "support@example.com") == []


def test_quotes_and_signatures_are_cut():
    text = "Thanks, it works.\n\nOn Mon, 2 Mar 2026, Support <s@x> wrote:\n> old\n> text\n"
    assert inbound.without_quote_and_signature(text) == "Thanks, it works."
    wrapped = "Yes.\r\nOn Mon, 2 Mar 2026 at 10:00, Support\r\n<s@x> wrote:\r\n> old\r\n"
    assert inbound.without_quote_and_signature(wrapped) == "Yes."
    signed = "See above.\n" + "-- " + "\nRita\nCustomer Ltd."
    assert inbound.without_quote_and_signature(signed) == "See above."
    outlook = "Fine.\n\n-----Original Message-----\nFrom: Support\nSent: today\n"
    assert inbound.without_quote_and_signature(outlook) == "Fine."
    phone = "Ok\n\nSent from my iPhone"
    assert inbound.without_quote_and_signature(phone) == "Ok"
    own = "From: my colleague, the error is back.\nIt says 500."
    assert inbound.without_quote_and_signature(own) == own
    inline = "> Could you try again?\nI did, same.\n> And the log?\nAttached below."
    assert inbound.without_quote_and_signature(inline) == "I did, same.\nAttached below."


def test_html_becomes_text_without_scripts_or_quotes():
    html = (
        "<p>Works <b>now</b></p><style>p{}</style><script>x()</script><blockquote>old</blockquote>"
    )
    assert inbound.html_to_text(html) == "Works now"
