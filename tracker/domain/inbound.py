"""Requesters' replies by email: the per-request reply address (plus addressing with a
token the server signs), and the words of a reply without the quoted mail and signature.

The token is `<card id>.<signature>`: the signature is an HMAC of the card id with the
secret key, so a token cannot be guessed or moved to another request, and nothing needs
storing. The reply address is the desk's mailbox with the token after a plus:
support+42.k3j2...@example.com.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable
from email.utils import getaddresses
from html.parser import HTMLParser

SIGNATURE_LENGTH = 16
TOKEN = re.compile(r"(\d{1,12})\.([a-z2-7]{16})")

# Where the quoted earlier mail starts in a reply (the common mail programs' lines).
QUOTE_HEADERS = (
    re.compile(r"^On .{0,300}wrote:\s*$", re.I | re.S),
    re.compile(r"^Am .{0,300}schrieb .{0,200}:\s*$", re.I | re.S),
    re.compile(r"^Le .{0,300}a écrit\s*:\s*$", re.I | re.S),
    re.compile(r"^-{2,}\s*Original Message\s*-{2,}\s*$", re.I),
    re.compile(r"^_{5,}\s*$"),
    re.compile(r"^From:\s.+$", re.I),
)
# Where a signature starts: the standard "-- " line, and the phones' sign-offs.
SIGNATURES = (
    re.compile(r"^-- ?$"),
    re.compile(r"^Sent from my \w+", re.I),
    re.compile(r"^Get Outlook for \w+", re.I),
)


def _signature(secret: str | bytes, card_id: int) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    digest = hmac.new(key, b"weatherboard reply address\0" + str(card_id).encode(), hashlib.sha256)
    return base64.b32encode(digest.digest()).decode("ascii").lower()[:SIGNATURE_LENGTH]


def reply_token(secret: str | bytes, card_id: int) -> str:
    """The request's reply token: its id and the server's signature of it."""
    return f"{card_id}.{_signature(secret, card_id)}"


def card_of_token(secret: str | bytes, token: str) -> int | None:
    """The card a token names, or None for a malformed or forged one."""
    match = TOKEN.fullmatch((token or "").strip().lower())
    if match is None:
        return None
    card_id = int(match.group(1))
    if not hmac.compare_digest(match.group(2), _signature(secret, card_id)):
        return None
    return card_id


def reply_address(mailbox: str, token: str) -> str:
    """The desk's mailbox address with the token after a plus: support+<token>@domain."""
    local, _, domain = mailbox.rpartition("@")
    return f"{local}+{token}@{domain}"


def tokens_in(headers: Iterable[str], mailbox: str) -> list[str]:
    """The tokens of the reply addresses in some address headers (To, Cc, Delivered-To...):
    addresses of the desk's mailbox with a plus part, in order, each once."""
    local, _, domain = mailbox.lower().rpartition("@")
    found: list[str] = []
    for _name, address in getaddresses([str(h) for h in headers]):
        mine, _, theirs = address.lower().rpartition("@")
        base, plus, token = mine.partition("+")
        if plus and base == local and theirs == domain and token not in found:
            found.append(token)
    return found


def without_quote_and_signature(text: str) -> str:
    """A reply's own words: the quoted earlier mail (a "On ... wrote:" line and what follows,
    lines starting with ">") and the signature left out; surrounding blank lines trimmed."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for i, line in enumerate(lines):
        stripped = line.strip()
        two = (stripped + " " + lines[i + 1].strip()) if i + 1 < len(lines) else stripped
        if any(p.match(stripped) or p.match(two) for p in QUOTE_HEADERS) and _quoted_after(
            lines, i
        ):
            break
        if any(p.match(line.rstrip("\n")) for p in SIGNATURES):
            break
        if stripped.startswith(">"):
            continue
        kept.append(line.rstrip())
    return "\n".join(kept).strip()


def _quoted_after(lines: list[str], i: int) -> bool:
    """Whether a quote header at line i is followed by quoted text (or is the mail's end):
    so a sentence of the reply's own that starts with "From:" is kept."""
    rest = [line for line in lines[i + 1 :] if line.strip()]
    if not rest:
        return True
    return lines[i].strip().lower().startswith(("on ", "am ", "le ", "-", "_")) or any(
        line.lstrip().startswith(">") or line.lower().startswith(("sent:", "to:", "subject:"))
        for line in rest[:4]
    )


class _Text(HTMLParser):
    BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "blockquote"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0
        self.quote = 0

    def handle_starttag(self, tag, attrs) -> None:
        if tag in ("script", "style", "head"):
            self.skip += 1
        if tag == "blockquote":
            self.quote += 1
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag) -> None:
        if tag in ("script", "style", "head"):
            self.skip = max(0, self.skip - 1)
        if tag == "blockquote":
            self.quote = max(0, self.quote - 1)
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data) -> None:
        if not self.skip and not self.quote:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """The text of an HTML-only mail: no markup, no scripts or styles, no quoted blocks."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    return re.sub(r"\n\s*\n+", "\n\n", text).strip()
