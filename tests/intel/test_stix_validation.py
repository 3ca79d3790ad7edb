"""The fast validation path answers exactly as stix2-validator 3.2.0's ``validate_instance``:
the same valid/invalid verdict and the same messages, for the example files that ship in its
wheel (STIX 2.1 and 2.0, every object) and for those objects broken in many ways."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import stix2validator  # type: ignore[import-untyped]
from stix2validator import ValidationOptions, validate_instance

from fusioncell.errors import InvalidInput
from fusioncell.intel import stix, stix_validation

ROOT = Path(stix2validator.__file__).parent


def _samples(version: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for path in sorted((ROOT / f"schemas-{version}" / "examples").rglob("*.json")):
        data = json.loads(path.read_text())
        found.extend(data["objects"] if data.get("type") == "bundle" else [data])
    return found


def _reference(item: Any, version: str) -> list[str] | str:
    try:
        result = validate_instance(item, ValidationOptions(version=version))
    except Exception as refusal:
        return f"raised {type(refusal).__name__}: {refusal}"
    return [str(getattr(error, "message", error)) for error in result.errors]


def _fast(item: Any, version: str) -> list[str] | str:
    try:
        return stix.validation_errors(item, version)
    except Exception as refusal:
        return f"raised {type(refusal).__name__}: {refusal}"


def _broken(item: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The object broken one way at a time."""
    for key in list(item):
        without = dict(item)
        del without[key]
        yield without
    yield {**item, "created": "2026-13-01T00:00:00Z"}
    yield {**item, "created": "2026-02-30T00:00:00.000Z", "modified": "2026-02-30T00:00:00.000Z"}
    yield {**item, "modified": "2026-06-31T23:59:60.000Z"}
    yield {**item, "modified": "1999-01-01T00:00:00.000Z"}
    yield {**item, "id": item["id"].split("--")[0] + "--not-a-uuid"}
    yield {**item, "id": item["id"].split("--")[0] + "--" + str(uuid.uuid1())}
    yield {**item, "type": "x_Custom"}
    yield {**item, "type": "x-custom-thing"}
    yield {**item, "type": 7}
    yield {**item, "spec_version": "2.2"}
    yield {**item, "CustomProperty": 1}
    yield {**item, "x_custom": "ok"}
    yield {**item, "labels": "not a list"}
    yield {**item, "created_by_ref": "indicator--" + str(uuid.uuid4())}
    yield {**item, "object_marking_refs": ["marking-definition--nope"]}
    yield {**item, "external_references": [{"source_name": "x", "hashes": {"MD5": "zz"}}]}
    yield {**item, "lang": "not-a-language-code"}
    yield {**item, "confidence": 101}
    yield {**item, "granular_markings": [{"selectors": ["nowhere"], "lang": "en"}]}
    if item.get("type") == "indicator":
        yield {**item, "pattern": "[file:hashes.MD5 = 'x'"}
        yield {**item, "pattern": "[x-thing:value = 'a'] WITHIN 5 SECONDS WITHIN 6 SECONDS"}
        yield {**item, "pattern": "[ipv4-addr:nonsense = '1.2.3.4']"}
        yield {**item, "pattern": "file:name = 'x'"}
        yield {**item, "pattern": "[x-thing:Bad-Name = 'a']"}
        yield {**item, "pattern": "[Bad_Type:value = 'a']"}
        yield {**item, "pattern": "([file:name = 'a'] AND [file:name = 'b']) REPEATS 2 TIMES"}
        yield {**item, "pattern_version": "2.0"}
        yield {**item, "valid_until": "2000-01-01T00:00:00Z"}
    if item.get("type") == "observed-data":
        yield {**item, "objects": {"0": {"type": "file", "name": 5}}}
        yield {**item, "objects": {"0": {"value": "1.2.3.4"}}}
        yield {**item, "objects": ["not", "a", "dict"]}
        yield {**item, "objects": {"0": {"type": "bundle"}}}
        yield {**item, "number_observed": 0}
    if item.get("type") == "relationship":
        yield {**item, "relationship_type": "Not Lowercase"}


def _cases(version: str) -> list[dict[str, Any]]:
    samples = _samples(version)
    one_per_type = {item["type"]: item for item in samples}.values()
    return samples + [broken for item in one_per_type for broken in _broken(copy.deepcopy(item))]


@pytest.mark.parametrize("version", ["2.1", "2.0"])
def test_fast_path_matches_validate_instance(version: str) -> None:
    cases = _cases(version)
    assert len(_samples(version)) >= 40
    verdicts = {True: 0, False: 0}
    for item in cases:
        expected = _reference(copy.deepcopy(item), version)
        assert _fast(copy.deepcopy(item), version) == expected, item
        verdicts[expected == []] += 1
    # both verdicts are well represented
    assert verdicts[True] >= 40 and verdicts[False] >= 150, verdicts


def test_fast_path_is_built_once_and_parses_a_pattern_once() -> None:
    item = next(i for i in _samples("2.1") if i["type"] == "indicator")
    stix.validation_errors(item)
    validator = stix_validation._VALIDATORS["2.1"]
    assert validator.compiled.compiled, "the compiled schemas are built once and kept"
    assert validator._valid(item), "a valid object is answered by the compiled schemas"
    assert (
        stix_validation._patterns_check in validator.musts
        and stix_validation._timestamp_check in validator.musts
    )
    assert validator._fast(item) == [], "the fast path itself answers, not the fallback"
    assert validator.validators, "the library's validators are built once and kept"
    assert item["pattern"] not in stix_validation._INSPECTED, (
        "the inspection is used once, then dropped"
    )


def test_validate_accepts_stix_20_objects_as_20() -> None:
    objects = list({item["id"]: item for item in _samples("2.0")}.values())
    stix.validate(objects, max_objects=len(objects))
    assert stix.spec_version_of(objects[0]) == "2.0"
    broken = {**objects[0], "created": "yesterday"}
    with pytest.raises(InvalidInput) as refused:
        stix.validate([broken], max_objects=1)
    assert refused.value.extensions["errors"][0]["object"] == broken["id"]


def test_validate_refuses_what_the_validator_cannot_read() -> None:
    """stix2-validator raises a TypeError on a type that is not a string: a refusal here."""
    item = {**_samples("2.1")[0], "type": 7}
    with pytest.raises(InvalidInput) as refused:
        stix.validate([item], max_objects=1)
    assert refused.value.extensions["errors"][0]["object"] == item["id"]


def test_unknown_versions_are_not_validated() -> None:
    with pytest.raises(ValueError):
        stix.validation_errors({"type": "indicator", "id": "x"}, "3.0")
