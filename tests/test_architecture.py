"""The layering, checked by reading the source: only actions write tables, only queries read,
and imports run one way (the ledger imports no track and no web; domains import no web).

A *model* is any class defined in a ``models.py``. Walking ``src/fusioncell`` with ``ast``,
each module's imports are resolved so that ``Member``, ``models.Member`` and
``cell_models.Member`` all name the same model. Then:

- a **write** is a session write (``db.add``, ``add_all``, ``delete``, ``merge``, bulk
  saves) or an ``insert(M)`` / ``update(M)`` / ``delete(M)`` / ``M.__table__.insert()``
  statement; it belongs in an ``actions.py`` or an ``actions/`` package;
- a **read** is ``select(M)`` or ``select(M.column)``, ``.join(M)``, ``.select_from(M)``,
  ``aliased(M)``, ``db.get(M, ...)`` or ``db.query(M)``; it belongs in a ``queries.py``,
  in actions, in ``db/``, or in the ``models.py`` that defines ``M``.

A session is a name ``db`` or ``session``, or a parameter annotated ``Session`` or ``Db``.
Assignments to a loaded instance's attributes are not traced: that needs types.

``ALLOWED`` lists the known exceptions by module, model and operation, each with its reason;
it only shrinks.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
PACKAGE = SRC / "fusioncell"

SESSION_WRITES = frozenset(
    {
        "add",
        "add_all",
        "delete",
        "merge",
        "bulk_save_objects",
        "bulk_insert_mappings",
        "bulk_update_mappings",
    }
)
STATEMENT_WRITES = frozenset({"insert", "update", "delete"})
SELECT_CLAUSES = frozenset({"join", "outerjoin", "select_from", "join_from"})
SESSION_NAMES = frozenset({"db", "session"})
SESSION_TYPES = frozenset({"Session", "Db", "AsyncSession"})

# (module, model, "read" | "write"): why it is allowed. Only ever remove entries.
_LEDGER_APPEND = (
    "ledger.record.record() is the shared step every action takes inside its own "
    "transaction (STYLE's `ledger.append(db, signed)`): it reads the tree and the keys and "
    "writes the leaf, its hashes, its body and key changes. Not an action by design; "
    "reported, pending a decision to name it an actions module or to keep this exception. "
    "It is split by concern: ledger.record (signing), ledger.append, ledger.key_entries."
)
ALLOWED: dict[tuple[str, str, str], str] = {
    ("fusioncell.ledger.record", "LogEntry", "read"): _LEDGER_APPEND,
    ("fusioncell.ledger.record", "LogKey", "read"): _LEDGER_APPEND,
    ("fusioncell.ledger.record", "EntryBody", "read"): _LEDGER_APPEND,
    ("fusioncell.ledger.append", "LogEntry", "read"): _LEDGER_APPEND,
    ("fusioncell.ledger.append", "LogHash", "read"): _LEDGER_APPEND,
    ("fusioncell.ledger.append", "LogKey", "read"): _LEDGER_APPEND,
    ("fusioncell.ledger.append", "LogSequence", "read"): _LEDGER_APPEND,
    # The sequence row is written back once, just before commit, with the queued rows.
    ("fusioncell.ledger.append", "LogSequence", "write"): _LEDGER_APPEND,
    ("fusioncell.ledger.key_entries", "LogKey", "read"): _LEDGER_APPEND,
    ("fusioncell.ledger.key_entries", "LogKey", "write"): _LEDGER_APPEND,
    # Cross-domain: the cell reads the ledger's key table directly instead of through
    # ledger queries. Reported; the fix is a `ledger.queries` function for each read.
    ("fusioncell.cell.actions.keys", "LogKey", "read"): (
        "do_enroll_key/do_rotate_key/do_revoke_key look up LogKey rows themselves"
    ),
    ("fusioncell.cell.queries", "LogKey", "read"): "list_keys selects LogKey rows itself",
    # events.emit() is STYLE's "row now, wake-up after commit", called inside actions.
    # Reported with ledger.record: a shared in-transaction writer outside actions.
    ("fusioncell.live.emit", "Event", "write"): (
        "emit() adds the event row inside the calling action's transaction"
    ),
    # Cross-domain reads by the hotline. Reported; each wants a cell or ledger query.
    ("fusioncell.hotline.actions.channels", "Organisation", "read"): (
        "do_open_channels selects every organisation to build the channels"
    ),
    ("fusioncell.hotline.actions.messages", "Organisation", "read"): (
        "do_send_link_test looks up the supervising organisation"
    ),
    ("fusioncell.hotline.actions.messages", "LogCheckpoint", "read"): (
        "_checkpoint_seen reads the ledger's checkpoints for an acknowledgement"
    ),
    ("fusioncell.hotline.queries", "Organisation", "read"): (
        "names() reads every organisation's slug for rendering, without a viewer"
    ),
    ("fusioncell.hotline.queries", "Member", "read"): (
        "names() reads every member's username for rendering, without a viewer"
    ),
}


@dataclass(frozen=True)
class Touch:
    module: str
    line: int
    operation: str  # "read" or "write"
    model: str  # "fusioncell.cell.models.Member", or "?" when the argument is untraced
    how: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line}: {self.operation} of {self.model} by {self.how}"


def module_name(path: Path) -> str:
    relative = path.relative_to(SRC).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def find_models(root: Path = PACKAGE) -> dict[str, frozenset[str]]:
    """Every models module and the classes it defines. A ``models/`` package counts module
    by module, and as the package that re-exports them all."""
    models: dict[str, frozenset[str]] = {}
    paths = [*root.rglob("models.py"), *(p for p in root.rglob("models/*.py"))]
    for path in sorted(paths):
        if path.name == "__init__.py":
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        classes = frozenset(node.name for node in tree.body if isinstance(node, ast.ClassDef))
        models[module_name(path)] = classes
        if path.parent.name == "models":
            package = module_name(path.parent / "__init__.py")
            models[package] = models.get(package, frozenset()) | classes
    return models


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


@dataclass
class _Scanner(ast.NodeVisitor):
    module: str
    models: dict[str, frozenset[str]]
    names: dict[str, str] = field(default_factory=dict)  # local name -> model or module
    sessions: list[set[str]] = field(default_factory=lambda: [set(SESSION_NAMES)])
    touches: list[Touch] = field(default_factory=list)

    def __post_init__(self) -> None:
        for name in self.models.get(self.module, ()):
            self.names[name] = f"{self.module}.{name}"

    # --- names -------------------------------------------------------------------------

    def _package(self, level: int) -> str:
        parts = self.module.split(".")
        is_package = (PACKAGE.parent / Path(*parts) / "__init__.py").exists()
        keep = len(parts) - level + (1 if is_package else 0)
        return ".".join(parts[:keep])

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.names[alias.asname] = alias.name
            else:
                self.names[alias.name.split(".")[0]] = alias.name.split(".")[0]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            base = ".".join(part for part in (self._package(node.level), base) if part)
        for alias in node.names:
            self.names[alias.asname or alias.name] = f"{base}.{alias.name}"

    def model_of(self, node: ast.expr) -> str | None:
        """The model an expression names: the class, one of its columns, or its table."""
        dotted = _dotted(node)
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        if head not in self.names:
            return None
        full = ".".join(part for part in (self.names[head], rest) if part)
        for models_module, classes in self.models.items():
            prefix = models_module + "."
            if full.startswith(prefix):
                name = full[len(prefix) :].split(".")[0]
                if name in classes:
                    return prefix + name
        return None

    # --- sessions ----------------------------------------------------------------------

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        local = set(self.sessions[-1])
        arguments = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
        for argument in arguments:
            annotation = argument.annotation
            text = ast.unparse(annotation) if annotation is not None else ""
            if any(kind in text.replace(".", " ").split() for kind in SESSION_TYPES):
                local.add(argument.arg)
        self.sessions.append(local)
        self.generic_visit(node)
        self.sessions.pop()

    visit_FunctionDef = _visit_function
    visit_AsyncFunctionDef = _visit_function

    def _is_session(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Name):
            return node.id in self.sessions[-1]
        if isinstance(node, ast.Attribute):
            return node.attr in SESSION_NAMES
        return False

    # --- calls -------------------------------------------------------------------------

    def _touch(self, node: ast.AST, operation: str, model: str | None, how: str) -> None:
        self.touches.append(
            Touch(self.module, getattr(node, "lineno", 0), operation, model or "?", how)
        )

    def _argument_model(self, node: ast.expr) -> str | None:
        if isinstance(node, ast.Call):
            return self.model_of(node.func)
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            for element in node.elts:
                if model := self._argument_model(element):
                    return model
            return None
        return self.model_of(node)

    def _from_sqlalchemy(self, func: ast.expr) -> bool:
        dotted = _dotted(func)
        if dotted is None:
            return False
        head, _, rest = dotted.partition(".")
        full = ".".join(part for part in (self.names.get(head, ""), rest) if part)
        return full.split(".")[0] == "sqlalchemy"

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        first = node.args[0] if node.args else None
        name = func.id if isinstance(func, ast.Name) else None
        if isinstance(func, ast.Name) and isinstance(self.names.get(func.id), str):
            # ``from sqlalchemy import select as sel`` still means select.
            name = self.names[func.id].rsplit(".", 1)[-1]
        attr = func.attr if isinstance(func, ast.Attribute) else None
        statement = name or attr

        if (
            attr in SESSION_WRITES
            and isinstance(func, ast.Attribute)
            and self._is_session(func.value)
        ):
            model = self._argument_model(first) if first is not None else None
            self._touch(node, "write", model, f"{ast.unparse(func)}()")
        elif statement in STATEMENT_WRITES and first is not None and self.model_of(first):
            self._touch(node, "write", self.model_of(first), f"{statement}()")
        elif statement in STATEMENT_WRITES and self._from_sqlalchemy(func):
            # insert(model) with a model held in a variable: a write all the same.
            self._touch(node, "write", None, f"{ast.unparse(func)}()")
        elif (
            attr in STATEMENT_WRITES
            and isinstance(func, ast.Attribute)
            and (model := self.model_of(func.value))
        ):
            self._touch(node, "write", model, f"{ast.unparse(func)}()")
        elif statement in {"select", "aliased"}:
            for argument in node.args:
                if model := self.model_of(argument):
                    self._touch(node, "read", model, f"{statement}()")
        elif attr in SELECT_CLAUSES and first is not None and (model := self.model_of(first)):
            self._touch(node, "read", model, f".{attr}()")
        elif (
            attr in {"get", "query"}
            and isinstance(func, ast.Attribute)
            and self._is_session(func.value)
            and first is not None
            and (model := self.model_of(first))
        ):
            self._touch(node, "read", model, f"{ast.unparse(func)}()")
        self.generic_visit(node)


def scan(source: str, module: str, models: dict[str, frozenset[str]]) -> list[Touch]:
    scanner = _Scanner(module=module, models=models)
    scanner.visit(ast.parse(source))
    return scanner.touches


def _in_actions(module: str) -> bool:
    return "actions" in module.split(".")


def _is_queries(module: str) -> bool:
    """A ``queries.py``, or a module of a ``queries/`` package."""
    return "queries" in module.split(".")


def _in_db(module: str) -> bool:
    return module.split(".")[:2] == ["fusioncell", "db"]


def misplaced(touch: Touch) -> bool:
    if touch.operation == "write":
        return not _in_actions(touch.module)
    own_models = touch.model.rsplit(".", 1)[0] == touch.module
    return not (
        _is_queries(touch.module) or _in_actions(touch.module) or _in_db(touch.module) or own_models
    )


def _domain(module: str) -> str:
    return module.split(".")[1]


def crosses_domains(touch: Touch) -> bool:
    return (
        touch.model != "?"
        and not _in_db(touch.module)
        and _domain(touch.module) != _domain(touch.model)
    )


def source_touches() -> Iterator[Touch]:
    models = find_models()
    for path in sorted(PACKAGE.rglob("*.py")):
        yield from scan(path.read_text(), module_name(path), models)


def _unexplained(touches: Iterator[Touch]) -> list[str]:
    return [
        str(touch)
        for touch in touches
        if (touch.module, touch.model.rsplit(".", 1)[-1], touch.operation) not in ALLOWED
    ]


# --- the source ----------------------------------------------------------------------------


def test_the_walk_finds_the_models_and_their_uses() -> None:
    models = find_models()
    assert {"Member", "ApiToken", "WebSession"} <= models["fusioncell.cell.models"]
    assert "GeoFeature" in models["fusioncell.geo.models"]

    touches = list(source_touches())
    # If these vanish, the scanner went blind, not the code clean.
    assert any(
        t.module.startswith("fusioncell.cell.actions") and t.operation == "write" for t in touches
    )
    assert any(t.module == "fusioncell.cell.queries" and t.operation == "read" for t in touches)
    assert any(t.module == "fusioncell.geo.actions" and t.operation == "write" for t in touches)


def test_only_actions_write_tables() -> None:
    writes = (t for t in source_touches() if t.operation == "write" and misplaced(t))
    assert _unexplained(writes) == []


def test_tables_are_read_only_in_queries_actions_and_db() -> None:
    reads = (t for t in source_touches() if t.operation == "read" and misplaced(t))
    assert _unexplained(reads) == []


def test_a_domain_never_touches_another_domains_tables() -> None:
    assert _unexplained(t for t in source_touches() if crosses_domains(t)) == []


def test_every_allowed_exception_is_still_needed() -> None:
    found = {
        (t.module, t.model.rsplit(".", 1)[-1], t.operation)
        for t in source_touches()
        if misplaced(t) or crosses_domains(t)
    }
    assert sorted(ALLOWED.keys() - found) == []


# --- the scanner itself --------------------------------------------------------------------

FAKE_MODELS = {"fusioncell.cell.models": frozenset({"Member", "Role"})}
HEADER = "from fusioncell.cell.models import Member\nfrom sqlalchemy import delete, insert, select, update\n"


@pytest.mark.parametrize(
    ("body", "operation", "how"),
    [
        ("db.add(Member(id=1))", "write", "db.add()"),
        ("db.add_all([Member(id=1)])", "write", "db.add_all()"),
        ("db.delete(member)", "write", "db.delete()"),
        ("db.merge(Member(id=1))", "write", "db.merge()"),
        ("db.execute(insert(Member).values(id=1))", "write", "insert()"),
        ("db.execute(update(Member).values(id=1))", "write", "update()"),
        ("db.execute(delete(Member))", "write", "delete()"),
        ("db.execute(Member.__table__.delete())", "write", "Member.__table__.delete()"),
        ("for model in (Member,):\n    db.execute(insert(model), rows)", "write", "insert()"),
        ("db.scalars(select(Member))", "read", "select()"),
        ("db.scalars(select(Member.id))", "read", "select()"),
        ("db.get(Member, 1)", "read", "db.get()"),
        ("db.query(Member)", "read", "db.query()"),
        ("select(Other).join(Member)", "read", ".join()"),
    ],
)
def test_the_scanner_sees_a_write_or_read_outside_its_place(
    body: str, operation: str, how: str
) -> None:
    touches = scan(HEADER + body + "\n", "fusioncell.cell.views", FAKE_MODELS)

    assert [(t.operation, t.how) for t in touches] == [(operation, how)]
    assert all(misplaced(t) for t in touches)
    assert scan(HEADER + body, "fusioncell.cell.actions.members", FAKE_MODELS)
    assert not any(
        misplaced(t) for t in scan(HEADER + body, "fusioncell.cell.actions.members", FAKE_MODELS)
    )


def test_the_scanner_resolves_module_aliases_and_annotated_sessions() -> None:
    source = (
        "from sqlalchemy.orm import Session\n"
        "from fusioncell.cell import models as cell_models\n"
        "import fusioncell.cell.models as m\n"
        "def f(store: Session, x):\n"
        "    store.add(cell_models.Member())\n"
        "    return store.get(m.Member, x)\n"
    )

    touches = scan(source, "fusioncell.web.views", FAKE_MODELS)

    assert [(t.operation, t.model) for t in touches] == [
        ("write", "fusioncell.cell.models.Member"),
        ("read", "fusioncell.cell.models.Member"),
    ]


def test_the_scanner_resolves_relative_imports() -> None:
    source = "from .models import Member\nfrom sqlalchemy import select\nselect(Member)\n"

    touches = scan(source, "fusioncell.cell.views", FAKE_MODELS)

    assert [t.model for t in touches] == ["fusioncell.cell.models.Member"]


def test_the_scanner_ignores_sets_dicts_and_enums() -> None:
    source = (
        HEADER + "seen = set()\nseen.add(Member)\nlookup = {}\nlookup.get(Member)\n"
        "roles = [Role.ADMIN]\nselect(func.count())\n"
    )

    assert scan(source, "fusioncell.cell.views", FAKE_MODELS) == []


def test_reads_in_the_models_own_module_are_allowed_but_not_in_another() -> None:
    source = "from sqlalchemy import select\nselect(Member.id)\n"

    own = scan(source, "fusioncell.cell.models", FAKE_MODELS)
    assert own and not any(misplaced(t) for t in own)
    other = scan(HEADER + "select(Member.id)\n", "fusioncell.geo.models", FAKE_MODELS)
    assert other and all(misplaced(t) for t in other)
    assert all(crosses_domains(t) for t in other)


# -- the direction of imports ---------------------------------------------------------------

TRACK_PACKAGES = ("fusioncell.cell", "fusioncell.geo", "fusioncell.hotline")
DOMAIN_PACKAGES = (*TRACK_PACKAGES, "fusioncell.ledger", "fusioncell.live")
# A domain's web face: routes and the stream take the request's viewer, database and clock
# from ``fusioncell.web.deps`` and render with ``fusioncell.web.pages``. Only these may import
# ``web/``; every other domain module stays usable from the CLI, the engine and the verifier.
WEB_FACING = frozenset({"api", "views", "stream"})


def imports_of(path: Path) -> set[str]:
    """Every fusioncell module a file imports, at the top or inside a function."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name.startswith("fusioncell")}


def import_graph() -> dict[str, set[str]]:
    return {module_name(path): imports_of(path) for path in sorted(PACKAGE.rglob("*.py"))}


def _within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(f"{p}.") for p in packages)


def _web_facing(module: str) -> bool:
    """An ``api``, ``views`` or ``stream`` module of a package, or a module inside one that
    grew into a package (``hotline/views/inbox.py``)."""
    return any(part in WEB_FACING for part in module.split(".")[2:])


def test_the_ledger_imports_no_track_and_no_web() -> None:
    wrong = [
        f"{module} imports {name}"
        for module, names in import_graph().items()
        if _within(module, ("fusioncell.ledger",)) and not _web_facing(module)
        for name in sorted(names)
        if _within(name, (*TRACK_PACKAGES, "fusioncell.web", "fusioncell.bootstrap"))
    ]
    assert wrong == []


def test_domain_modules_import_no_web_internals_only_the_neutral_translations() -> None:
    wrong = [
        f"{module} imports {name}"
        for module, names in import_graph().items()
        if _within(module, DOMAIN_PACKAGES) and not _web_facing(module)
        for name in sorted(names)
        if _within(name, ("fusioncell.web",))
    ]
    assert wrong == []


def test_cell_and_ledger_import_each_other_one_way_only() -> None:
    graph = import_graph()

    def reaches(start: str, target: tuple[str, ...]) -> list[str]:
        """A chain of imports from ``start`` into ``target``, through non-web modules."""
        seen = {start}
        pending = [[start]]
        while pending:
            chain = pending.pop()
            for name in sorted(graph.get(chain[-1], ())):
                if name not in graph or name in seen or _web_facing(name):
                    continue
                if _within(name, target):
                    return [*chain, name]
                seen.add(name)
                pending.append([*chain, name])
        return []

    ledger = [m for m in graph if _within(m, ("fusioncell.ledger",)) and not _web_facing(m)]
    assert [chain for m in ledger if (chain := reaches(m, ("fusioncell.cell",)))] == []


def test_the_import_walk_sees_relative_and_nested_imports(tmp_path: Path) -> None:
    package = tmp_path / "src" / "fusioncell" / "ledger"
    package.mkdir(parents=True)
    module = package / "example.py"
    module.write_text(
        "from ..cell import policy\n"
        "from .entries import canonical\n"
        "def later():\n"
        "    import fusioncell.web.pages\n"
    )
    global SRC
    saved, SRC = SRC, tmp_path / "src"
    try:
        assert imports_of(module) == {
            "fusioncell.cell",
            "fusioncell.cell.policy",
            "fusioncell.ledger.entries",
            "fusioncell.ledger.entries.canonical",
            "fusioncell.web.pages",
        }
    finally:
        SRC = saved
