"""The services' Host (tracker.services.host) for the Flask app running the call."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app


class FlaskHost:
    """Answers for whichever app is running the call (each test builds its own app)."""

    def config(self) -> Mapping[str, Any]:
        return current_app.config

    def status_path(self, token: str) -> str:
        return self.path("intake.status", token=token)

    def path(self, endpoint: str, **values: Any) -> str:
        # Mail is sent outside any request: build the path on the app's own URL map.
        return current_app.url_map.bind("", script_name="/").build(endpoint, values)

    def render_text(self, template: str, values: Mapping[str, Any]) -> str:
        # The app's Jinja environment (its trim_blocks and lstrip_blocks), without context
        # processors (no request here); .txt templates are not HTML-escaped.
        return current_app.jinja_env.get_template(template).render(**values)
