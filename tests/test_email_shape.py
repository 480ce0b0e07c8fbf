"""One email shape: the intake form, the person form and the mail sender take the same
addresses (tracker.domain.addresses), so a requester's address the form took is mailed."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from tracker.domain import addresses
from tracker.web.forms import IntakeForm, PersonForm

TYPED = [
    "ana@example.com",
    "a.b+tag@mail.example.co.uk",
    "ana@example",
    "ana@example.",
    "ana smith@example.com",
    "<ana@example.com>",
    'ana"@example.com',
    "ana,bo@example.com",
    "ana;bo@example.com",
    "a@" + "b" * 250 + ".com",
]


def _field_takes(app, form_class, name: str, typed: str) -> bool:
    with app.test_request_context(method="POST"):
        form = form_class(formdata=MultiDict({name: typed}), meta={"csrf": False})
        form.validate()
        return not form[name].errors


@pytest.mark.parametrize("typed", TYPED)
def test_forms_and_mail_agree_on_an_address(app, typed):
    expected = addresses.is_email(typed)
    assert _field_takes(app, IntakeForm, "requester_email", typed) is expected
    assert _field_takes(app, PersonForm, "email", typed) is expected
