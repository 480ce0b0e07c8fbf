"""What the services need from the app that runs them, asked through one small port.

The services never import Flask: the app's configuration (the secret key, the password
hash method, the mail settings), the status link's address and the mail templates come
from the Host that the app factory installs once (tracker.web.host.FlaskHost, which
answers for whichever app is running the call). A test or a script may install another.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class Host(Protocol):
    def config(self) -> Mapping[str, Any]:
        """The running app's configuration (tracker.config reads and checks it)."""

    def status_path(self, token: str) -> str:
        """The path of a requester's status page for this token (the app's route)."""

    def path(self, endpoint: str, **values: Any) -> str:
        """The path of one of the app's pages (an endpoint name and its values; values
        the route does not take become the query string)."""

    def render_text(self, template: str, values: Mapping[str, Any]) -> str:
        """A plain-text template (templates/<template>) rendered with these values."""


_installed: list[Host] = []


def install(host: Host) -> None:
    """Make host the one the services ask (the app factory calls this once per app)."""
    _installed[:] = [host]


def current() -> Host:
    """The installed host; a service called before any app was built has none."""
    if not _installed:
        raise RuntimeError("no Host installed: build the app with tracker.create_app first")
    return _installed[0]


def config() -> Mapping[str, Any]:
    """The running app's configuration."""
    return current().config()
