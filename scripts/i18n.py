#!/usr/bin/env python3
"""The web UI's message catalogues: extract the template, merge it, check the translations.

The sources are the Jinja2 templates (``{{ _("...") }}``) and the Python strings marked with
``N_("...")`` or passed to ``translate(language, "...")``; ``babel.cfg`` maps them. The
template is ``src/fusioncell/locale/messages.pot``; each offered language other than
English has ``src/fusioncell/locale/<lang>/LC_MESSAGES/messages.po``, read at runtime as is
(there is no compile step).

- ``extract`` writes messages.pot from the sources (``pybabel extract``, no locations, no
  header, sorted, so that the file only changes when a message does);
- ``update`` merges messages.pot into every catalogue as ``pybabel update`` does, without
  fuzzy matching: translations are kept, new messages arrive untranslated, removed ones stay
  as obsolete ``#~`` entries (and come back translated if the message returns). It also sets
  each catalogue's Language and Plural-Forms headers;
- ``check`` prints one line per problem and exits 1: a message without a non-empty,
  non-fuzzy translation, a translation whose ``%(name)s`` placeholders differ from its
  msgid's, a wrong Language or Plural-Forms header, or a template or catalogue whose msgids
  differ from a fresh extraction. With no problem it prints one line and exits 0.

Usage: ``.venv/bin/python scripts/i18n.py extract|update|check``
"""

from __future__ import annotations

import argparse
import datetime
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import PoFileError, read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
I18N_DIR = ROOT / "src" / "fusioncell" / "locale"
TEMPLATE = I18N_DIR / "messages.pot"
DOMAIN = "messages"
WIDTH = 76  # pybabel's default line width

#: The extraction, run from the repository root; the output file and "." follow.
EXTRACT_ARGS = (
    "extract",
    "-F",
    "babel.cfg",
    "-k",
    "translate:2",
    "-k",
    "N_",
    "--no-location",
    "--omit-header",
    "--sort-output",
    "-o",
)


@dataclass(frozen=True)
class Language:
    code: str
    english_name: str
    plural_forms: str


#: The catalogues to keep (English is the source language and has none).
LANGUAGES = (
    Language(
        "ar",
        "Arabic",
        "nplurals=6; plural=(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : "
        "n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 : 5);",
    ),
    Language("he", "Hebrew", "nplurals=2; plural=(n != 1);"),
)

HEADER_COMMENT = (
    "# {name} translations for PROJECT.\n"
    "# This file is distributed under the same license as the PROJECT project.\n"
    "#"
)

#: A printf conversion: ``%%``, ``%(name)s``, ``%s``, ``%5.2f``...
CONVERSION = re.compile(r"%(?:%|(?:\([^)]*\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[a-zA-Z])")


def catalogue_path(code: str) -> Path:
    return I18N_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"


def relative(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def project_version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as file:
        return str(tomllib.load(file)["project"]["version"])


def pybabel() -> str:
    beside = Path(sys.executable).with_name("pybabel")
    if beside.exists():
        return str(beside)
    found = shutil.which("pybabel")
    if found is None:
        raise SystemExit("pybabel not found: install Babel in this environment")
    return found


# -- extract -----------------------------------------------------------------------------------


def extract(output: Path) -> None:
    """Write the template extracted from the sources to ``output``."""
    command = [pybabel(), "--quiet", *EXTRACT_ARGS, str(output), "."]
    result = subprocess.run(  # noqa: S603 - a fixed command line
        command, cwd=ROOT, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        detail = (result.stderr or "").strip().splitlines()
        raise SystemExit(f"pybabel extract failed: {detail[-1] if detail else result.returncode}")


# -- update ------------------------------------------------------------------------------------


def load(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as file:
        return read_po(file, locale=locale, domain=DOMAIN, abort_invalid=True)


def render(catalogue: Catalog) -> bytes:
    buffer = BytesIO()
    write_po(buffer, catalogue, width=WIDTH)
    return buffer.getvalue()


def set_headers(catalogue: Catalog, language: Language, version: str) -> None:
    catalogue.project = "fusioncell"
    catalogue.version = version
    catalogue.header_comment = HEADER_COMMENT.format(name=language.english_name)
    catalogue.language_team = language.english_name
    catalogue.charset = "utf-8"
    catalogue.fuzzy = False  # a new Catalog marks its header fuzzy
    # Babel derives Plural-Forms from CLDR unless a header sets it; set the gettext one.
    catalogue.mime_headers = [("Language", language.code), ("Plural-Forms", language.plural_forms)]


def merge(catalogue: Catalog, template: Catalog) -> None:
    """``pybabel update --no-fuzzy-matching``, reviving obsolete entries that are back."""
    wanted = {catalogue._key_for(m.id, m.context) for m in template if m.id}
    for key in list(catalogue.obsolete):
        old = catalogue.obsolete[key]
        if key in wanted and catalogue.get(old.id, context=old.context) is None:
            # The same msgid is back: an exact match, not a fuzzy one.
            catalogue[old.id] = Message(old.id, old.string, flags=old.flags, context=old.context)
        if key in wanted:
            del catalogue.obsolete[key]
    catalogue.update(template, no_fuzzy_matching=True, update_creation_date=False)


def update() -> int:
    if not TEMPLATE.exists():
        raise SystemExit(f"{relative(TEMPLATE)} is missing: run scripts/i18n.py extract first")
    template = load(TEMPLATE)
    version = project_version()
    for language in LANGUAGES:
        path = catalogue_path(language.code)
        if path.exists():
            catalogue = load(path, language.code)
            before = path.read_bytes()
        else:
            catalogue = Catalog(locale=language.code, domain=DOMAIN)
            catalogue.msgid_bugs_address = ""
            catalogue.last_translator = "fusioncell"
            before = b""
        merge(catalogue, template)
        set_headers(catalogue, language, version)
        after = render(catalogue)
        if after != before:
            catalogue.revision_date = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
            after = render(catalogue)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(after)
        messages = [m for m in catalogue if m.id]
        missing = sum(1 for m in messages if not translated(m))
        state = "updated" if after != before else "unchanged"
        print(
            f"{relative(path)}: {state}, {len(messages)} messages, {missing} untranslated, "
            f"{len(catalogue.obsolete)} obsolete"
        )
    return 0


# -- check -------------------------------------------------------------------------------------


def quote(message_id: str | Iterable[str]) -> str:
    text = message_id if isinstance(message_id, str) else next(iter(message_id))
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def strings(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return [""]
    return [value] if isinstance(value, str) else list(value)


def translated(message: Message) -> bool:
    return all(s.strip() for s in strings(message.string)) and not message.fuzzy


def conversions(text: str) -> Counter[str]:
    return Counter(CONVERSION.findall(text))


def placeholder_problem(message: Message) -> str | None:
    """Why the translation's printf conversions do not match the msgid's, if they do not."""
    ids = strings(message.id)
    expected = conversions(ids[0])
    for plural_id in ids[1:]:
        expected |= conversions(plural_id)
    for string in strings(message.string):
        if not string:
            continue
        got = conversions(string)
        if got != expected:
            want = " ".join(sorted(expected.elements())) or "none"
            have = " ".join(sorted(got.elements())) or "none"
            return f"expected {want}, got {have}"
        if string.count("%") != sum(len(c) - len(c.lstrip("%")) for c in got.elements()):
            return "a lone % in the translation"
    return None


def keys(catalogue: Catalog) -> dict[object, Message]:
    return {catalogue._key_for(m.id, m.context): m for m in catalogue if m.id}


def drift(name: str, have: Catalog, sources: Catalog, fix: str) -> list[str]:
    problems = []
    have_keys, source_keys = keys(have), keys(sources)
    for key, message in sorted(source_keys.items(), key=lambda item: str(item[0])):
        if key not in have_keys:
            problems.append(f"{name}: out of date, missing {quote(message.id)} (run {fix})")
    for key, message in sorted(have_keys.items(), key=lambda item: str(item[0])):
        if key not in source_keys:
            problems.append(
                f"{name}: out of date, {quote(message.id)} is no longer in the sources (run {fix})"
            )
    return problems


def header_problems(name: str, catalogue: Catalog, language: Language) -> list[str]:
    problems = []
    if str(catalogue.locale_identifier) != language.code:
        problems.append(
            f"{name}: Language is {catalogue.locale_identifier!r}, expected {language.code!r}"
        )
    if catalogue.plural_forms != language.plural_forms:
        problems.append(
            f"{name}: Plural-Forms is {catalogue.plural_forms!r}, expected {language.plural_forms!r}"
        )
    if catalogue.charset.lower().replace("-", "") != "utf8":
        problems.append(f"{name}: charset is {catalogue.charset!r}, not UTF-8")
    return problems


def problems() -> tuple[list[str], int]:
    """Every problem, one line each, and the number of msgids in the sources."""
    found: list[str] = []
    with tempfile.TemporaryDirectory() as scratch:
        fresh = Path(scratch) / "messages.pot"
        extract(fresh)
        sources = load(fresh)
    if TEMPLATE.exists():
        found += drift(relative(TEMPLATE), load(TEMPLATE), sources, "scripts/i18n.py extract")
    else:
        found.append(f"{relative(TEMPLATE)}: missing (run scripts/i18n.py extract)")
    for language in LANGUAGES:
        path = catalogue_path(language.code)
        name = relative(path)
        if not path.exists():
            found.append(f"{name}: missing (run scripts/i18n.py update)")
            continue
        try:
            catalogue = load(path, language.code)
        except PoFileError as error:
            found.append(f"{name}: cannot be read: {error}")
            continue
        found += header_problems(name, catalogue, language)
        found += drift(name, catalogue, sources, "scripts/i18n.py update")
        for message in catalogue:
            if not message.id:
                continue
            if message.fuzzy:
                found.append(f"{name}: fuzzy translation of {quote(message.id)}")
            elif not translated(message):
                found.append(f"{name}: no translation of {quote(message.id)}")
            why = placeholder_problem(message)
            if why:
                found.append(f"{name}: placeholders differ in {quote(message.id)}: {why}")
    return found, len(keys(sources))


def check() -> int:
    found, count = problems()
    for line in found:
        print(line)
    if found:
        print(f"{len(found)} problem(s)", file=sys.stderr)
        return 1
    codes = ", ".join(language.code for language in LANGUAGES)
    print(f"i18n ok: {count} messages, all translated in {codes}, catalogues up to date")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["extract", "update", "check"])
    args = parser.parse_args(argv)
    if args.command == "extract":
        extract(TEMPLATE)
        print(f"{relative(TEMPLATE)}: {len(keys(load(TEMPLATE)))} messages")
        return 0
    if args.command == "update":
        return update()
    return check()


if __name__ == "__main__":
    sys.exit(main())
