"""The production-emergency banner every board page shows, and the poll that keeps it live."""

from __future__ import annotations

from flask import Blueprint, make_response, render_template, request

from tracker.domain.emergency import Banner
from tracker.services import emergency
from tracker.web.access import load_board

bp = Blueprint("emergency", __name__, url_prefix="/b/<int:board_id>")


@bp.app_template_global()
def emergency_banner(board_id: int) -> Banner:
    """The banner for a page's first render (templates/board/_emergency.html)."""
    return emergency.banner(board_id)


@bp.app_template_global()
def banner_cards(banner: Banner) -> str:
    """The waiting cards' ids, as the page sends them back with each poll."""
    return ",".join(str(alarm.card_id) for alarm in banner.alarms)


@bp.get("/emergency")
def check(board_id: int):
    """The banner fragment, or 204 when the page already shows what it would say.

    Read-only and cookie-free: it writes nothing, sets no cookie and renders no form, so a
    hundred pages asking every few seconds cost one small query each and nothing else.
    """
    board, _ = load_board(board_id)
    banner = emergency.banner(board.id)
    if request.args.get("key") == banner.key:
        response = make_response("", 204)
    else:
        # Announce (role="alert") only when the set of waiting cards changed, not each
        # minute the wait grows: a screen reader would repeat it every minute otherwise.
        announce = request.args.get("cards") != banner_cards(banner)
        response = make_response(
            render_template("board/_emergency.html", board=board, banner=banner, announce=announce)
        )
    response.headers["Cache-Control"] = "no-store"
    return response
