"""One vocabulary: the words the app stores and compares (lane and column kinds, roles,
severities, event kinds, statuses ...) are spelled only in tracker/domain/vocabulary.py.

This scans tracker/ and templates/ for those words written as bare strings and names the
file and line of each. Python is read with ast (a string constant in a value position:
compared, passed, assigned, returned; a dict key or subscript names a field, not a value);
templates with a regular expression over the quoted strings inside {{ }} and {% %}.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tracker.domain import vocabulary
from tracker.domain.vocabulary import CardStatus, EventKind, LaneKind, Role

ROOT = Path(__file__).resolve().parent.parent
VOCABULARY_MODULE = "tracker/domain/vocabulary.py"
WORDS = frozenset(member.value for enum in vocabulary.ALL.values() for member in enum)

# (path or path prefix, word): why that string is not the vocabulary's word there.
ALLOWED: dict[tuple[str, str], str] = {
    ("tracker/domain/history.py", "blocked"): "TRACKED_FIELDS: the card's column named blocked",
    ("tracker/domain/conversation.py", "mentioned"): "MENTIONED: a comment event's changes key",
    ("tracker/domain/flow.py", "blocked"): "the key of an event's changes: the blocked column",
    ("tracker/observability.py", "created"): "a log line's row change: created/updated/deleted",
    ("tracker/web/board.py", "reason"): "the name of a form field (not kept on a re-render)",
    ("tracker/demo", "lead"): "the demo person whose username is lead",
    ("tracker/web/emergency.py", "cards"): "the banner poll's query parameter named cards",
    ("templates/reports/page.html", "cards"): "prose: 1 card, 2 cards",
    ("tracker/store.py", "cards"): "the label of a count column in the WIP statement",
    ("tracker/store.py", "waiting"): "the label of a count column in the pull statement",
    ("tracker/store.py", "reason"): "the name of an event column the one-statement write binds",
    ("tracker/domain/board_filter.py", "blocked"): "the filter's query-string name blocked",
    ("tracker/web/flow.py", "blocked"): "the Flow page's chart (section) named blocked",
    ("tracker/web/presenters/flow.py", "blocked"): "the Flow page's chart named blocked",
    ("tracker/web/presenters/flow.py", "reason"): "a column name of the blocked-time CSV",
    ("tracker/web/presenters/flow.py", "cards"): "a measure in the Pareto CSV",
    ("tracker/web/presenters/flow.py", "person_days"): "a measure in the Pareto CSV",
    ("templates/flow/", "blocked"): "the Flow page's chart named blocked",
    ("templates/flow/", "lead"): "the lead-time chart's id prefix",
    ("templates/flow/", "cards"): "prose and the id of the Pareto's cards table",
    ("tracker/domain/incidents.py", "mitigated"): "the incident stage named mitigated (MITIGATED)",
    ("templates/notifications/_list.html", "read"): "a notification's attribute named read",
}


def _allowed(path: str, word: str) -> bool:
    return any(path.startswith(prefix) and word == w for prefix, w in ALLOWED)


class _ValueStrings(ast.NodeVisitor):
    """String constants in value positions: not dict keys, subscripts or docstrings."""

    def __init__(self) -> None:
        self.found: list[tuple[int, str]] = []
        self._skip: set[int] = set()

    def visit_Dict(self, node: ast.Dict) -> None:
        self._skip.update(id(key) for key in node.keys if key is not None)
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        self._skip.add(id(node.slice))
        self.generic_visit(node)

    def visit_Expr(self, node: ast.Expr) -> None:  # a docstring or a bare string statement
        if isinstance(node.value, ast.Constant):
            return
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and id(node) not in self._skip and node.value in WORDS:
            self.found.append((node.lineno, node.value))


def python_literals(source: str) -> list[tuple[int, str]]:
    visitor = _ValueStrings()
    visitor.visit(ast.parse(source))
    return visitor.found


_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
_QUOTED = re.compile(r"\"([^\"\n]*)\"|'([^'\n]*)'")


def template_literals(source: str) -> list[tuple[int, str]]:
    found = []
    for tag in _JINJA.finditer(source):
        for quoted in _QUOTED.finditer(tag.group(0)):
            word = quoted.group(1) if quoted.group(1) is not None else quoted.group(2)
            if word in WORDS:
                line = source.count("\n", 0, tag.start() + quoted.start()) + 1
                found.append((line, word))
    return found


def bare_words() -> list[str]:
    """Every vocabulary word written as a bare string, as "path:line: 'word'"."""
    problems = []
    files = [(p, python_literals) for p in sorted((ROOT / "tracker").rglob("*.py"))]
    files += [(p, template_literals) for p in sorted((ROOT / "templates").rglob("*"))]
    for path, scan in files:
        relative = path.relative_to(ROOT).as_posix()
        if not path.is_file() or relative == VOCABULARY_MODULE:
            continue
        for line, word in scan(path.read_text(encoding="utf-8")):
            if not _allowed(relative, word):
                problems.append(f"{relative}:{line}: {word!r}")
    return problems


def test_no_vocabulary_word_is_a_bare_string():
    problems = bare_words()
    assert problems == [], (
        "name the member of tracker.domain.vocabulary (e.g. CardStatus.OPEN, Role.LEAD) "
        "instead of these strings, or add a documented exception to ALLOWED:\n"
        + "\n".join(problems)
    )


def test_every_exception_is_still_needed():
    """An ALLOWED row that no longer matches anything is removed, not left to hide a word."""
    used = set()
    files = [(p, python_literals) for p in (ROOT / "tracker").rglob("*.py")]
    files += [(p, template_literals) for p in (ROOT / "templates").rglob("*") if p.is_file()]
    for path, scan in files:
        relative = path.relative_to(ROOT).as_posix()
        for _, word in scan(path.read_text(encoding="utf-8")):
            used.update(key for key in ALLOWED if relative.startswith(key[0]) and word == key[1])
    assert set(ALLOWED) - used == set()


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('if card.status == "open":\n    pass\n', [(1, "open")]),
        ('record(card, "moved", actor)\n', [(1, "moved")]),
        ('ROLES = ("lead", "member")\n', [(1, "lead"), (1, "member")]),
        ('values = {"status": "done"}\n', [(1, "done")]),
        ('x = {"cards": 1}["cards"]\n', []),  # keys and subscripts name fields
        ('"""A docstring that says open."""\n', []),
        ('"""done"""\n', []),
        ('label = "Lead"\n', []),  # another word: case matters
    ],
)
def test_the_python_scan_finds_value_strings_only(source, expected):
    assert python_literals(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('{% if actor.role == "lead" %}x{% endif %}', [(1, "lead")]),
        ("a\n{{ 'done' if c.status == CardStatus.DONE }}", [(2, "done")]),
        ('<p class="blocked">{{ card.blocked_reason }}</p>', []),  # markup, not Jinja
        ('<input name="reason">{% set n = "reason-x" %}', []),
    ],
)
def test_the_template_scan_reads_inside_jinja_tags(source, expected):
    assert template_literals(source) == expected


def test_a_member_is_its_word():
    """What lets the database, migrations and form posts keep their strings."""
    assert CardStatus.OPEN == "open" and f"{EventKind.WIP_OVERRIDE}" == "wip_override"
    assert {Role.LEAD: 1}["lead"] == 1 and LaneKind("expedite") is LaneKind.EXPEDITE
    assert str(Role.SUPPORT) == "support"
