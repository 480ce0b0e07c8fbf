"""A person's notifications: the list, marking read, and the unsubscribe link in their mail
(thin adapters over tracker.services.notifications). The bell in the header shows the
unread count kept on the person's row (templates/notifications/_bell.html)."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_htmx import make_response
from flask_login import current_user

from tracker.domain.errors import DomainError, InvalidRequest
from tracker.extensions import htmx
from tracker.services import notifications
from tracker.web import errors
from tracker.web.forms import MarkReadForm
from tracker.web.params import parse_id

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


def bell(count: int, *, oob: bool = False) -> str:
    """The header's bell with an unread count (out of band for an htmx answer)."""
    return render_template("notifications/_bell.html", unread=count, oob=oob)


def _answer(html: str, count: int):
    """An htmx answer: the part that changed, with the bell out of band."""
    response = make_response(html + bell(count, oob=True))
    response.vary.add("HX-Request")
    return response


@bp.get("")
def show():
    """The person's notifications, newest first, a page at a time (?before=<id>)."""
    before = parse_id(request.args.get("before") or "")
    page = notifications.page(current_user.id, before=before)
    return render_template("notifications/page.html", page=page, before=before)


@bp.post("/read")
def mark_read():
    """Mark one notification read (the form names it; someone else's: 404)."""
    form = MarkReadForm()
    if not form.validate_on_submit():
        raise InvalidRequest("Say which notification to mark read.")
    notification_id = form.notification.data
    notifications.mark_read(current_user.id, notification_id)
    if htmx and not htmx.boosted:
        page = notifications.page(current_user.id, before=notification_id + 1, size=1)
        count = notifications.unread_count(current_user.id)
        html = "".join(
            render_template("notifications/_item.html", item=item) for item in page.items
        )
        return _answer(html, count)
    return redirect(url_for("notifications.show"), 303)


@bp.post("/read-all")
def mark_all_read():
    """Mark every notification of the person read."""
    notifications.mark_all_read(current_user.id)
    if htmx and not htmx.boosted:
        page = notifications.page(current_user.id)
        html = render_template("notifications/_list.html", page=page)
        return _answer(html, notifications.unread_count(current_user.id))
    return redirect(url_for("notifications.show"), 303)


@bp.get("/unsubscribe/<mail_token>")
def unsubscribe(mail_token: str):
    """What an unsubscribe link would turn off, and a button to do it: a GET changes
    nothing (mail scanners follow links)."""
    asked = notifications.read_unsubscribe(mail_token)
    return _private(
        render_template("notifications/unsubscribe.html", asked=asked, token=mail_token, done=False)
    )


@bp.post("/unsubscribe/<mail_token>")
def confirm_unsubscribe(mail_token: str):
    """Turn the mail the link names off (no login: the signed token is the proof)."""
    asked = notifications.unsubscribe(mail_token)
    return _private(
        render_template("notifications/unsubscribe.html", asked=asked, token=mail_token, done=True)
    )


def _private(html: str):
    """An unsubscribe page names a person (and its address holds their token): kept by no
    cache, whoever asks (security.add_headers does this for logged-in people only)."""
    response = make_response(html)
    response.headers["Cache-Control"] = "no-store"
    return response


def _bad_link(error: DomainError, status: int):
    return render_template("notifications/unsubscribe.html", error=error.message), status


errors.answer_refusals(
    bp,
    {"notifications.unsubscribe": _bad_link, "notifications.confirm_unsubscribe": _bad_link},
)
