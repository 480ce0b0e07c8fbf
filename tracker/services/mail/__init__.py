"""Mail to requesters: an outbox written with the change, delivered after the commit.

- outbox: the services that change a request (intake.file_request, intake.add_comment with
  a reply, cards.move_card into a done column, cards.close_card) call a queue_* function
  inside their transaction. It adds an OutboundMail row, so the change and its mail commit
  together or not at all, and marks the session as having written mail.
- background: when that session commits, a background thread of this process sends what is
  due (tracker.subscribers makes the after-commit call).
- delivery: claims each due row, talks to the SMTP server, and records the outcome. A mail
  server that is down never fails or slows the change: the row stays pending and is retried
  with growing pauses, by the next change's thread, by `flask send-mail` (run it from cron
  or a systemd timer), or by a lead's "Retry now" (services.settings, with the failures
  the settings page shows).

Mail says only what the requester's status link shows: the reference, the title, the
plain-words status, the reply the team chose to send, and (in the first mail) the link.
Never an internal note, the description, or anything else of the board.
"""
