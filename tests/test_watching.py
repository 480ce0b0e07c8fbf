"""Card watchers (services.watching): adding is idempotent, removing is per person."""

import pytest

from tests.helpers import BoardSpec, CardSpec
from tracker.extensions import db
from tracker.services import watching


@pytest.fixture
def board_spec() -> BoardSpec:
    return BoardSpec(cards=(CardSpec("c", "feature", "Watched", by="ann"),))


def test_add_is_idempotent_and_remove_is_per_person(app, board, ctx):
    card, ann, lee = board["c"], board["ann"], board["lee"]
    watching.add_watchers(card, {ann})
    watching.add_watchers(card, [ann, lee, None])
    db.session.commit()
    assert watching.watcher_ids(card) == {ann, lee}
    watching.remove_watcher(card, ann)
    db.session.commit()
    assert watching.watcher_ids(card) == {lee}
    assert watching.is_watching(card, lee) and not watching.is_watching(card, ann)
