"""stix2-validator 3.2.0's verdicts and messages on one STIX object, made fast: what the
library rebuilds per object is built once (``_Validator``), the common objects take the
compiled schemas of ``stix_fast``, and anything else the library's own path.

Its own module because importing the library costs seconds (jsonschema's format checker
builds its IRI grammars at import): ``stix.validate`` imports it on first use, so a command,
a page or a server that validates nothing never pays for it.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
import pathlib
import types
from collections.abc import Iterable
from typing import Any

from antlr4 import (  # type: ignore[import-untyped]
    CommonTokenStream,
    InputStream,
    ParseTreeWalker,
)
from dateutil import parser as _dateutil_parser  # type: ignore[import-untyped]
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from stix2patterns.exceptions import STIXPatternErrorListener  # type: ignore[import-untyped]
from stix2patterns.helpers import brackets_check  # type: ignore[import-untyped]
from stix2patterns.inspector import _PatternData  # type: ignore[import-untyped]
from stix2patterns.v21 import object_validator  # type: ignore[import-untyped]
from stix2patterns.v21.grammars.STIXPatternLexer import (  # type: ignore[import-untyped]
    STIXPatternLexer,
)
from stix2patterns.v21.grammars.STIXPatternParser import (  # type: ignore[import-untyped]
    STIXPatternParser,
)
from stix2patterns.v21.inspector import InspectionListener  # type: ignore[import-untyped]
from stix2patterns.v21.pattern import Pattern as _Pattern21  # type: ignore[import-untyped]
from stix2patterns.v21.validator import (  # type: ignore[import-untyped]
    DuplicateQualifierTypeError,
)
from stix2patterns.v21.validator import (
    ValidationListener as QualifierListener,
)
from stix2patterns.validator import run_validator as _pattern_validator  # type: ignore[import-untyped]
from stix2validator import ValidationOptions, validate_instance  # type: ignore[import-untyped]
from stix2validator import validator as _validator
from stix2validator.errors import (  # type: ignore[import-untyped]
    ValidationError as ValidationError,
)
from stix2validator.errors import pretty_error
from stix2validator.v21 import musts as _musts21  # type: ignore[import-untyped]

from fusioncell.intel import stix_fast

# stix2-validator's "patterns" check parses an indicator's pattern twice: once to validate it
# (stix2patterns.validator.run_validator) and, if it is valid, again to inspect it
# (stix2patterns.v21.pattern.Pattern). The check below is the library's own function (its
# code object) with those two names bound to a single parse: the validation is
# stix2patterns' v21 run_validator step for step, keeping the inspection it already makes,
# and the "Pattern" it then builds of the same string answers that inspection. A 2.0 pattern
# is validated and inspected by the library as before.
_INSPECTED: dict[str, Any] = {}


def _pattern_errors(pattern: Any, stix_version: str = "2.1") -> list[str]:
    if stix_version != "2.1" or not isinstance(pattern, str):
        return list(_pattern_validator(pattern, stix_version))
    # The common patterns are recognised without ANTLR (``stix_fast``): a valid one whose
    # hashes pass is inspected as the listener would; anything else is parsed below.
    if (comparisons := stix_fast.inspect_pattern(pattern)) is not None:
        data = _PatternData(comparisons, set(), set())
        if not object_validator.verify_object(data):
            _remember(pattern, data)
            return []
    listener = STIXPatternErrorListener()
    lexer = STIXPatternLexer(InputStream(pattern))
    lexer.removeErrorListeners()
    parser = STIXPatternParser(CommonTokenStream(lexer))
    parser.removeErrorListeners()
    parser.addErrorListener(listener)
    for i, literal in enumerate(parser.literalNames):
        if literal == "<INVALID>":
            parser.literalNames[i] = parser.symbolicNames[i]
    tree = parser.pattern()
    errors: list[str] = listener.err_strings
    if not errors:
        inspection = InspectionListener()
        ParseTreeWalker.DEFAULT.walk(inspection, tree)
        data = inspection.pattern_data()
        if found := object_validator.verify_object(data):
            errors.extend(found)
        try:
            ParseTreeWalker.DEFAULT.walk(QualifierListener(), tree)
        except DuplicateQualifierTypeError as e:
            errors.insert(0, "FAIL: " + e.args[0])
    if not brackets_check(pattern):
        errors.insert(0, "FAIL: Error found at line 1:0. input is missing square brackets")
    if not errors:
        _remember(pattern, data)
    return errors


def _remember(pattern: str, data: Any) -> None:
    if len(_INSPECTED) > 256:
        _INSPECTED.clear()
    _INSPECTED[pattern] = data


class _InspectedPattern:
    """``Pattern(pattern)`` for the string just validated: its inspection, not a reparse."""

    def __init__(self, pattern: str) -> None:
        self.data = _INSPECTED.pop(pattern, None)
        self.pattern = None if self.data is not None else _Pattern21(pattern)

    def inspect(self) -> Any:
        return self.data if self.pattern is None else self.pattern.inspect()


class _CachedParser:
    """dateutil's ``parser`` for stix2-validator's "timestamp" check, which only asks whether
    ``parser.parse`` raises: the same string parses (or raises) the same way, so parses that
    succeeded are remembered (a bundle repeats its timestamps: created, modified,
    valid_from...)."""

    parse = staticmethod(functools.lru_cache(maxsize=4096)(_dateutil_parser.parse))


_timestamp_check = types.FunctionType(
    _musts21.timestamp.__code__,
    {**_musts21.__dict__, "parser": _CachedParser},
    "timestamp",
)
_patterns_check = types.FunctionType(
    _musts21.patterns.__code__,
    {**_musts21.__dict__, "pattern_validator": _pattern_errors, "Pattern": _InspectedPattern},
    "patterns",
)


class _Validator:
    """``stix2validator.validate_instance`` (3.2.0, default options) for one STIX version,
    with what it rebuilds on every call built once: the schema files' index (it walks the
    schema folder per object), the schemas themselves, and the ``referencing`` registry its
    ``$ref``s resolve in (it makes a fresh one per object, so every ``$ref`` reads, parses and
    crawls its file again). The rules run are the library's own: the same JSON schemas through
    the same ``jsonschema`` validator class and format checker, then the same "MUST" checks,
    with the same messages. Its "SHOULD" checks only ever yield warnings under these options,
    so they are not run. Anything this path does not expect (a type that is not a string, a
    bundle inside the bundle, an exception) is handed to ``validate_instance`` itself."""

    def __init__(self, version: str) -> None:
        self.version = version
        self.options = ValidationOptions(version=version)
        self.options.set_check_codes(version)
        self.schema_dir = os.path.abspath(
            os.path.dirname(_validator.__file__) + "/schemas-" + version + "/schemas/"
        )
        self.paths: dict[str, str] = {}
        resources = []
        for root, _dirs, files in os.walk(self.schema_dir, followlinks=True):
            if "examples" in root:
                continue
            for name in files:
                path = os.path.join(root, name)
                self.paths.setdefault(name, path)  # find_schema: the walk's first match
                if name.endswith(".json"):
                    uri = pathlib.Path(path).as_uri()
                    resources.append(
                        (uri, _validator.retrieve_from_filesystem(uri, self.schema_dir))
                    )
        retrieve = functools.partial(
            _validator.retrieve_from_filesystem, schema_dir=self.schema_dir
        )
        self.registry = Registry(retrieve=retrieve).with_resources(resources).crawl()  # type: ignore[call-arg]
        ours = {_musts21.patterns: _patterns_check, _musts21.timestamp: _timestamp_check}
        self.musts = [ours.get(check, check) for check in _validator._get_musts(self.options)]
        self.must_calls = [
            (check, not check.__code__.co_flags & inspect.CO_VARARGS
             and check.__code__.co_argcount >= 2)
            for check in self.musts
        ]  # fmt: skip
        self.validators: dict[tuple[str, str], Any] = {}
        self.compiled = stix_fast.CompiledSchemas(self.schema_dir, _validator.patch_schema)

    def _source(self, name: str, obj_type: str, default: str) -> tuple[str, str, Any]:
        """The schema file validating an object of this type, and its content as the library
        changes it before validating (unpatched)."""
        path = self.paths.get(name + ".json") or self.paths[default + ".json"]
        variant = obj_type if obj_type in ("observed-data", "bundle") else ""
        schema = _validator.load_schema(path)
        if obj_type == "observed-data":
            schema["allOf"][1]["properties"]["objects"] = {
                "objects": {"type": "object", "minProperties": 1}
            }
        elif obj_type == "bundle":
            schema["properties"]["objects"] = {"objects": {"type": "array", "minItems": 1}}
        return path, variant, schema

    def _compiled(self, name: str, obj_type: str, default: str) -> Any:
        path = self.paths.get(name + ".json") or self.paths[default + ".json"]
        variant = obj_type if obj_type in ("observed-data", "bundle") else ""
        found = self.compiled.compiled.get((path, variant))
        if found is None:
            found = self.compiled.validator(*self._source(name, obj_type, default))
        return found

    def _valid(self, obj: dict[str, Any]) -> bool:
        """True only where the library finds no error: the compiled schemas accept the object
        (and each of an observed-data's objects) and no MUST check objects. False says
        nothing: the library's own path then answers."""
        obj_type = obj["type"]
        if not isinstance(obj_type, str) or obj_type == "bundle":
            return False
        core = "core"
        if (
            self.version > "2.0"
            and "created" not in obj
            and "modified" not in obj
            and obj_type != "marking-definition"
        ):
            core = "cyber-observable-core"
        if not self._compiled(obj_type, obj_type, core).is_valid(obj):
            return False
        if obj_type == "observed-data" and "objects" in obj:
            if not isinstance(obj["objects"], dict):
                return False
            for val in obj["objects"].values():
                if not isinstance(val, dict) or not isinstance(val.get("type"), str):
                    return False
                if val["type"] == "bundle":
                    return False
                found = self._compiled(val["type"], val["type"], "cyber-observable-core")
                if not found.is_valid(val):
                    return False
        return not self._must_fails(obj)

    def _must_fails(self, instance: dict[str, Any]) -> bool:
        """Whether any MUST check yields an error: ``_iter_errors_custom``'s walk (each check
        on the object, then on the STIX objects in its lists), stopping at the first error,
        calling with the options only the checks that take them (the library tries without
        them first and retries on ``TypeError``)."""
        for check, with_options in self.must_calls:
            result = check(instance, self.options) if with_options else check(instance)
            if isinstance(result, Iterable):
                for _error in result:
                    return True
            elif result is not None:
                return True
        for value in instance.values():
            if type(value) is list:
                for item in value:
                    if (
                        isinstance(item, dict)
                        and "id" in item
                        and "type" in item
                        and self._must_fails(item)
                    ):
                        return True
        return False

    def _schema(self, name: str, obj_type: str, default: str) -> Any:
        path = self.paths.get(name + ".json") or self.paths[default + ".json"]
        key = (path, obj_type if obj_type in ("observed-data", "bundle") else "")
        found = self.validators.get(key)
        if found is None:
            path, _variant, schema = self._source(name, obj_type, default)
            schema = _validator.patch_schema(schema, path)
            registry = self.registry.with_resource(path, DRAFT202012.create_resource(schema))
            found = _validator.STIXValidator(
                schema,
                registry=registry,
                format_checker=Draft202012Validator.FORMAT_CHECKER,
            )
            self.validators[key] = found
        return found

    def _fast(self, obj: dict[str, Any]) -> list[str] | None:
        obj_type = obj["type"]
        if not isinstance(obj_type, str) or obj_type == "bundle":
            return None
        prefix = obj["id"] + ": " if "id" in obj else ""
        core = "core"
        if (
            self.version > "2.0"
            and "id" in obj
            and "created" not in obj
            and "modified" not in obj
            and obj_type != "marking-definition"
        ):
            core = "cyber-observable-core"
        gens: list[tuple[Iterable[Any], str]] = [
            (self._schema(obj_type, obj_type, core).iter_errors(obj), prefix)
        ]
        if obj_type == "observed-data" and "objects" in obj:
            if not isinstance(obj["objects"], dict):
                return None
            for key, val in obj["objects"].items():
                if not isinstance(val, dict) or not isinstance(val.get("type", ""), str):
                    return None
                if "type" not in val or val["type"] == "bundle":
                    return None
                gens.append(
                    (
                        self._schema(val["type"], val["type"], "cyber-observable-core").iter_errors(
                            val
                        ),
                        prefix + "object '" + key + "': ",
                    )
                )
        gens.append((_validator._iter_errors_custom(obj, self.musts, self.options), ""))
        return [
            gen_prefix + pretty_error(error, False) for gen, gen_prefix in gens for error in gen
        ]

    def errors(self, obj: Any) -> list[str]:
        """The messages of ``validate_instance(obj, ValidationOptions(version=...))``'s errors
        (empty if it is valid); raises its ``ValidationError`` where it does."""
        if isinstance(obj, dict) and "id" in obj and "type" in obj:
            # A quick yes for a valid object; otherwise the library's own path below
            # answers (or raises) as it does.
            with contextlib.suppress(Exception):
                if self._valid(obj):
                    return []
            try:
                fast = self._fast(obj)
            except Exception:  # the library's own call raises (or answers) as it does
                fast = None
            if fast is not None:
                return fast
        result = validate_instance(obj, ValidationOptions(version=self.version))
        return [str(getattr(error, "message", error)) for error in result.errors]


_VALIDATORS: dict[str, _Validator] = {}


def validation_errors(item: Any, version: str = "2.1") -> list[str]:
    """stix2-validator 3.2.0's error messages for one object as STIX ``version`` (2.0 or
    2.1)."""
    if version not in ("2.0", "2.1"):
        raise ValueError(f"STIX {version} is not validated here")
    found = _VALIDATORS.get(version)
    if found is None:
        found = _VALIDATORS[version] = _Validator(version)
    return found.errors(item)
