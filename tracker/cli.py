"""Flask commands: create-user, add-member, create-board, seed-demo, send-mail,
send-digests."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy import select

from tracker import database
from tracker.domain.errors import DomainError
from tracker.domain.vocabulary import Role
from tracker.domain.wording import counted
from tracker.extensions import db
from tracker.models import Board, User
from tracker.services import boards, inbound, notifications, reports, users, webhooks
from tracker.services.mail import background, delivery, outbox


def register(app: Flask) -> None:
    commands = (
        warm_reports,
        create_user,
        add_member,
        create_board,
        seed_demo,
        send_mail,
        send_digests,
        send_webhooks,
        fetch_replies,
    )
    for command in commands:
        app.cli.add_command(command)


@click.command("create-user")
@with_appcontext
@click.argument("username")
@click.option("--name", default="", help="Full name shown on cards (default: the username).")
@click.option("--email", default=None)
@click.option("--admin", is_flag=True, help="Site-wide admin: manages people and boards.")
@click.password_option(
    help="At least 10 characters, not common or repetitive; asked for when not given."
)
def create_user(username: str, name: str, email: str | None, admin: bool, password: str) -> None:
    """Add a person who can log in."""
    try:
        user = users.create_user(username, name or username, password, is_admin=admin, email=email)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"Created {user.username}{' (admin)' if admin else ''}.")


@click.command("create-board")
@with_appcontext
@click.argument("name")
@click.option("--timezone", default="UTC", help="IANA name, e.g. Europe/Berlin.")
def create_board(name: str, timezone: str) -> None:
    """Create a board with the default lanes and columns."""
    try:
        board = boards.create_board(name, timezone)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"Created board {board.id}: {board.name}.")


@click.command("add-member")
@with_appcontext
@click.argument("board_id", type=int)
@click.argument("username")
@click.argument("role", type=click.Choice([role.value for role in Role] + ["none"]))
def add_member(board_id: int, username: str, role: str) -> None:
    """Give a person a role on a board ("none" removes them)."""
    board = db.session.get(Board, board_id)
    user = db.session.execute(
        select(User).where(User.username == users.normal_username(username))
    ).scalar_one_or_none()
    if board is None or user is None:
        raise click.ClickException("No such board or person.")
    boards.set_membership(board, user, None if role == "none" else role)
    click.echo(f"{user.username} is now {role} on {board.name}.")


@click.command("warm-reports")
@with_appcontext
def warm_reports() -> None:
    """Compute and store every board's capacity-report figures for finished periods.

    The report does this itself on its first view after a period ends (about 2 s on a big
    board); run this from cron shortly after each sprint or week ends so nobody waits.
    """
    # The figures are computed in read transactions (on SQLite the app's writers go on
    # meanwhile) and stored in short write transactions of their own (reports._store).
    with database.reading():
        boards_ = db.session.execute(select(Board).order_by(Board.id)).scalars().all()
        for board in boards_:
            reports.build_report(board)
    click.echo(f"Stored the finished periods' figures of {counted(len(boards_), 'board')}.")


@click.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """Create the demo people and board with sixteen weeks of history (once; safe to rerun)."""
    # Imported here, not at the top: the demo's sample data (a thousand lines) serves this
    # command only, and every process that builds the app (a web worker) loads this module.
    from tracker import demo

    state = demo.seed_state()
    if state == demo.COMPLETE:
        click.echo("The demo is already there; nothing to do.")
        return
    if state == demo.PARTIAL:
        raise click.ClickException(PARTIAL_DEMO)
    summary = demo.seed()
    click.echo(summary)


PARTIAL_DEMO = """An earlier seed-demo stopped before it finished: this database holds only part of
the demo. Start over with an empty database:
  - the default SQLite database: stop the app, delete instance/weatherboard.sqlite3 (with its
    -wal and -shm files), then run `make run` again;
  - any other database: drop and create it again, then run `flask db upgrade` and
    `flask seed-demo`."""


@click.command("send-mail")
@with_appcontext
@click.option("--limit", default=200, show_default=True, help="Send at most this many.")
def send_mail(limit: int) -> None:
    """Send the mail to requesters that is due, retries included (run it every few minutes
    from cron or a systemd timer)."""
    if not outbox.configured():
        click.echo("Mail is not set up (TRACKER_SMTP_HOST and friends): nothing to send.")
        return
    done = delivery.deliver_pending(limit)
    click.echo(f"Sent {done.sent}; {done.retrying} will be retried; {done.given_up} given up.")
    if done.retrying or done.given_up:
        raise click.exceptions.Exit(1)  # cron or the timer reports the failure


@click.command("send-digests")
@with_appcontext
@click.option(
    "--day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The day to send (YYYY-MM-DD); by default yesterday in each person's time zone.",
)
def send_digests(day) -> None:
    """Mail each person who chose a daily digest the notifications of one day: yesterday in
    the time zone of their first board (UTC without one). Run it daily from cron, in the
    morning; a day is never sent twice to anyone, however often or concurrently it runs."""
    if not outbox.configured():
        click.echo("Mail is not set up (TRACKER_SMTP_HOST and friends): nothing to send.")
        return
    done = notifications.send_digests(day=day.date() if day else None)
    delivered = delivery.deliver_pending()
    for thread in background.background_senders():  # started by the commits above
        thread.join(timeout=60)
    click.echo(
        f"Digests: {counted(done.sent, 'digest email')} written, {done.already} sent before for "
        f"that day. Mail sent now: {delivered.sent}; {delivered.retrying} will be retried "
        "(by `flask send-mail`)."
    )


@click.command("send-webhooks")
@with_appcontext
@click.option("--limit", default=200, show_default=True, help="Send at most this many.")
def send_webhooks(limit: int) -> None:
    """Post the outgoing webhooks that are due, retries included (run it every few minutes
    from cron or a systemd timer: a retry waits for the next change or for this)."""
    done = webhooks.deliver_pending(limit)
    click.echo(f"Sent {done.sent}; {done.retrying} will be retried; {done.given_up} given up.")
    if done.retrying or done.given_up:
        raise click.exceptions.Exit(1)  # cron or the timer reports the failure


@click.command("fetch-replies")
@with_appcontext
def fetch_replies() -> None:
    """File the requesters' replies by email: read the desk's IMAP mailbox (TRACKER_IMAP_*
    settings) and put each new reply on its request. Run it every few minutes from cron;
    a mail is never filed twice."""
    if inbound.imap_settings() is None:
        click.echo(
            "Replies by email are not set up (TRACKER_MAIL_REPLY_ADDRESS, TRACKER_IMAP_HOST, "
            "TRACKER_IMAP_USER and friends): nothing to read."
        )
        return
    done = inbound.fetch_replies()
    for thread in background.background_senders():  # the polite answers to attachments
        thread.join(timeout=60)
    words = ", ".join(f"{outcome} {n}" for outcome, n in sorted(done.outcomes.items()))
    click.echo(f"Read {done.seen} mails" + (f": {words}." if words else "."))
