from __future__ import annotations

from datetime import UTC, datetime

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from fusioncell.ledger.entries import canonical, log_time, parse_log_time

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values)
def test_canonical_json_is_byte_for_byte_rfc_8785(value: object) -> None:
    assert canonical(value) == bytes(rfc8785.dumps(value))


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2999, 12, 31)))
def test_a_log_time_round_trips_at_millisecond_precision(moment: datetime) -> None:
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000, tzinfo=UTC)
    assert parse_log_time(log_time(moment)) == moment


@pytest.mark.parametrize(
    "text",
    [
        "2026-01-06T08:00:00Z",
        "2026-01-06T08:00:00.1Z",
        "2026-13-06T08:00:00.000Z",
        "2026-01-06 08:00:00.000Z",
    ],
)
def test_only_the_one_canonical_spelling_of_a_log_time_is_accepted(text: str) -> None:
    with pytest.raises(ValueError):
        parse_log_time(text)
