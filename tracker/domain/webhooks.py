"""Outgoing webhooks: which card events a hook hears of, what address it may be sent to
(SSRF: only http(s), only global addresses unless the admin allows private ones), and the
signature its receiver checks.

The signature is HMAC-SHA256 with the hook's secret over `<timestamp>.<body>` (the
timestamp in whole seconds since the epoch, as sent in the Weatherboard-Timestamp header),
sent as `Weatherboard-Signature: v1=<hex>`. Signing the timestamp with the body lets a
receiver refuse an old message replayed.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from tracker.domain.errors import InvalidRequest
from tracker.domain.vocabulary import CardStatus, EventKind, LaneKind, WebhookEvent

URL_LENGTH = 2_000
SIGNATURE_HEADER = "Weatherboard-Signature"
TIMESTAMP_HEADER = "Weatherboard-Timestamp"
EVENT_HEADER = "Weatherboard-Event"
DELIVERY_HEADER = "Weatherboard-Delivery"
SCHEME = "v1"
# What a lead can subscribe a hook to (PING is the test button's, sent whatever a hook hears).
SUBSCRIBABLE = tuple(e for e in WebhookEvent if e is not WebhookEvent.PING)
# History events that may tell a hook anything; any other (an edit, a comment) reads nothing.
CARD_KINDS = frozenset(
    {
        EventKind.CREATED,
        EventKind.MOVED,
        EventKind.PULLED,
        EventKind.ESCALATED,
        EventKind.DEESCALATED,
        EventKind.INTERRUPTED,
        EventKind.MITIGATED,
    }
)


class RefusedAddress(InvalidRequest):
    """The hook's address may not be sent to (a bad URL, or an address that is not global)."""


class Unresolved(RefusedAddress):
    """The host name resolves to no address (now: it may later)."""


def check_url(url: str) -> str:
    """A hook's address as kept: http(s) with a host, no user or password in it, no
    fragment; RefusedAddress saying what is wrong. The host's addresses are checked where
    it is resolved (check_host, and again at each send)."""
    url = (url or "").strip()
    if not url:
        raise RefusedAddress("Write the address to send to.")
    if len(url) > URL_LENGTH:
        raise RefusedAddress(f"The address is longer than {URL_LENGTH} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise RefusedAddress("That is not a web address.") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise RefusedAddress("Only http:// and https:// addresses can receive webhooks.")
    if not parts.hostname:
        raise RefusedAddress("The address has no host name.")
    if parts.username is not None or parts.password is not None:
        raise RefusedAddress("Leave user names and passwords out of the address.")
    if parts.fragment:
        raise RefusedAddress("Leave the #fragment out of the address.")
    if port == 0:
        raise RefusedAddress("The address's port must be between 1 and 65535.")
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise RefusedAddress("The address has spaces or control characters in it.")
    return url


def host_and_port(url: str) -> tuple[str, int, bool]:
    """The host to resolve, the port to connect to, and whether TLS is used."""
    parts = urlsplit(url)
    tls = parts.scheme.lower() == "https"
    return parts.hostname or "", parts.port or (443 if tls else 80), tls


def address_allowed(address: str, allow_private: bool) -> bool:
    """Whether a resolved IP address may be connected to: a global unicast one, or any
    unicast one when the admin allows private addresses (TRACKER_WEBHOOK_ALLOW_PRIVATE).
    Loopback, private, link-local (cloud metadata at 169.254.169.254), shared, reserved,
    multicast and unspecified addresses are refused by default; an IPv4 address written as
    IPv6 is judged as IPv4."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_multicast or ip.is_unspecified:
        return False
    return allow_private or ip.is_global


def check_addresses(host: str, addresses: Iterable[str], allow_private: bool) -> list[str]:
    """The addresses a host resolved to, if every one may be connected to (one bad answer
    refuses the lot: a name pointing at an internal address is not sent to at all)."""
    found = list(dict.fromkeys(addresses))
    if not found:
        raise RefusedAddress(f"{host} has no address.")
    refused = [a for a in found if not address_allowed(a, allow_private)]
    if refused:
        raise RefusedAddress(
            f"{host} points at {refused[0]}, an internal address: webhooks go only to "
            "public addresses (an admin may allow private ones)."
        )
    return found


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The Weatherboard-Signature header's value for a body sent at `timestamp`."""
    message = str(timestamp).encode("ascii") + b"." + body
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return f"{SCHEME}={digest}"


def verify(
    secret: str, timestamp: str, body: bytes, header: str, now: int, tolerance: int = 300
) -> bool:
    """What a receiver does (the README shows the same in a few lines): the signature
    matches and the timestamp is recent."""
    if not timestamp.isdigit() or abs(now - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, int(timestamp), body), header)


def check_events(chosen: Iterable[str]) -> list[WebhookEvent]:
    """The events a lead ticked, in the vocabulary's order; at least one."""
    chosen = set(chosen)
    unknown = chosen - set(SUBSCRIBABLE)
    if unknown:
        raise InvalidRequest(f"{sorted(unknown)[0][:40]!r} is not an event a hook can hear of.")
    events = [e for e in SUBSCRIBABLE if e in chosen]
    if not events:
        raise InvalidRequest("Choose at least one event for the hook.")
    return events


def events_for(
    kind: str,
    changes: Mapping[str, Any],
    *,
    lane_kind: str,
    filed: bool,
) -> list[WebhookEvent]:
    """The webhook events one card history event makes: a card created (and a request
    filed, an Expedite card opened), moved (and done, or opened by an escalation), an
    incident mitigated."""
    found: list[WebhookEvent] = []
    if kind == EventKind.CREATED:
        found.append(WebhookEvent.CARD_CREATED)
        if filed:
            found.append(WebhookEvent.REQUEST_FILED)
        if lane_kind == LaneKind.EXPEDITE:
            found.append(WebhookEvent.EXPEDITE_OPENED)
        return found
    if kind not in CARD_KINDS:
        return found
    if "column_id" in changes or "lane_id" in changes:
        found.append(WebhookEvent.CARD_MOVED)
    status = changes.get("status")
    if isinstance(status, list | tuple) and len(status) == 2 and status[1] == CardStatus.DONE:
        found.append(WebhookEvent.CARD_DONE)
    if kind == EventKind.ESCALATED:
        found.append(WebhookEvent.EXPEDITE_OPENED)
    if kind == EventKind.MITIGATED:  # an incident's (services.incidents.mitigate)
        found.append(WebhookEvent.EXPEDITE_MITIGATED)
    return found


def may_matter(kind: str) -> bool:
    """Whether a history event of this kind may make any webhook event (others read nothing)."""
    return kind in CARD_KINDS


def succeeded(status: int) -> bool:
    """A receiver's answer that counts as delivered: any 2xx."""
    return 200 <= status < 300
