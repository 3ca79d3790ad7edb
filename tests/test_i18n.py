"""The Arabic and Hebrew catalogues, and choosing a language and its direction.

The catalogue checks are the ones ``scripts/i18n.py check`` runs: every message extracted from
the sources is translated (non-empty, not fuzzy) in ar and he with the same placeholders, and
neither the template nor a catalogue lags behind the sources.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from babel.messages.catalog import Catalog, Message

from fusioncell.errors import UnsupportedLanguage
from fusioncell.i18n import direction, negotiate, require_language, translate, translations

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "i18n.py"


@pytest.fixture(scope="module")
def i18n_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fusioncell_i18n_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def test_every_extracted_message_is_translated_in_arabic_and_hebrew(
    i18n_script: ModuleType,
) -> None:
    problems, count = i18n_script.problems()
    assert problems == []
    assert count > 50


@pytest.mark.parametrize(
    ("language", "english", "translated"),
    [
        ("ar", "Area of separation", "منطقة الفصل"),
        ("ar", "Area of limitation", "منطقة الحد من القوات"),
        ("ar", "Liaison officer", "ضابط الاتصال"),
        ("ar", "Duty officer", "الضابط المناوب"),
        ("ar", "De-escalation map", "خريطة خفض التصعيد"),
        ("he", "Area of separation", "אזור ההפרדה"),
        ("he", "Area of limitation", "אזור הגבלת כוחות"),
        ("he", "Liaison officer", "קצין קישור"),
        ("he", "Duty officer", "קצין תורן"),
        ("he", "De-escalation map", "מפת הורדת המתיחות"),
    ],
)
def test_known_strings_translate_from_the_loaded_catalogue(
    language: str, english: str, translated: str
) -> None:
    assert translations(language).gettext(english) == translated


@pytest.mark.parametrize("language", ["ar", "he"])
def test_every_map_label_has_a_translation(language: str) -> None:
    from fusioncell.geo.views import MAP_LABELS

    untranslated = [
        label
        for label in MAP_LABELS
        if translations(language).gettext(label) == label and label != "Natural Earth"
    ]
    assert untranslated == []


@pytest.mark.parametrize("language", ["ar", "he"])
def test_a_placeholder_survives_translation(language: str) -> None:
    text = translate(language, "Signed in as %(username)s.", username="liaison-1")
    assert "liaison-1" in text
    assert "Signed in" not in text


def test_english_is_the_source_and_is_not_translated() -> None:
    assert translations("en").gettext("Area of separation") == "Area of separation"


def test_arabic_and_hebrew_are_right_to_left_and_english_left_to_right() -> None:
    assert direction("ar") == "rtl"
    assert direction("he") == "rtl"
    assert direction("en") == "ltr"


def test_accept_language_picks_the_first_offered_language_by_quality() -> None:
    assert negotiate("he-IL,he;q=0.9,en;q=0.8") == "he"
    assert negotiate("fr-FR,fr;q=0.9,ar;q=0.5,en;q=0.4") == "ar"
    assert negotiate(None) == "en"


def test_accept_language_with_q_zero_is_refused() -> None:
    assert negotiate("he;q=0,ar;q=0.5") == "ar"
    assert negotiate("he;q=0") == "en"
    assert negotiate("ar;q=0.0,he;q=0.1") == "he"


def test_an_unoffered_language_is_rejected() -> None:
    with pytest.raises(UnsupportedLanguage):
        require_language("xx")
    assert require_language("he") == "he"


def test_the_check_flags_a_changed_or_dropped_placeholder(i18n_script: ModuleType) -> None:
    check = i18n_script.placeholder_problem
    assert check(Message("Signed in as %(username)s.", "مرحبًا %(username)s.")) is None
    assert check(Message("Signed in as %(username)s.", "מחובר: %(user)s.")) is not None
    assert check(Message("Signed in as %(username)s.", "מחובר.")) is not None
    assert check(Message("Done", "تم 100% ")) is not None


def test_the_check_counts_empty_and_fuzzy_translations_as_missing(
    i18n_script: ModuleType,
) -> None:
    assert i18n_script.translated(Message("Sector", "גזרה"))
    assert not i18n_script.translated(Message("Sector", ""))
    assert not i18n_script.translated(Message("Sector", "  "))
    assert not i18n_script.translated(Message("Sector", "גזרה", flags={"fuzzy"}))


def test_update_keeps_translations_and_revives_a_returning_message(
    i18n_script: ModuleType,
) -> None:
    catalogue = Catalog(locale="he")
    catalogue.add("Sector", "גזרה")
    catalogue.obsolete["Band"] = Message("Band", "רצועה")
    template = Catalog()
    template.add("Sector")
    template.add("Band")
    template.add("Legend")

    i18n_script.merge(catalogue, template)

    assert catalogue.get("Sector").string == "גזרה"
    assert catalogue.get("Band").string == "רצועה"
    assert not catalogue.get("Band").fuzzy
    assert not catalogue.get("Legend").string
    assert dict(catalogue.obsolete) == {}
