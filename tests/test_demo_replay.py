"""The demo's replay dispatches every kind of happening through its table."""

from tracker.demo.replay import HANDLERS, Happening, Replay


def test_every_kind_of_happening_has_its_handler():
    assert set(HANDLERS) == set(Happening)
    for kind, handler in HANDLERS.items():
        assert handler is getattr(Replay, f"on_{kind.value}")
