"""The demo's script: its people, board, calendar, rates, and the words on its cards.

Changing a figure here changes the story the demo tells (tracker.demo.replay plays it).
"""

from __future__ import annotations

import re
import unicodedata

from tracker.domain.vocabulary import LaneKind, Role

DEMO_PASSWORD = "weatherboard"  # noqa: S105 - the README shows it; demo mode only
# (username, name, site admin, role on the demo board); names with distinct initials,
# since cards show the assignee's initials.
PEOPLE = (
    ("admin", "Ada Schneider", True, None),
    ("lead", "Lee Park", False, Role.LEAD),
    ("mia", "Mia Wagner", False, Role.MEMBER),
    ("max", "Max Fischer", False, Role.MEMBER),
    ("noor", "Noor Haddad", False, Role.MEMBER),
    ("sam", "Sam Keller", False, Role.SUPPORT),
    ("vic", "Vic Laurent", False, Role.VIEWER),
)
# What each of them may do, as the seed's summary says it (README: "Roles").
ROLE_DOES = {
    None: "site admin: manages people and boards, reads every board",
    Role.LEAD: "lead (scrum master): all a member does, plus settings, sprints, WIP overrides",
    Role.MEMBER: "member: pulls, moves, edits and blocks cards",
    Role.SUPPORT: "support: files requests through intake and follows them; board read-only",
    Role.VIEWER: "viewer: reads the board and the report, changes nothing",
}
BOARD_NAME = "Platform team"
TIMEZONE = "Europe/Berlin"
WEEKS = 16
RANDOM_SEED = 4711
# Two-week sprints from the first simulated Monday up to the running one. Planned capacity:
# the lead and three members, ten days each, less the person-days of holiday of each sprint.
SPRINT_DAYS = 14
TEAM_DAYS = 40
HOLIDAYS = (0, 2, 0, 3, 1, 0, 4, 0, 2, 1)
SPRINT_POINTS = 20
# The support rotation: two of the lead and members on duty at once, for two sprints each,
# staggered so one of them changes every sprint.
ROTATION_ON_DUTY = 2
ROTATION_TERM_SPRINTS = 2
# The final scene's window is cut into this many steps (it takes a few dozen actions).
SCENE_SLOTS = 160

READY, PROGRESS, REVIEW, DONE = "Ready", "In progress", "Review", "Done"
ACTIVE = (PROGRESS, REVIEW)
# Cards a person takes on before they stop pulling; the lead also runs the team.
CAPACITY = {"lead": 1, "mia": 2, "max": 2, "noor": 2}
MEMBERS = ("mia", "max", "noor")
# Support requests per working day, week by week: a release in week 7 brings a wave.
SUPPORT_RATE = (1.1, 1.2, 1.4, 1.0, 0.9, 1.2, 2.4, 2.8, 2.0, 1.4, 1.1, 1.0, 1.3, 1.0, 0.9, 1.2)

COMPONENTS = {
    "billing": (
        "Invoice PDF shows the wrong VAT rate",
        "Card payment declined although the bank approved it",
        "Credit note missing from the monthly statement",
        "Refund stuck in pending for a week",
        "Proration wrong after a plan change",
        "Invoice numbers skip after the month change",
        "Dunning email sent to a customer who has paid",
    ),
    "login": (
        "Password reset link expires immediately",
        "Single sign-on loops back to the login page",
        "Locked out after changing the email address",
        "Two-factor codes rejected on one phone",
        "Session ends every few minutes in Safari",
        "Invitation link says the account already exists",
    ),
    "search": (
        "Search finds nothing for names with umlauts",
        "Results page takes 20 seconds for one customer",
        "Deleted documents still show up in search",
        "Filters reset when going back to the results",
        "Search ranks old tickets above new ones",
    ),
    "api": (
        "API returns 500 for orders with an empty note",
        "Webhook retries flood a customer's endpoint",
        "Rate limit hits a partner far below their plan",
        "Pagination skips records on the orders endpoint",
        "Timestamps in the API lack a time zone",
        "API key rotation breaks the old key at once",
    ),
    "exports": (
        "CSV export cuts off after 10,000 rows",
        "Excel opens the export with broken characters",
        "Scheduled export not delivered on Mondays",
        "Export dates shifted by one hour",
    ),
}
# How often a request concerns each component: most come from billing (the Flow page's
# "where support comes from" names it), as most bugs hide in a small part of the code.
COMPONENT_WEIGHTS = {"billing": 16, "login": 3, "search": 1, "api": 1, "exports": 1}
# A block now and then waits days on someone outside the team: the cycle-time outliers.
LONG_BLOCK_CHANCE = 0.25
LONG_BLOCK_HOURS = (35, 70)  # working hours
REPLY = "This is fixed and live now. Thank you for telling us, and let us know if you still see it."


def requester_email(requester: str) -> str:
    """ "Jana Novak (Northwind)" -> jana.novak@northwind.example (a reserved domain)."""
    name, _, company = requester.partition(" (")

    def slug(text: str, joint: str) -> str:
        plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
        return re.sub(r"[^a-z0-9]+", joint, plain.lower()).strip(joint)

    return f"{slug(name, '.')}@{slug(company.rstrip(')'), '-')}.example"


REQUESTERS = (
    "Jana Novak (Northwind)",
    "Tom Berger (Alpenblick GmbH)",
    "Priya Shah (Larkspur Ltd)",
    "Lukas Meier (Meier & Söhne)",
    "Aiko Tanaka (Sakura Foods)",
    "Chloé Martin (Atelier Lumière)",
    "Omar Haddad (Cedar Logistics)",
    "Eva Lindqvist (Nordkap AB)",
    "Marek Kowalski (Wisła Tools)",
    "Sofia Rossi (Trattoria Uno)",
    "Ben Okafor (Greenline Energy)",
    "Helga Schmidt (Stadtwerke Nord)",
)
EMERGENCIES = (
    ("Checkout returns 500 for every customer", "billing"),
    ("Nobody can log in: identity provider certificate expired", "login"),
    ("API gateway times out for all partners", "api"),
    ("Search index empty after the night's deploy", "search"),
    ("Payment webhooks failing, orders not confirmed", "billing"),
    ("Database disk full, writes failing", "api"),
    ("Login page blank after the CDN change", "login"),
)
# How each kind of emergency was mitigated (by its component), and the demo's reviews.
MITIGATIONS = {
    "billing": "Rolled the payment service back to the previous release",
    "login": "Switched sign-in to the standby certificate",
    "api": "Moved partner traffic to the second gateway pool",
    "search": "Rebuilt the index from last night's snapshot",
}
REVIEW_SECTIONS = {
    "what_happened": "The alert fired at the start of the morning; the first responder "
    "found the failing dependency within minutes and the rollback held.",
    "impact": "Customers could not finish what they came for for a little over an hour.",
    "contributing_factors": "The change passed every check we had: none of them covered "
    "this path, and the dashboards showed it only indirectly.",
    "went_well": "The page reached someone at once, the buddy was on the call, and the "
    "break-glass access was ended as soon as the fix was in.",
    "to_change": "Add a check for this path before release, and make the temporary fix permanent.",
}
FEATURES = (
    ("Two-factor login with an authenticator app", 5, "login"),
    ("Saved searches", 3, "search"),
    ("CSV export of invoices", 2, "exports"),
    ("Rate limits per API key", 5, "api"),
    ("Dark mode for the customer portal", 3, ""),
    ("Bulk edit of orders", 8, ""),
    ("Webhook delivery log for partners", 3, "api"),
    ("Search suggestions while typing", 5, "search"),
    ("Invoices in French and Italian", 3, "billing"),
    ("Single sign-on with Azure AD", 8, "login"),
    ("Scheduled exports to SFTP", 5, "exports"),
    ("Audit log of admin actions", 5, ""),
    ("Usage dashboard for account owners", 8, ""),
    ("Pay by SEPA direct debit", 8, "billing"),
    ("Filter orders by delivery date", 2, ""),
    ("API pagination with cursors", 3, "api"),
    ("Remember the last used filters", 1, "search"),
    ("Customer notes on the order page", 2, ""),
    ("Email receipts with the company logo", 2, "billing"),
    ("Export to Excel with formatting", 3, "exports"),
    ("Password strength meter", 1, "login"),
    ("Team invitations with roles", 5, "login"),
    ("OpenAPI description of the public API", 3, "api"),
    ("Highlight matches in search results", 2, "search"),
    ("Upgrade the PDF library", 3, "billing"),
    ("Archive old orders automatically", 5, ""),
    ("Keyboard shortcuts in the order list", 2, ""),
    ("Proforma invoices", 3, "billing"),
    ("Idempotency keys for order creation", 5, "api"),
    ("Search across attachments", 8, "search"),
    ("Delegated access for accountants", 5, "login"),
    ("Slack notifications for new orders", 3, ""),
    ("Show VAT per line on invoices", 2, "billing"),
    ("Webhook signatures with rotating secrets", 3, "api"),
    ("Faster order list for large accounts", 5, ""),
    ("Recent searches on the start page", 1, "search"),
    ("Monthly export of all invoices as ZIP", 3, "exports"),
    ("Session list with 'log out everywhere'", 3, "login"),
    ("Reorder from a past order", 2, ""),
    ("Sandbox accounts for partners", 8, "api"),
    ("Annual billing with a discount", 5, "billing"),
    ("Sort search results by date", 1, "search"),
    ("Magic-link login by email", 3, "login"),
    ("Batch endpoint for order updates", 5, "api"),
    ("Export filters remembered per user", 2, "exports"),
    ("Gift cards at checkout", 8, "billing"),
    ("Order status page for end customers", 5, ""),
    ("Retry button for failed webhooks", 2, "api"),
    ("Typo-tolerant search", 5, "search"),
    ("Login history for account owners", 2, "login"),
    ("Split payments across two cards", 5, "billing"),
    ("Custom fields on orders", 5, ""),
    ("GraphQL read API for partners", 8, "api"),
    ("Search by order number prefix", 1, "search"),
    ("Passkeys as a second factor", 5, "login"),
    ("Export of customer lists for mailings", 2, "exports"),
    ("Usage-based billing for API calls", 8, "billing"),
    ("Mobile layout for the order list", 3, ""),
    ("Webhook for refunds", 2, "api"),
    ("Faceted search by category", 5, "search"),
    ("IP allow-list for admin logins", 3, "login"),
    ("Invoices as e-invoices (XRechnung)", 5, "billing"),
    ("Duplicate an order as a template", 2, ""),
    ("Deprecation headers on old API versions", 2, "api"),
    ("Scheduled reports by email", 3, "exports"),
    ("Tax exemption for non-profits", 3, "billing"),
    ("Bulk import of products from CSV", 5, ""),
    ("Service accounts for integrations", 3, "login"),
    ("Search analytics for the product team", 3, "search"),
    ("Per-partner API usage dashboard", 5, "api"),
)
BLOCK_REASONS = {
    LaneKind.SUPPORT: (
        "Waiting for the customer's log files",
        "Waiting for the customer to confirm the steps to reproduce",
        "Needs access to the customer's tenant; asked their admin",
        "Waiting for the payment provider's support to answer",
    ),
    LaneKind.FEATURE: (
        "Waiting for the payment provider's sandbox keys",
        "Design review of the new screens is on Thursday",
        "Needs a decision from product on the pricing rules",
        "Blocked by the database upgrade in the ops team",
        "Waiting for legal to approve the wording",
    ),
}
