"""Webhooks' rules: addresses (SSRF), the events a card event makes, the signature."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.domain import webhooks
from tracker.domain.errors import InvalidRequest
from tracker.domain.vocabulary import CardStatus, EventKind, LaneKind, WebhookEvent


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/wb",
        "http://chat.example.org:8080/in?x=1",
        "https://[2001:db8::1]/",
    ],
)
def test_http_and_https_addresses_are_kept(url):
    assert webhooks.check_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "",
        "ftp://example.com/x",
        "file:///etc/passwd",
        "gopher://example.com",
        "javascript:alert(1)",
        "https://",
        "https://user:pass@example.com/",
        "https://example.com/#frag",
        "https://example.com:0/",
        "https://example.com:99999/",
        "https://exa mple.com/",
        "https://example.com/" + "x" * 2001,
    ],
)
def test_other_addresses_are_refused(url):
    with pytest.raises(webhooks.RefusedAddress):
        webhooks.check_url(url)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.1.2.3",
        "10.0.0.5",
        "172.16.3.4",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # shared address space
        "0.0.0.0",  # noqa: S104 - an address judged, not bound
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",  # IPv4 written as IPv6
        "::ffff:10.0.0.1",
        "224.0.0.1",
        "192.0.2.10",  # documentation
        "not-an-address",
    ],
)
def test_internal_addresses_are_refused_unless_allowed(address):
    assert not webhooks.address_allowed(address, allow_private=False)


def test_private_addresses_are_allowed_when_the_admin_says_so_but_never_multicast():
    assert webhooks.address_allowed("127.0.0.1", allow_private=True)
    assert webhooks.address_allowed("10.1.2.3", allow_private=True)
    assert not webhooks.address_allowed("224.0.0.1", allow_private=True)
    assert not webhooks.address_allowed("0.0.0.0", allow_private=True)  # noqa: S104


def test_global_addresses_are_allowed():
    for address in ("93.184.215.14", "2606:4700:4700::1111", "::ffff:8.8.8.8"):
        assert webhooks.address_allowed(address, allow_private=False)


def test_one_internal_answer_refuses_the_whole_host():
    with pytest.raises(webhooks.RefusedAddress, match="10.0.0.1"):
        webhooks.check_addresses("rebind.example", ["93.184.215.14", "10.0.0.1"], False)
    with pytest.raises(webhooks.RefusedAddress):
        webhooks.check_addresses("nothing.example", [], True)
    assert webhooks.check_addresses("a.example", ["8.8.8.8", "8.8.8.8"], False) == ["8.8.8.8"]


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body():
    body = b'{"event":"ping"}'
    expected = hmac.new(b"k3y", b"1764500000." + body, hashlib.sha256).hexdigest()
    assert webhooks.signature("k3y", 1764500000, body) == "v1=" + expected


@given(st.binary(max_size=200), st.text(min_size=1, max_size=20), st.integers(0, 2**40))
def test_a_signature_verifies_only_with_its_secret_body_and_time(body, secret, timestamp):
    header = webhooks.signature(secret, timestamp, body)
    assert webhooks.verify(secret, str(timestamp), body, header, now=timestamp)
    assert not webhooks.verify(secret + "x", str(timestamp), body, header, now=timestamp)
    assert not webhooks.verify(secret, str(timestamp), body + b" ", header, now=timestamp)
    assert not webhooks.verify(secret, str(timestamp), body, header, now=timestamp + 301)


def test_events_a_card_history_event_makes():
    def made(kind, changes=None, lane=LaneKind.SUPPORT, filed=False):
        return webhooks.events_for(kind, changes or {}, lane_kind=lane, filed=filed)

    assert made(EventKind.CREATED) == [WebhookEvent.CARD_CREATED]
    assert made(EventKind.CREATED, filed=True, lane=LaneKind.EXPEDITE) == [
        WebhookEvent.CARD_CREATED,
        WebhookEvent.REQUEST_FILED,
        WebhookEvent.EXPEDITE_OPENED,
    ]
    assert made(EventKind.MOVED, {"column_id": [1, 2]}) == [WebhookEvent.CARD_MOVED]
    done = {"column_id": [2, 3], "status": [CardStatus.OPEN, CardStatus.DONE]}
    assert made(EventKind.MOVED, done) == [WebhookEvent.CARD_MOVED, WebhookEvent.CARD_DONE]
    assert made(EventKind.ESCALATED, {"lane_id": [2, 1]}) == [
        WebhookEvent.CARD_MOVED,
        WebhookEvent.EXPEDITE_OPENED,
    ]
    assert made(EventKind.PULLED, {"column_id": [1, 2], "assignee_id": [None, 4]}) == [
        WebhookEvent.CARD_MOVED
    ]
    assert made(EventKind.MITIGATED, lane=LaneKind.EXPEDITE) == [WebhookEvent.EXPEDITE_MITIGATED]
    assert made(EventKind.EDITED, {"title": ["a", "b"]}) == []
    assert made(EventKind.COMMENTED) == []


def test_a_hook_hears_of_at_least_one_known_event():
    assert webhooks.check_events(["card.done", "card.created"]) == [
        WebhookEvent.CARD_CREATED,
        WebhookEvent.CARD_DONE,
    ]
    with pytest.raises(InvalidRequest):
        webhooks.check_events([])
    with pytest.raises(InvalidRequest):
        webhooks.check_events(["card.deleted"])
    with pytest.raises(InvalidRequest):
        webhooks.check_events([WebhookEvent.PING])  # the test button's, not a subscription
