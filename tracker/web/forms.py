"""Flask-WTF forms: the shape of input only. Rules are checked in the domain."""

from __future__ import annotations

import math

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    FieldList,
    FloatField,
    FormField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms import Form as PlainForm
from wtforms import (
    IntegerField as WTFormsIntegerField,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import HiddenInput

from tracker.domain.addresses import EMAIL_FORM_PATTERN, MAX_LENGTH
from tracker.domain.conversation import CANNED_TITLE_LENGTH, COMMENT_LENGTH
from tracker.domain.incidents import LOG_LENGTH
from tracker.domain.intake import REQUESTER_REPLY_LENGTH
from tracker.domain.labels import PALETTE
from tracker.domain.reviews import SECTION_LENGTH, TITLE_LENGTH
from tracker.domain.vocabulary import (
    ColumnKind,
    LaneKind,
    LimitMode,
    MailMode,
    Measure,
    NoticeKind,
    Role,
    Severity,
    TokenScope,
    Visibility,
)
from tracker.web.params import (
    FIRST_DAY,
    LAST_DAY,
    clean_text,
    parse_id,
    sensible_date,
    whole_number,
)

SEVERITIES = (("", "None"), *((s, f"{s} · {s.label}") for s in Severity))
MODES = (
    (LimitMode.STRICT, "strict (only a lead may override)"),
    (LimitMode.WITH_REASON, "with reason (anyone, with a written reason)"),
)
COLUMN_KINDS = tuple((kind, kind) for kind in ColumnKind)


UNFILTERED = (PasswordField, FormField, FieldList)


class IntegerField(WTFormsIntegerField):
    """WTForms' IntegerField, taking ASCII digits only and no number larger than any id or
    limit here (tracker.web.params.whole_number).

    Python's ints have no bound; a 400-digit number would overflow the float comparison in
    NumberRange and the database's integer columns. int() also takes "٣" and "1_0".
    """

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        value = valuelist[0]
        self.data = whole_number(value.strip() if isinstance(value, str) else value)
        if self.data is None:
            raise ValueError(self.gettext("Not a valid integer value."))


class SensibleDate:
    """A date within tracker.web.params.FIRST_DAY..LAST_DAY: year 1 or 9999 is a typing slip,
    and periods around such a date run off the ends of the calendar."""

    def __call__(self, form, field):
        if field.data is not None and sensible_date(field.data) is None:
            raise ValidationError(
                f"Give a date between {FIRST_DAY.day} {FIRST_DAY:%B %Y} "
                f"and {LAST_DAY.day} {LAST_DAY:%B %Y}."
            )


def choices(*pairs: tuple[str, str]) -> list[SelectChoice]:
    """SelectField choices in WTForms 3.3's form (tuples are deprecated)."""
    return [SelectChoice(value, label) for value, label in pairs]


def strip(value):
    """Strip surrounding space (Form and SubForm have already dropped control characters)."""
    return value.strip() if isinstance(value, str) else value


class CleanText:
    """Every field of a form is bound with tracker.web.params.clean_text as its first filter: no
    NUL or other control character reaches a query, a row or a page, whatever the field.

    Passwords keep what was typed (they are only hashed); a FormField or FieldList takes no
    filters, and the forms inside them are SubForms, cleaned field by field.
    """

    class Meta:
        def bind_field(self, form, unbound_field, options):
            if not issubclass(unbound_field.field_class, UNFILTERED):
                filters = [clean_text, *unbound_field.kwargs.get("filters", ())]
                options = {**options, "filters": filters}
            return unbound_field.bind(form=form, **options)


class Form(CleanText, FlaskForm):
    """The base of every form here: Flask-WTF's (CSRF), with text cleaned (CleanText)."""


class SubForm(CleanText, PlainForm):
    """A form repeated inside another (FieldList of FormField): no CSRF of its own."""


class EmptyForm(Form):
    """A POST button: only the CSRF token."""


class LoginForm(Form):
    username = StringField("Username", [DataRequired(), Length(max=64)], filters=[strip])
    password = PasswordField("Password", [DataRequired(), Length(max=256)])


class CardFieldsMixin:
    title = StringField(
        "Title", [DataRequired("Give the card a title."), Length(max=200)], filters=[strip]
    )
    description = TextAreaField("Description", [Optional(), Length(max=10_000)], filters=[strip])
    estimate = IntegerField(
        "Estimate (points)",
        [Optional(), NumberRange(0, 100, "An estimate is 0 to 100 points.")],
    )
    severity = SelectField("Severity", choices=choices(*SEVERITIES), default="")


ONE_TIME_KEY_SHAPE = r"^[A-Za-z0-9_-]{32,64}$"


class NewCardForm(CardFieldsMixin, Form):
    lane_id = IntegerField("Lane", [InputRequired()])
    # The form's one-time key (set when it is served): sent twice, it files one card.
    form_key = HiddenField(
        validators=[
            Optional(),
            Regexp(
                ONE_TIME_KEY_SHAPE, message="This form is incomplete; reload it and send it again."
            ),
        ]
    )


class EditCardForm(CardFieldsMixin, Form):
    component = StringField("Component", [Optional(), Length(max=80)], filters=[strip])
    requester = StringField("Requester", [Optional(), Length(max=200)], filters=[strip])
    version = IntegerField(validators=[InputRequired()], widget=HiddenInput())
    # The board's labels, as checkboxes; `labelled` says the form showed them (a form
    # without them leaves the card's labels as they are). Which ids are the board's is
    # the service's check (services.labels.put_labels).
    labels = SelectMultipleField("Labels", coerce=int, validate_choice=False)
    labelled = HiddenField()

    def label_ids(self) -> list[int] | None:
        return list(self.labels.data or []) if self.labelled.data == "1" else None

    def values(self) -> dict:
        return {
            "labels": self.label_ids(),
            "title": self.title.data,
            "description": self.description.data or "",
            "estimate": self.estimate.data,
            "severity": self.severity.data or None,
            "component": self.component.data or "",
            "requester": self.requester.data or "",
        }


class ActionForm(Form):
    """A card action's form (its markup carries csrf_token(), not a form field).

    CSRFProtect (tracker.extensions.csrf) checks the token of every POST before any view
    runs, the form field or htmx's X-CSRFToken header alike, so these forms do not check it
    a second time: making each form's own token costs more than the rest of the form.
    """

    class Meta:
        csrf = False


class MoveForm(ActionForm):
    """Where to put a card. `target` is "lane_id:column_id" (the keyboard select)."""

    target = StringField("Move to", [Optional(), Length(max=40)])
    lane_id = IntegerField("Lane", [Optional()])
    column_id = IntegerField("Column", [Optional()])
    after = IntegerField("After card", [Optional()])
    reason = StringField("Why go over the limit", [Optional(), Length(max=500)], filters=[strip])
    panel = HiddenField()

    def destination(self) -> tuple[int, int] | None:
        if self.target.data:
            lane, _, column = self.target.data.partition(":")
            lane_id, column_id = parse_id(lane), parse_id(column)
            if lane_id is None or column_id is None:
                return None
            return lane_id, column_id
        if self.lane_id.data is not None and self.column_id.data is not None:
            return self.lane_id.data, self.column_id.data
        return None


class ReorderForm(ActionForm):
    direction = SelectField(choices=choices(("up", "up"), ("down", "down")))
    panel = HiddenField()


class AssignForm(ActionForm):
    assignee = StringField("Assignee", [Optional(), Length(max=12)])
    reason = StringField("Why go over the limit", [Optional(), Length(max=500)], filters=[strip])
    panel = HiddenField()


class BlockForm(ActionForm):
    reason = StringField(
        "Blocked because",
        [DataRequired("Say what the card is waiting for."), Length(max=500)],
        filters=[strip],
    )
    panel = HiddenField()


class PanelForm(ActionForm):
    panel = HiddenField()


class CloseForm(ActionForm):
    why = SelectField(
        "Close as", choices=choices(("wont_do", "Won't do"), ("duplicate", "Duplicate"))
    )
    note = StringField(
        "Reason", [DataRequired("Write why it is closed."), Length(max=400)], filters=[strip]
    )
    panel = HiddenField()


class ReopenForm(ActionForm):
    why = StringField(
        "Why reopen it", [DataRequired("Say why it is reopened."), Length(max=400)], filters=[strip]
    )
    panel = HiddenField()


class UndoForm(ActionForm):
    """Undo a move, a close or a block from the notice that told of it: `event` is the
    change's history event, `rank` a moved card's rank before the move (where it goes
    back to; anything but a finite number: the bottom)."""

    event = IntegerField(validators=[InputRequired("Say which change to undo.")])
    rank = StringField(validators=[Optional(), Length(max=40)])
    reason = StringField("Why go over the limit", [Optional(), Length(max=500)], filters=[strip])
    panel = HiddenField()

    def old_rank(self) -> float | None:
        try:
            value = float(self.rank.data or "")
        except ValueError:
            return None
        return value if math.isfinite(value) else None


# A time zone field offers the names the server accepts (the page adds the list with the
# timezone_list macro); typing filters them, and the name is still checked on the server.
TIMEZONE_LIST = {"list": "timezones", "autocomplete": "off", "spellcheck": "false"}


class BoardForm(Form):
    name = StringField("Board name", [DataRequired(), Length(max=120)], filters=[strip])
    timezone = StringField(
        "Time zone",
        [DataRequired(), Length(max=64)],
        default="UTC",
        filters=[strip],
        render_kw=TIMEZONE_LIST,
    )


class LaneSettingForm(SubForm):
    lane_id = HiddenField()
    name = StringField("Name", [DataRequired(), Length(max=60)], filters=[strip])
    wip_limit = StringField("WIP limit", [Optional(), Length(max=4)], filters=[strip])
    mode = SelectField("Limit mode", choices=choices(*MODES))


class ColumnLimitForm(SubForm):
    column_id = HiddenField()
    wip_limit = StringField("Limit", [Optional(), Length(max=4)], filters=[strip])


class SettingsForm(Form):
    timezone = StringField(
        "Time zone", [DataRequired(), Length(max=64)], filters=[strip], render_kw=TIMEZONE_LIST
    )
    per_person_limit = StringField(
        "Cards in progress per person", [Optional(), Length(max=4)], filters=[strip]
    )
    pull_order = SelectField(
        "Pull order",
        choices=choices(
            ("support,feature", "Support before Feature"),
            ("feature,support", "Feature before Support"),
        ),
    )
    lanes = FieldList(FormField(LaneSettingForm), max_entries=10)
    columns = FieldList(FormField(ColumnLimitForm), max_entries=20)


class ColumnForm(SubForm):
    column_id = HiddenField()
    name = StringField("Name", [Optional(), Length(max=60)], filters=[strip])
    kind = SelectField("Kind", choices=choices(*COLUMN_KINDS))
    position = IntegerField("Position", [Optional(), NumberRange(1, 99)])  # 1: leftmost
    remove = SelectField("Keep", choices=choices(("", "keep"), ("remove", "remove")), default="")


class ColumnsForm(Form):
    columns = FieldList(FormField(ColumnForm), max_entries=13)


# Support intake (tracker/intake.py). Labels and hints are for support staff, not engineers.
INTAKE_SEVERITIES = (
    (
        Severity.S1,
        "S1 · Production down: the system is down or unusable for everyone, or data is lost",
    ),
    (
        Severity.S2,
        "S2 · Major: an important feature fails for many people, and there is no workaround",
    ),
    (Severity.S3, "S3 · Minor: something is wrong, but people can work around it"),
    (Severity.S4, "S4 · Question: a question or a request for help, nothing is broken"),
)


class IntakeForm(Form):
    """A support request. The component choices come from the board (set by the view)."""

    title = StringField(
        "Short summary",
        [
            DataRequired("Write a short summary, such as “Checkout fails for card payments”."),
            Length(max=200, message="Keep the summary to 200 characters or fewer."),
        ],
        filters=[strip],
    )
    description = TextAreaField(
        "What happened",
        [
            DataRequired("Say what happened: what the person did, and what went wrong."),
            Length(max=10_000, message="Keep this to 10,000 characters or fewer."),
        ],
        filters=[strip],
    )
    requester = StringField(
        "Requester's name",
        [
            DataRequired("Give the name of the person who reported it."),
            Length(max=200, message="Keep the name to 200 characters or fewer."),
        ],
        filters=[strip],
    )
    requester_email = StringField(
        "Requester's email",
        [
            Optional(),
            Length(max=MAX_LENGTH, message="An email address is at most 254 characters."),
            Regexp(
                EMAIL_FORM_PATTERN, message="That is not an email address (like name@example.com)."
            ),
        ],
        filters=[strip],
    )
    severity = RadioField(
        "Severity",
        choices=choices(*INTAKE_SEVERITIES),
        invalid_choice_message="Choose how bad it is: one of S1, S2, S3 or S4.",
    )
    component = SelectField(
        "Component",
        [InputRequired("Choose the part of the system it concerns, or Other.")],
        choices=[],
        invalid_choice_message="Choose a component from the list, or Other if none fits.",
    )
    environment = StringField(
        "Environment",
        [Optional(), Length(max=200, message="Keep this to 200 characters or fewer.")],
        filters=[strip],
    )
    intake_key = HiddenField(
        validators=[Regexp(ONE_TIME_KEY_SHAPE, message="This form is incomplete; send it again.")]
    )

    def values(self) -> dict:
        return {
            "title": self.title.data,
            "description": self.description.data,
            "requester": self.requester.data,
            "requester_email": self.requester_email.data or "",
            "severity": self.severity.data,
            "component": self.component.data,
            "environment": self.environment.data or "",
        }


def comment_body(label: str, empty: str) -> TextAreaField:
    """A comment's text field: required, and no longer than the domain takes
    (tracker.domain.conversation.COMMENT_LENGTH)."""
    too_long = f"Keep a comment to {COMMENT_LENGTH:,} characters or fewer."
    return TextAreaField(
        label, [DataRequired(empty), Length(max=COMMENT_LENGTH, message=too_long)], filters=[strip]
    )


class CommentForm(Form):
    body = comment_body("Comment", "Write the comment first.")
    visibility = RadioField(
        "Who sees it",
        choices=choices(
            (Visibility.INTERNAL, "Internal note: the team only, never the requester"),
            (Visibility.REPLY, "Reply to the requester: also shown on the request's status link"),
        ),
        default=Visibility.INTERNAL,
        invalid_choice_message="Choose an internal note or a reply to the requester.",
    )


class CardCommentForm(Form):
    """A comment on any card (services.conversation): on a request, an internal note or a
    reply; elsewhere the choice is not offered and the note is internal."""

    body = comment_body("Comment", "Write the comment first.")
    visibility = RadioField(
        "Who sees it",
        [Optional()],
        choices=choices(
            (Visibility.INTERNAL, "Internal note: the team only, never the requester"),
            (Visibility.REPLY, "Reply to the requester: also shown on the request's status link"),
        ),
        default=Visibility.INTERNAL,
        invalid_choice_message="Choose an internal note or a reply to the requester.",
    )


class EditCommentForm(Form):
    body = comment_body("Your comment", "Write the comment first, or delete it.")


class DeleteCommentForm(Form):
    """The delete button's form: it says what it does, so an empty post deletes nothing."""

    confirm = HiddenField(validators=[DataRequired(), Regexp("^delete$")])


class WatchForm(Form):
    """Watch (1) or stop watching (0): the choice, not a toggle, so a resend changes nothing."""

    watch = HiddenField(validators=[DataRequired(), Regexp("^[01]$")])


class StatusLinkForm(Form):
    action = SelectField(
        choices=choices(("create", "create"), ("revoke", "revoke")),
        invalid_choice_message="Make or revoke a link.",
    )


class LabelForm(Form):
    """A board label's name and colour (tracker.domain.labels checks the rest)."""

    name = StringField(
        "Name",
        [
            DataRequired("Give the label a name."),
            Length(max=30, message="A label name is at most 30 characters."),
        ],
        filters=[strip],
    )
    colour = SelectField(
        "Colour", choices=choices(*((c.key, c.name) for c in PALETTE)), default=PALETTE[0].key
    )


class ComponentForm(Form):
    name = StringField(
        "New component",
        [
            DataRequired("Give the component a name."),
            Length(max=80, message="A component name is at most 80 characters."),
        ],
        filters=[strip],
    )


MEASURE_CHOICES = tuple((measure, measure.unit) for measure in Measure)


class ReportSettingsForm(Form):
    """The capacity report's settings (a lead's): N, the measure, the alarm threshold."""

    window_size = IntegerField(
        "Average over the last N finished periods",
        [
            InputRequired("Say over how many finished periods to average."),
            NumberRange(1, 12, "Average over 1 to 12 finished periods."),
        ],
    )
    measure = SelectField("Measure", choices=choices(*MEASURE_CHOICES))
    threshold = IntegerField(
        "Alarm when support takes more than (%)",
        [
            InputRequired("Give the alarm threshold in percent."),
            NumberRange(1, 100, "The threshold is a percentage from 1 to 100."),
        ],
    )


class SprintForm(Form):
    """A sprint: name, first and last day, planned capacity (person-days, optional points)."""

    name = StringField(
        "Name", [DataRequired("Give the sprint a name."), Length(max=60)], filters=[strip]
    )
    start_on = DateField(
        "First day", [InputRequired("Give the sprint's first day."), SensibleDate()]
    )
    end_on = DateField("Last day", [InputRequired("Give the sprint's last day."), SensibleDate()])
    capacity_days = FloatField(
        "Planned capacity (person-days)",
        [
            InputRequired("Give the planned capacity in person-days."),
            NumberRange(0, 10_000, "Planned capacity is 0 to 10,000 person-days."),
        ],
    )
    capacity_points = FloatField(
        "Planned points (optional)",
        [Optional(), NumberRange(0, 100_000, "Planned points are 0 to 100,000.")],
    )


# People, passwords, erasure and the audit log (web.admin, web.account, web.audit)

ROLE_CHOICES = (*((role, role) for role in Role), ("none", "none (not on the board)"))
PERSON_EMAIL_SHAPE = Regexp(EMAIL_FORM_PATTERN, message="That is not an email address.")


class PersonForm(Form):
    """A new person: an admin gives a temporary password or leaves it empty to generate one."""

    name = StringField(
        "Name", [DataRequired("Give the person's name."), Length(max=120)], filters=[strip]
    )
    username = StringField(
        "Username",
        [
            DataRequired("Give a username."),
            Length(max=64),
            Regexp(r"^[A-Za-z0-9._-]+$", message="Letters, digits, dots, dashes and _ only."),
        ],
        filters=[strip],
    )
    email = StringField(
        "Email", [Optional(), Length(max=MAX_LENGTH), PERSON_EMAIL_SHAPE], filters=[strip]
    )
    password = PasswordField("Temporary password", [Optional(), Length(max=256)])
    is_admin = BooleanField("Site admin (manages people, boards and memberships)")


class MembershipForm(Form):
    """A person's role on a board ("none" takes them off it)."""

    board_id = IntegerField("Board", [InputRequired()])
    user_id = IntegerField("Person", [InputRequired()])
    role = SelectField("Role", choices=choices(*ROLE_CHOICES), default=Role.MEMBER)


class AdminFlagForm(Form):
    make_admin = SelectField(choices=choices(("yes", "yes"), ("no", "no")))


class ResetPasswordForm(Form):
    password = PasswordField("New temporary password", [Optional(), Length(max=256)])


class ChangePasswordForm(Form):
    current = PasswordField("Current password", [DataRequired("Type your current password.")])
    new = PasswordField("New password", [DataRequired("Type the new password."), Length(max=256)])
    confirm = PasswordField(
        "New password again",
        [DataRequired("Type the new password again."), EqualTo("new", "The two do not match.")],
    )


class NoticeMailForm(Form):
    """A person's email for each kind of notification: never, at once, or in the daily
    digest (one select per NoticeKind, named by the kind)."""

    def modes(self) -> dict[str, str]:
        """The chosen mode of each kind."""
        return {kind.value: self[kind.value].data for kind in NoticeKind}


for _kind in NoticeKind:
    setattr(
        NoticeMailForm,
        _kind.value,
        SelectField(_kind.label, choices=choices(*[(mode.value, mode.label) for mode in MailMode])),
    )


class TokenForm(Form):
    """A new personal access token: its name, read or read-write, an optional expiry."""

    name = StringField(
        "Name", [InputRequired("Give the token a name."), Length(max=80)], filters=[strip]
    )
    scope = RadioField(
        "Access",
        choices=choices(
            (TokenScope.READ, "Read: look at boards, cards and requests"),
            (TokenScope.READ_WRITE, "Read and write: also change cards and file requests"),
        ),
        default=TokenScope.READ,
    )
    expires_on = DateField("Expires on (optional)", [Optional(), SensibleDate()])


class MarkReadForm(Form):
    """Which notification to mark read."""

    notification = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


class ErasureSearchForm(Form):
    class Meta:
        csrf = False  # a search (GET) changes nothing

    q = StringField("Requester's email or name", [Optional(), Length(max=254)], filters=[strip])


class ErasureForm(Form):
    q = HiddenField()
    confirm = BooleanField(
        "I understand: the name and email are replaced for good, and cannot be brought back.",
        [DataRequired("Tick the box to confirm the erasure.")],
    )


class AuditFilterForm(Form):
    """The audit page's filter (GET): person, action, date range."""

    class Meta:
        csrf = False

    person = SelectField("Person", choices=[], validate_choice=False, default="")
    action = SelectField("Action", choices=[], validate_choice=False, default="")
    since = DateField("From", [Optional(), SensibleDate()])
    until = DateField("To", [Optional(), SensibleDate()])


# The support rotation (web.rotation)


class RotationForm(Form):
    """How the support rotation runs and who is in its pool (the pool's choices are the
    board's people, set by the view)."""

    enabled = BooleanField("Run a support rotation")
    on_duty = IntegerField(
        "On duty at once",
        [InputRequired("Say how many are on duty at once."), NumberRange(1, 4, "1 to 4 people.")],
    )
    term_periods = IntegerField(
        "Term length",
        [InputRequired("Say how long a term lasts."), NumberRange(1, 4, "1 to 4.")],
    )
    staggered = BooleanField("Staggered terms")
    pool = SelectMultipleField("Pool", coerce=int, validate_choice=False)


class SwapForm(Form):
    """Two terms whose people change places."""

    one = SelectField("Term", [InputRequired("Pick a term.")], coerce=int, validate_choice=False)
    other = SelectField(
        "with term", [InputRequired("Pick a term.")], coerce=int, validate_choice=False
    )


class ReplaceForm(Form):
    """Another person of the pool for one term."""

    person = SelectField(
        "Person", [InputRequired("Pick someone.")], coerce=int, validate_choice=False
    )


class AwayForm(Form):
    """A person of the pool away for some days."""

    person = SelectField(
        "Person", [InputRequired("Pick someone.")], coerce=int, validate_choice=False
    )
    start_on = DateField("First day away", [InputRequired("Give the first day."), SensibleDate()])
    end_on = DateField("Last day away", [InputRequired("Give the last day."), SensibleDate()])


# Alerts and webhooks (tracker.web.webhooks) ---------------------------------------------


class AlertTokenForm(Form):
    """A new alert token's name (e.g. the Alertmanager that uses it)."""

    name = StringField(
        "Token name",
        [
            DataRequired("Name the token, e.g. after the Alertmanager that uses it."),
            Length(max=100, message="A token name is at most 100 characters."),
        ],
        filters=[strip],
    )


class AlertSeverityForm(Form):
    """Which `severity` label values make which card severity, and the others'."""

    mapping = StringField(
        "Label values",
        [Length(max=2000, message="Keep the list to 2,000 characters.")],
        filters=[strip],
    )
    default = SelectField(
        "Any other alert",
        choices=choices(*((s.value, f"{s.value} ({s.label})") for s in Severity)),
        default=Severity.S2.value,
    )


class WebhookForm(Form):
    """A hook's address and the events it hears of (domain.webhooks checks both)."""

    url = StringField(
        "Address (http or https)",
        [
            DataRequired("Write the address to send to."),
            Length(max=2000, message="An address is at most 2,000 characters."),
        ],
        filters=[strip],
    )
    events = SelectMultipleField("Events", validate_choice=False)


# Incidents (tracker.web.incidents) --------------------------------------------------------

TIME_FORMAT = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


class MitigateForm(ActionForm):
    note = StringField(
        "What mitigated it",
        [DataRequired("Say what mitigated it."), Length(max=LOG_LENGTH)],
        filters=[strip],
    )


class IncidentLogForm(ActionForm):
    text = StringField(
        "Log entry",
        [DataRequired("Write the log entry first."), Length(max=LOG_LENGTH)],
        filters=[strip],
    )


class DrillForm(ActionForm):
    """Mark a drill (1) or a real incident (0): the choice, not a toggle."""

    drill = HiddenField(
        validators=[
            DataRequired("Choose a drill or a real incident."),
            Regexp("^[01]$", message="Choose a drill or a real incident."),
        ]
    )


class GrantForm(ActionForm):
    """Break-glass access as a responder records it. Times are the board's local time."""

    holder = IntegerField("Who holds it", [InputRequired("Choose who holds the access.")])
    target = StringField(
        "On what",
        [DataRequired("Say what the access is on."), Length(max=200)],
        filters=[strip],
    )
    why = StringField(
        "Why", [DataRequired("Say why the access is needed."), Length(max=500)], filters=[strip]
    )
    buddy = IntegerField("Operations buddy", [Optional()])
    buddy_name = StringField("or their name", [Optional(), Length(max=120)], filters=[strip])
    granted_at = DateTimeLocalField("Granted at", [Optional()], format=TIME_FORMAT)
    expected_end = DateTimeLocalField(
        "Expected end", [InputRequired("Give the expected end.")], format=TIME_FORMAT
    )


class LeaveOpenForm(ActionForm):
    reason = StringField(
        "Why it stays open",
        [DataRequired("Say why the access stays open."), Length(max=LOG_LENGTH)],
        filters=[strip],
    )


class GrantsFilterForm(Form):
    """The grants page's period (GET): from and to, both days included."""

    class Meta:
        csrf = False

    since = DateField("From", [Optional(), SensibleDate()])
    until = DateField("To", [Optional(), SensibleDate()])


def _section(label: str) -> TextAreaField:
    too_long = f"Keep a section to {SECTION_LENGTH:,} characters or fewer."
    return TextAreaField(label, [Optional(), Length(max=SECTION_LENGTH, message=too_long)])


class ReviewForm(ActionForm):
    """The post-incident review's sections (domain.reviews.SECTIONS)."""

    what_happened = _section("What happened")
    impact = _section("Impact")
    contributing_factors = _section("Contributing factors")
    went_well = _section("What went well")
    to_change = _section("What to change")


class FollowUpForm(ActionForm):
    """A follow-up card of an incident: its title and lane; `back` says where the form was
    (the review page, or the card's panel)."""

    title = StringField(
        "Follow-up",
        [DataRequired("Give the follow-up a title."), Length(max=TITLE_LENGTH)],
        filters=[strip],
    )
    lane = SelectField(
        "Lane",
        choices=choices((LaneKind.SUPPORT, "Support"), (LaneKind.FEATURE, "Feature")),
        invalid_choice_message="Put a follow-up in the Support or the Feature lane.",
    )
    back = HiddenField()


# The support desk (tracker.web.desk) ------------------------------------------------------


class WaitingForm(Form):
    """Set a request to wait for its requester, or stop waiting."""

    action = SelectField(
        choices=choices(("wait", "wait"), ("resume", "resume")),
        invalid_choice_message="Choose to wait for the requester or to stop waiting.",
    )


class TargetForm(Form):
    """One severity's response targets, as a lead types them ("30m", "4h", "2d")."""

    severity = SelectField(
        choices=choices(*((s, s) for s in Severity)),
        invalid_choice_message="Choose a severity from the list (S1 to S4).",
    )
    first_response = StringField(
        "First response",
        [DataRequired("Give a first response target, like 4h."), Length(max=12)],
        filters=[strip],
    )
    resolution = StringField(
        "Resolution",
        [DataRequired("Give a resolution target, like 2d."), Length(max=12)],
        filters=[strip],
    )
    working_hours = BooleanField("Working hours only (Mon–Fri 09:00–17:00)")


class CannedReplyForm(Form):
    title = StringField(
        "Title",
        [
            DataRequired("Give the canned reply a short title."),
            Length(
                max=CANNED_TITLE_LENGTH,
                message=f"A title is at most {CANNED_TITLE_LENGTH} characters.",
            ),
        ],
        filters=[strip],
    )
    body = comment_body("Text", "Write the reply's text.")


class RequesterReplyForm(Form):
    """The requester's reply on the status page: plain text, like the intake form's."""

    body = TextAreaField(
        "Your reply",
        [
            DataRequired("Write your reply first."),
            Length(
                max=REQUESTER_REPLY_LENGTH,
                message=f"Keep your reply to {REQUESTER_REPLY_LENGTH:,} characters or fewer.",
            ),
        ],
        filters=[strip],
    )
