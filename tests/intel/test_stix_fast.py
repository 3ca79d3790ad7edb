"""The fast "yes" of STIX validation (compiled schemas, the pattern recogniser) never says
valid where stix2-validator 3.2.0's ``validate_instance`` finds an error, and answers itself
for the common objects: the verdicts of ``stix.validation_errors`` equal the library's on its
example files, their mutations and generated objects; the recogniser's inspection equals the
ANTLR listener's on generated patterns, and it accepts none that ANTLR refuses."""

from __future__ import annotations

import copy
import json
import uuid
import warnings
from pathlib import Path
from typing import Any

import pytest
import stix2validator  # type: ignore[import-untyped]
from antlr4 import CommonTokenStream, InputStream, ParseTreeWalker  # type: ignore[import-untyped]
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from stix2patterns.exceptions import STIXPatternErrorListener  # type: ignore[import-untyped]
from stix2patterns.v21.grammars.STIXPatternLexer import (  # type: ignore[import-untyped]
    STIXPatternLexer,
)
from stix2patterns.v21.grammars.STIXPatternParser import (  # type: ignore[import-untyped]
    STIXPatternParser,
)
from stix2patterns.v21.inspector import InspectionListener  # type: ignore[import-untyped]
from stix2validator import ValidationOptions, validate_instance

from fusioncell.intel import stix, stix_fast, stix_validation

ROOT = Path(stix2validator.__file__).parent


def _samples(version: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for path in sorted((ROOT / f"schemas-{version}" / "examples").rglob("*.json")):
        data = json.loads(path.read_text())
        found.extend(data["objects"] if data.get("type") == "bundle" else [data])
    return found


def _library_valid(item: Any, version: str) -> bool:
    """The library's verdict, as in production: its warnings (a deprecated parse...) are not
    errors there; an object it raises on is refused (``stix.validate`` refuses it too)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = validate_instance(copy.deepcopy(item), ValidationOptions(version=version))
        return bool(result.is_valid)
    except Exception:
        return False


def _ours_valid(item: Any, version: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return stix.validation_errors(copy.deepcopy(item), version) == []
    except Exception:
        return False


def _validator(version: str) -> Any:
    stix.validation_errors(_samples(version)[0], version)
    return stix_validation._VALIDATORS[version]


# -- objects --------------------------------------------------------------------------------

SAMPLES_21 = _samples("2.1")
SAMPLES_20 = _samples("2.0")
ODD_STRINGS = [
    "",
    "x",
    "a\n",
    "2026-01-06T08:00:00Z\n",
    "2026-01-06T08:00:00.000Z",
    "٢٠٢٦-01-06T08:00:00Z",
    "2026-02-30T00:00:00Z",
    "indicator--" + str(uuid.uuid4()),
    "indicator--" + str(uuid.uuid4()) + "\n",
    "identity--" + str(uuid.uuid1()),
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    "en",
    "en\n",
    "x-custom-thing",
    "x_custom",
    "[ipv4-addr:value = '1.2.3.4']",
    "[file:hashes.MD5 = 'zz']",
    "a@b.example",
    "not an email",
    "http://example.com/a b",
    "1.2.3.4",
    "::1",
    "\u00a0",
]
VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(ODD_STRINGS)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["a", "x_y", "MD5", "SHA-256", "a\n", "type"]), inner)
    ),
    max_leaves=6,
)


@st.composite
def mutated(draw: st.DrawFn, samples: list[dict[str, Any]]) -> dict[str, Any]:
    """A library example with a few of its properties replaced, removed or added."""
    item = copy.deepcopy(draw(st.sampled_from(samples)))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        choice = draw(st.integers(min_value=0, max_value=3))
        keys = sorted(item)
        if choice == 0 and keys:
            item.pop(draw(st.sampled_from(keys)), None)
        elif choice == 1 and keys:
            item[draw(st.sampled_from(keys))] = draw(VALUES)
        elif choice == 2:
            name = draw(st.sampled_from([*keys, "x_custom", "Custom", "lang", "confidence"]))
            item[name] = draw(VALUES)
        elif keys:
            name = draw(st.sampled_from(keys))
            if isinstance(item[name], str):
                item[name] = draw(st.sampled_from([*ODD_STRINGS, item[name] + "\n"]))
    return item


@pytest.mark.parametrize("version", ["2.1", "2.0"])
def test_every_example_takes_the_fast_path(version: str) -> None:
    validator = _validator(version)
    for item in _samples(version):
        assert _library_valid(item, version) is True
        assert validator._valid(copy.deepcopy(item)), item["id"]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(item=mutated(SAMPLES_21))
def test_verdicts_equal_the_library_21(item: dict[str, Any]) -> None:
    assert _ours_valid(item, "2.1") == _library_valid(item, "2.1")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(item=mutated(SAMPLES_20))
def test_verdicts_equal_the_library_20(item: dict[str, Any]) -> None:
    assert _ours_valid(item, "2.0") == _library_valid(item, "2.0")


def test_a_newline_before_the_end_is_read_as_python_reads_it() -> None:
    """Python's ``$`` also matches before a final newline; the schemas' regular expressions
    keep that meaning in the compiled schemas."""
    traffic = {
        "type": "network-traffic",
        "spec_version": "2.1",
        "id": "network-traffic--2568d22a-8998-58eb-99ec-3c8ca74f527d",
        "protocols": ["tcp"],
        "src_ref": "ipv4-addr--2568d22a-8998-58eb-99ec-3c8ca74f527d",
        "ipfix": {"abc": 1},
    }
    assert _library_valid(traffic, "2.1") and _ours_valid(traffic, "2.1")
    broken = {**traffic, "ipfix": {"abc\n": [1]}}  # the key matches: its value is checked
    assert _library_valid(broken, "2.1") is False
    assert _ours_valid(broken, "2.1") is False
    assert stix_fast._python_dollar("^a[$]b$") == "^a[$]b(?=\\n?\\z)"


# -- patterns -------------------------------------------------------------------------------


def _antlr(pattern: str) -> tuple[list[str], Any]:
    listener = STIXPatternErrorListener()
    lexer = STIXPatternLexer(InputStream(pattern))
    lexer.removeErrorListeners()
    parser = STIXPatternParser(CommonTokenStream(lexer))
    parser.removeErrorListeners()
    parser.addErrorListener(listener)
    tree = parser.pattern()
    if listener.err_strings:
        return listener.err_strings, None
    inspection = InspectionListener()
    ParseTreeWalker.DEFAULT.walk(inspection, tree)
    return [], inspection.pattern_data().comparisons


PIECES = [
    "[", "]", "(", ")", ":", ".", ",", "*", "=", "==", "!=", "<>", "<", "<=", ">", ">=",
    "AND", "OR", "NOT", "FOLLOWEDBY", "LIKE", "MATCHES", "IN", "EXISTS", "WITHIN", "SECONDS",
    "and", "true", "false", "TRUE", "ipv4-addr", "file", "x-thing", "value", "name", "hashes",
    "MD5", "'SHA-256'", "'a'", "'it\\'s'", "'\\\\'", "'a\\b'", "''", "0", "1", "-1", "+2",
    "012", "1.5", "t'2026-01-01T00:00:00Z'", "h'ab'", "b'YQ=='", "/* c */", "- 1", "a-", "_x",
    "'d41d8cd98f00b204e9800998ecf8427e'", "a'b'", "\u00a0",
]  # fmt: skip
GAPS = st.sampled_from(["", " ", "  ", "\t", "\n"])


@st.composite
def token_soup(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.sampled_from(PIECES), min_size=1, max_size=14))
    return "".join(part + draw(GAPS) for part in parts)


@st.composite
def plausible(draw: st.DrawFn) -> str:
    """Patterns shaped as the recognised subset, often valid, sometimes not."""

    def path() -> str:
        kind = draw(st.sampled_from(["ipv4-addr", "file", "x-thing", "url", "Bad_Type", "AND"]))
        first = draw(st.sampled_from(["value", "name", "hashes", "'odd name'", "Bad-Name", "IN"]))
        steps = draw(
            st.lists(st.sampled_from([".MD5", ".'SHA-256'", "[0]", "[*]", "[-1]", ".x_y", ".1"]))
        )
        return f"{kind}:{first}{''.join(steps)}"

    def test() -> str:
        op = draw(st.sampled_from(["=", "==", "!=", "<>", "<", ">=", "LIKE", "MATCHES", "IN"]))
        literal = draw(
            st.sampled_from(["'x'", "1", "-3", "true", "'d41d8cd98f00b204e9800998ecf8427e'", "(1)"])
        )
        negation = draw(st.sampled_from(["", "NOT "]))
        return f"{path()} {negation}{op} {literal}"

    def observation() -> str:
        tests = [test() for _ in range(draw(st.integers(min_value=1, max_value=3)))]
        joined = tests[0]
        for item in tests[1:]:
            joined += draw(st.sampled_from([" AND ", " OR ", " and "])) + item
        return f"[{joined}]"

    observations = [observation() for _ in range(draw(st.integers(min_value=1, max_value=3)))]
    pattern = observations[0]
    for item in observations[1:]:
        pattern += draw(st.sampled_from([" AND ", " OR ", " FOLLOWEDBY ", " "])) + item
    return pattern


def _same_as_antlr(pattern: str) -> None:
    ours = stix_fast.inspect_pattern(pattern)
    try:
        errors, comparisons = _antlr(pattern)
    except Exception:  # the library's inspection raises ([-1]): never recognised here
        assert ours is None, pattern
        return
    if ours is not None:
        assert errors == [], (pattern, errors)
        assert ours == comparisons, pattern


@settings(max_examples=600, deadline=None)
@given(pattern=plausible())
@example("[ipv4-addr:value = '198.51.0.1']")
@example("[file:hashes.'SHA-256' = 'aa' AND file:name NOT LIKE 'a%'] FOLLOWEDBY [x:y[*] = 1]")
def test_recogniser_inspects_as_antlr(pattern: str) -> None:
    _same_as_antlr(pattern)


@settings(max_examples=600, deadline=None)
@given(pattern=token_soup())
def test_recogniser_accepts_nothing_antlr_refuses(pattern: str) -> None:
    _same_as_antlr(pattern)


def test_recogniser_answers_the_common_patterns() -> None:
    for pattern in (
        "[ipv4-addr:value = '198.51.0.1']",
        "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e' OR file:name = 'a.exe']",
        "[domain-name:value = 'example.com'] AND [url:value != 'x']",
    ):
        assert stix_fast.inspect_pattern(pattern) == _antlr(pattern)[1]
    for outside in ("([a:b = 1])", "[a:b = 1] WITHIN 5 SECONDS", "[a:b = t'2026-01-01T00:00:00Z']"):
        assert stix_fast.inspect_pattern(outside) is None


def test_a_bad_hash_in_a_recognised_pattern_gets_the_library_message() -> None:
    item = next(i for i in SAMPLES_21 if i["type"] == "indicator")
    item = {**item, "pattern": "[file:hashes.MD5 = 'zz']", "pattern_type": "stix"}
    expected = validate_instance(copy.deepcopy(item), ValidationOptions(version="2.1"))
    assert [str(e.message) for e in expected.errors] == stix.validation_errors(item)
    assert stix.validation_errors(item)
