"""Flask-WTF forms: the shape of input only. Rules are checked in the domain."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms import Form as PlainForm
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

SEVERITIES = (
    ("", "None"),
    ("S1", "S1 · production down"),
    ("S2", "S2 · major"),
    ("S3", "S3 · minor"),
    ("S4", "S4 · question"),
)
MODES = (
    ("strict", "strict (only a lead may override)"),
    ("reason", "with reason (anyone, with a written reason)"),
)
COLUMN_KINDS = (("queue", "queue"), ("active", "active"), ("done", "done"))


def choices(*pairs: tuple[str, str]) -> list[SelectChoice]:
    """SelectField choices in WTForms 3.3's form (tuples are deprecated)."""
    return [SelectChoice(value, label) for value, label in pairs]


def strip(value):
    return value.strip() if isinstance(value, str) else value


class EmptyForm(FlaskForm):
    """A POST button: only the CSRF token."""


class LoginForm(FlaskForm):
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


class NewCardForm(CardFieldsMixin, FlaskForm):
    lane_id = IntegerField("Lane", [InputRequired()])


class EditCardForm(CardFieldsMixin, FlaskForm):
    component = StringField("Component", [Optional(), Length(max=80)], filters=[strip])
    requester = StringField("Requester", [Optional(), Length(max=200)], filters=[strip])
    version = IntegerField(validators=[InputRequired()], widget=HiddenInput())

    def values(self) -> dict:
        return {
            "title": self.title.data,
            "description": self.description.data or "",
            "estimate": self.estimate.data,
            "severity": self.severity.data or None,
            "component": self.component.data or "",
            "requester": self.requester.data or "",
        }


class MoveForm(FlaskForm):
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
            if lane.isdigit() and column.isdigit():
                return int(lane), int(column)
            return None
        if self.lane_id.data is not None and self.column_id.data is not None:
            return self.lane_id.data, self.column_id.data
        return None


class ReorderForm(FlaskForm):
    direction = SelectField(choices=choices(("up", "up"), ("down", "down")))
    panel = HiddenField()


class AssignForm(FlaskForm):
    assignee = StringField("Assignee", [Optional(), Length(max=12)])
    reason = StringField("Why go over the limit", [Optional(), Length(max=500)], filters=[strip])
    panel = HiddenField()


class BlockForm(FlaskForm):
    reason = StringField(
        "Blocked because",
        [DataRequired("Say what the card is waiting for."), Length(max=500)],
        filters=[strip],
    )
    panel = HiddenField()


class PanelForm(FlaskForm):
    panel = HiddenField()


class CloseForm(FlaskForm):
    why = SelectField(
        "Close as", choices=choices(("wont_do", "Won't do"), ("duplicate", "Duplicate"))
    )
    note = StringField(
        "Reason", [DataRequired("Write why it is closed."), Length(max=400)], filters=[strip]
    )
    panel = HiddenField()


class BoardForm(FlaskForm):
    name = StringField("Board name", [DataRequired(), Length(max=120)], filters=[strip])
    timezone = StringField(
        "Time zone", [DataRequired(), Length(max=64)], default="UTC", filters=[strip]
    )


class LaneSettingForm(PlainForm):
    lane_id = HiddenField()
    name = StringField("Name", [DataRequired(), Length(max=60)], filters=[strip])
    wip_limit = StringField("WIP limit", [Optional(), Length(max=4)], filters=[strip])
    mode = SelectField("Limit mode", choices=choices(*MODES))


class ColumnLimitForm(PlainForm):
    column_id = HiddenField()
    wip_limit = StringField("Limit", [Optional(), Length(max=4)], filters=[strip])


class SettingsForm(FlaskForm):
    timezone = StringField("Time zone", [DataRequired(), Length(max=64)], filters=[strip])
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


class ColumnForm(PlainForm):
    column_id = HiddenField()
    name = StringField("Name", [Optional(), Length(max=60)], filters=[strip])
    kind = SelectField("Kind", choices=choices(*COLUMN_KINDS))
    position = IntegerField("Position", [Optional(), NumberRange(0, 99)])
    remove = SelectField("Keep", choices=choices(("", "keep"), ("remove", "remove")), default="")


class ColumnsForm(FlaskForm):
    columns = FieldList(FormField(ColumnForm), max_entries=13)
