"""The formatting helpers every page uses: a ``Text`` said in a language, lists, times with
their zone, and pydantic's validation errors as pages say them."""

from __future__ import annotations

import json
import pickle
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from jinja2 import Environment

from fusioncell.cell.labels import role_list
from fusioncell.i18n import join_list, localize, moment_text, time_text, translate
from fusioncell.text import N_, Text
from fusioncell.web.problems import validation_message
from fusioncell.web.templating import environment, moment

AT = datetime(2026, 3, 12, 14, 3, 7, tzinfo=UTC)


def test_a_text_reads_as_english_and_is_said_in_each_language() -> None:
    text = N_("a password has at least %(count)s characters", count=12)

    assert isinstance(text, Text)
    assert text == "a password has at least 12 characters"
    assert json.dumps({"detail": text}) == '{"detail": "a password has at least 12 characters"}'
    assert localize("en", text) == "a password has at least 12 characters"
    assert localize("ar", text) == "تتكوّن كلمة المرور من 12 حرفًا على الأقل"
    assert localize("he", text) == "סיסמה כוללת לפחות 12 תווים"
    assert pickle.loads(pickle.dumps(text)).params == {"count": 12}


def test_n_without_parameters_stays_a_plain_string_that_the_catalogue_translates() -> None:
    message = N_("this member is disabled")

    assert type(message) is str
    assert localize("he", message) == "חבר זה מושבת"
    assert localize("he", "no such message in any catalogue") == "no such message in any catalogue"


def test_a_text_inside_a_text_is_said_in_the_same_language_and_names_stay_as_they_are() -> None:
    role = Text("Supervisor", {}, english="supervisor")
    text = N_(
        "only a %(role)s of %(organisation)s countersigns its members and roles",
        role=role,
        organisation="Live",  # a name that happens to be a message: kept, not translated
    )

    assert text == "only a supervisor of Live countersigns its members and roles"
    assert localize("ar", text) == translate(
        "ar",
        "only a %(role)s of %(organisation)s countersigns its members and roles",
        role=translate("ar", "Supervisor"),
        organisation="Live",
    )
    assert "Live" in localize("ar", text)


@pytest.mark.parametrize(
    ("language", "joined"),
    [
        ("en", "A, B, and C"),
        ("ar", "A وB وC"),
        ("he", "A, B וC"),  # noqa: RUF001
    ],
)
def test_lists_are_joined_as_the_locale_joins_them(language: str, joined: str) -> None:
    assert join_list(language, ["A", "B", "C"]) == joined
    assert join_list(language, ["A"]) == "A"
    assert join_list(language, []) == ""


def test_roles_are_named_in_the_language_in_a_stable_order() -> None:
    assert role_list(["supervisor", "duty_officer"], "en") == "Duty officer and Supervisor"
    assert role_list(["duty_officer", "supervisor"], "he") == "קצין תורן ומפקח"


@pytest.mark.parametrize(
    ("language", "shown", "time"),
    [
        ("en", "Mar 12, 2026, 2:03:07\u202fPM UTC", "2:03:07\u202fPM UTC"),
        ("ar", "12\u200f/03\u200f/2026، 2:03:07 م التوقيت العالمي", "2:03:07 م التوقيت العالمي"),
        ("he", "12 במרץ 2026, 14:03:07 UTC", "14:03:07 UTC"),
    ],
)
def test_times_carry_their_zone_in_the_locales_format(language: str, shown: str, time: str) -> None:
    assert moment_text(AT, language) == shown
    assert time_text(AT, language) == time
    # A naive time is the database's UTC.
    assert moment_text(AT.replace(tzinfo=None), language) == shown


def test_a_time_in_another_zone_names_that_zone() -> None:
    assert (
        moment_text(AT, "en", zone=ZoneInfo("Asia/Jerusalem"))
        == "Mar 12, 2026, 4:03:07\u202fPM +0200"
    )


def test_the_moment_filter_reads_a_rows_text_or_a_datetime() -> None:
    assert moment("2026-03-12 14:03:07", "he") == "12 במרץ 2026, 14:03:07 UTC"
    assert moment("2026-03-12T16:03:07+02:00", "en") == "Mar 12, 2026, 2:03:07\u202fPM UTC"
    assert moment(AT, "en") == "Mar 12, 2026, 2:03:07\u202fPM UTC"
    assert moment(None, "en") == moment("", "en") == ""
    assert moment("not a time", "en") == "not a time"


def test_a_template_prints_a_text_in_its_own_language() -> None:
    env: Environment = environment("ar")
    template = env.from_string("{{ detail }}|{{ plain|localized }}|{{ roles|roles }}")

    shown = template.render(
        detail=N_("at most %(max_length)s characters", max_length=64),
        plain="this field is required",
        roles=["analyst", "liaison"],
    )

    assert shown == "64 حرفًا على الأكثر|هذا الحقل مطلوب|" + role_list(["analyst", "liaison"], "ar")


def test_a_validation_error_keeps_pydantics_english_and_translates_for_a_page() -> None:
    item = {
        "type": "string_too_long",
        "msg": "String should have at most 64 characters",
        "ctx": {"max_length": 64},
        "loc": ("body", "username"),
    }

    message = validation_message(item)

    assert message == "String should have at most 64 characters"
    assert localize("he", message) == "לכל היותר 64 תווים"


def test_a_validation_error_of_an_unknown_kind_or_without_its_values_is_pydantics() -> None:
    unknown = validation_message({"type": "url_scheme", "msg": "URL scheme should be 'https'"})
    partial = validation_message({"type": "string_too_long", "msg": "Too long", "ctx": {}})

    assert (type(unknown), unknown) == (str, "URL scheme should be 'https'")
    assert (type(partial), partial) == (str, "Too long")
