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


# (path, name): why that module-level name is bound to a member. These name a rule, not the
# member under another name; an alias of a member (DONE = ColumnKind.DONE) has no place here.
NAMED_MEMBERS: dict[tuple[str, str], str] = {
    ("tracker/domain/policy.py", "ADMIN_ROLE"): "the role a site admin without a membership has",
    ("tracker/domain/board_setup.py", "DEFAULT_MODE"): "the limit mode a new board's lanes get",
    ("tracker/domain/alerts.py", "DEFAULT_SEVERITY"): "an alert's severity when no label maps",
}


def _module_level(body: list[ast.stmt]):
    """The statements a module runs at import, inside if/try blocks too (not def/class)."""
    for stmt in body:
        yield stmt
        for name in ("body", "orelse", "finalbody"):
            if not isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                yield from _module_level(getattr(stmt, name, []))
        for handler in getattr(stmt, "handlers", []):
            yield from _module_level(handler.body)


def _is_member(value: ast.AST) -> bool:
    """`Enum.MEMBER` or `vocabulary.Enum.MEMBER`, with Enum one of the vocabulary's."""
    if not isinstance(value, ast.Attribute):
        return False
    owner = value.value
    name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", None)
    enum = vocabulary.ALL.get(name)
    return enum is not None and value.attr in enum.__members__


def member_names(source: str) -> list[tuple[int, str]]:
    """Module-level names bound to a vocabulary member: `DONE = ColumnKind.DONE`,
    `A, B = Role.LEAD, Role.MEMBER`, `X: str = Role.LEAD`."""
    found = []
    for stmt in _module_level(ast.parse(source).body):
        if isinstance(stmt, ast.Assign):
            pairs = []
            for target in stmt.targets:
                if isinstance(target, ast.Tuple) and isinstance(stmt.value, ast.Tuple):
                    pairs += zip(target.elts, stmt.value.elts, strict=False)
                else:
                    pairs.append((target, stmt.value))
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            pairs = [(stmt.target, stmt.value)]
        else:
            continue
        found += [
            (stmt.lineno, target.id)
            for target, value in pairs
            if isinstance(target, ast.Name) and _is_member(value)
        ]
    return found


def test_no_module_keeps_a_member_under_a_name_of_its_own():
    """Code names the member itself (LaneKind.EXPEDITE), not a module's alias of it
    (wip.EXPEDITE): one spelling per word, and no DONE that is a column kind in one module
    and a mail kind in another."""
    problems, used = [], set()
    for path in sorted((ROOT / "tracker").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        for line, name in member_names(path.read_text(encoding="utf-8")):
            if (relative, name) in NAMED_MEMBERS:
                used.add((relative, name))
            else:
                problems.append(f"{relative}:{line}: {name}")
    assert problems == [], (
        "use the member itself (e.g. ColumnKind.DONE) instead of these module-level names, "
        "or, for the name of a rule, add it to NAMED_MEMBERS with its reason:\n"
        + "\n".join(problems)
    )
    assert set(NAMED_MEMBERS) - used == set(), "a NAMED_MEMBERS row no longer matches"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("DONE = ColumnKind.DONE\n", [(1, "DONE")]),
        ("A, B = Role.LEAD, Role.MEMBER\n", [(1, "A"), (1, "B")]),
        ("X = Y = vocabulary.MailStatus.ERASED\n", [(1, "X"), (1, "Y")]),
        ("N: str = Measure.POINTS\n", [(1, "N")]),
        ("if True:\n    CLOSED = CardStatus.CLOSED\n", [(2, "CLOSED")]),
        ("A, B = Role.LEAD, 1\n", [(1, "A")]),
        ("KINDS = tuple(LaneKind)\n", []),
        ("DONE = Outcome.DONE\n", []),  # not a vocabulary enum
        ("X = Role.NOBODY\n", []),  # not a member
        ("def f():\n    DONE = ColumnKind.DONE\n", []),
        ("class C:\n    DONE = ColumnKind.DONE\n", []),
    ],
)
def test_the_member_name_scan_reads_module_level_bindings(source, expected):
    assert member_names(source) == expected


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
