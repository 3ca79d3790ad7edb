"""A fast "yes" for STIX validation: stix2-validator 3.2.0's JSON schemas compiled once with
``jsonschema_rs``, and a recogniser of the common STIX 2.1 patterns that yields the same
inspection the library's ANTLR parser would.

Both only ever say "valid" where stix2-validator says valid; anything else (an object the
schemas refuse, a pattern outside the recognised subset, an exception) is answered by the
library's own path in ``stix_validation._Validator``, which gives its verdict and its messages. To keep
"valid here" a subset of "valid there":

- the schemas are the library's files, with the library's changes (``$id`` as file URIs, its
  observed-data rewrite); regular expressions of the ``pattern`` keyword run in Python's
  ``re`` (``re.search``, as ``jsonschema`` does) through a custom keyword, formats through
  ``jsonschema``'s own format checker; ``patternProperties`` keys run in Rust, rewritten so
  that ``$`` also matches before a final newline, as in Python;
- the pattern recogniser accepts a subset of the grammar (observations of comparisons joined
  by AND/OR/FOLLOWEDBY, no parentheses, qualifiers or comments, plain whitespace) and
  tokenises it as the ANTLR lexer does (longest match; keywords are upper case; ``true`` and
  ``false`` are literals).

``tests/intel/test_stix_fast.py`` compares the verdicts with ``validate_instance`` on the
library's examples, their mutations and generated objects and patterns.
"""

from __future__ import annotations

import functools
import json
import os
import pathlib
import re
from collections.abc import Callable
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from stix2patterns.inspector import INDEX_STAR  # type: ignore[import-untyped]

# -- schemas ------------------------------------------------------------------------------


def _python_dollar(pattern: str) -> str:
    """A regular expression for the Rust engine that matches where Python's ``re.search``
    does: an unescaped ``$`` outside a character class also matches before a final
    newline."""
    out = []
    escaped = in_class = False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "$":
            out.append("(?=\\n?\\z)")
            continue
        out.append(char)
    return "".join(out)


class _PythonPattern:
    """The ``pattern`` keyword, as ``jsonschema`` checks it: ``re.search`` on strings."""

    def __init__(self, _parent: Any, value: str, _path: Any) -> None:
        self.search = _compiled_re(value).search

    def validate(self, instance: Any) -> None:
        if isinstance(instance, str) and self.search(instance) is None:
            raise ValueError("does not match")


@functools.lru_cache(maxsize=512)
def _compiled_re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _format_checks() -> dict[str, Callable[[Any], bool]]:
    checker = Draft202012Validator.FORMAT_CHECKER
    return {name: functools.partial(_conforms, checker, name) for name in checker.checkers}


def _conforms(checker: Any, name: str, instance: Any) -> bool:
    return bool(checker.conforms(instance, name))


def _rewrite(node: Any) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "patternProperties" and isinstance(value, dict):
                out[key] = {_python_dollar(k): _rewrite(v) for k, v in value.items()}
            else:
                out[key] = _rewrite(value)
        return out
    if isinstance(node, list):
        return [_rewrite(item) for item in node]
    return node


class CompiledSchemas:
    """The schemas of one STIX version's folder, compiled on first use per file."""

    def __init__(self, schema_dir: str, patch: Callable[[dict[str, Any], str], Any]) -> None:
        self.patch = patch
        self.resources: list[tuple[str, Any]] = []
        for root, _dirs, files in os.walk(schema_dir, followlinks=True):
            if "examples" in root:
                continue
            for name in files:
                if name.endswith(".json"):
                    path = os.path.join(root, name)
                    with open(path) as file:
                        schema = patch(json.load(file), path)
                    self.resources.append((pathlib.Path(path).as_uri(), _rewrite(schema)))
        self.registry = jsonschema_rs.Registry(self.resources)
        self.formats = _format_checks()
        self.compiled: dict[tuple[str, str], Any] = {}

    def validator(self, path: str, variant: str, schema: dict[str, Any]) -> Any:
        """The compiled ``schema`` (the file at ``path`` as the library changes it for
        ``variant``)."""
        key = (path, variant)
        found = self.compiled.get(key)
        if found is None:
            found = jsonschema_rs.Draft202012Validator(
                _rewrite(self.patch(schema, path)),
                registry=self.registry,
                validate_formats=True,
                ignore_unknown_formats=True,
                formats=self.formats,
                keywords={"pattern": _PythonPattern},
            )
            self.compiled[key] = found
        return found


# -- patterns -----------------------------------------------------------------------------

_KEYWORDS = frozenset(
    {
        "AND", "OR", "NOT", "FOLLOWEDBY", "LIKE", "MATCHES", "ISSUPERSET", "ISSUBSET",
        "EXISTS", "LAST", "IN", "START", "STOP", "SECONDS", "WITHIN", "REPEATS", "TIMES",
    }
)  # fmt: skip
_TOKEN = re.compile(
    r"""
    (?P<string>'(?:[^'\\]|\\'|\\\\)*')
  | (?P<ident>[a-zA-Z_][a-zA-Z0-9_-]*)(?P<quoted>')?
  | (?P<int>[+-]?(?:0|[1-9][0-9]*))(?P<more>[0-9.])?
  | (?P<op><=|>=|==|!=|<>|[=<>])
  | (?P<punct>[\[\]:.*])
  | (?P<ws>[ \t\r\n]+)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_EQUALITY = frozenset({"=", "==", "!=", "<>"})
_ORDER = frozenset({"<", "<=", ">", ">="})


def _tokens(pattern: str) -> list[tuple[str, str]] | None:
    """The pattern's tokens as (kind, text), or None if it holds anything outside the
    recognised subset."""
    out: list[tuple[str, str]] = []
    for string, ident, quoted, number, more, op, punct, _ws, other in _TOKEN.findall(pattern):
        if string:
            out.append(("string", string))
        elif ident:
            if quoted:  # h'..', b'..', t'..': not recognised here
                return None
            if ident in _KEYWORDS:
                out.append((ident, ident))
            elif ident in ("true", "false"):
                out.append(("bool", ident))
            elif "-" in ident:
                out.append(("ident-", ident))
            else:
                out.append(("ident", ident))
        elif number:
            if more:  # 012, 1.5: not recognised here
                return None
            out.append(("int", number))
        elif op:
            out.append(("op", op))
        elif punct:
            out.append((punct, punct))
        elif other:
            return None
    return out


def _unquote(literal: str) -> str:
    return literal[1:-1].replace("\\'", "'").replace("\\\\", "\\")


def inspect_pattern(pattern: str) -> dict[str, list[tuple[list[Any], str, str]]] | None:
    """The comparisons ``stix2patterns``' ``InspectionListener`` would collect from a valid
    STIX 2.1 pattern in the recognised subset (object type -> [(path, operator, literal)]),
    or None: the pattern is outside the subset, or invalid."""
    tokens = _tokens(pattern)
    if not tokens:
        return None
    comparisons: dict[str, list[tuple[list[Any], str, str]]] = {}
    count = len(tokens)
    at = 0

    def kind(n: int) -> str:
        return tokens[n][0] if n < count else "EOF"

    while True:  # an observation: [ comparison (AND|OR comparison)* ]
        if kind(at) != "[":
            return None
        at += 1
        while True:  # objectType ':' firstPathComponent step* NOT? op literal
            if kind(at) not in ("ident", "ident-") or kind(at + 1) != ":":
                return None
            object_type = tokens[at][1]
            at += 2
            if kind(at) == "ident":
                path: list[Any] = [tokens[at][1]]
            elif kind(at) == "string":
                path = [_unquote(tokens[at][1])]
            else:
                return None
            at += 1
            while kind(at) in (".", "["):
                if kind(at) == ".":
                    if kind(at + 1) == "ident":
                        path.append(tokens[at + 1][1])
                    elif kind(at + 1) == "string":
                        path.append(_unquote(tokens[at + 1][1]))
                    else:
                        return None
                    at += 2
                else:
                    if kind(at + 1) == "*":
                        path.append(INDEX_STAR)
                    elif kind(at + 1) == "int" and tokens[at + 1][1][0] != "-":
                        # (the library's inspector raises on a negative index)
                        path.append(int(tokens[at + 1][1]))
                    else:
                        return None
                    if kind(at + 2) != "]":
                        return None
                    at += 3
            negated = kind(at) == "NOT"
            if negated:
                at += 1
            operator, literal = tokens[at][1] if at < count else "", kind(at + 1)
            if kind(at) == "op" and operator in _EQUALITY:
                ok = literal in ("string", "int", "bool")
            elif kind(at) == "op" and operator in _ORDER:
                ok = literal in ("string", "int")
            elif kind(at) in ("LIKE", "MATCHES"):
                ok = literal == "string"
            else:
                return None
            if not ok:
                return None
            comparisons.setdefault(object_type, []).append(
                (path, ("NOT " if negated else "") + operator, tokens[at + 1][1])
            )
            at += 2
            if kind(at) in ("AND", "OR"):
                at += 1
                continue
            break
        if kind(at) != "]":
            return None
        at += 1
        if kind(at) == "EOF":
            return comparisons
        if kind(at) not in ("AND", "OR", "FOLLOWEDBY"):
            return None
        at += 1
