from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from fusioncell.ledger.entries import (
    b64,
    body_hash,
    canonical,
    leaf_data_from_canonical_header,
    log_time,
    parse_log_time,
    signing_message,
)
from fusioncell.ledger.keys import verify_signature
from fusioncell.ledger.signing import EntrySigner, sign_entry

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
        "\u0662026-01-06T08:00:00.000Z",  # an Arabic-Indic digit two
    ],
)
def test_only_the_one_canonical_spelling_of_a_log_time_is_accepted(text: str) -> None:
    with pytest.raises(ValueError):
        parse_log_time(text)


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2999, 12, 31),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=3)), timezone(-timedelta(hours=5))]
        ),
    )
)
def test_a_log_time_is_the_utc_instant_to_the_millisecond(moment: datetime) -> None:
    utc = moment.astimezone(UTC)
    expected = utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
    assert log_time(moment) == expected


@given(
    header=st.dictionaries(st.text(max_size=8), json_values, max_size=6),
    signature=st.binary(min_size=64, max_size=64),
    logged_at=st.datetimes(timezones=st.just(UTC), min_value=datetime(2000, 1, 1)),
)
def test_a_leaf_built_around_a_canonical_header_is_the_canonical_leaf(
    header: dict[str, object], signature: bytes, logged_at: datetime
) -> None:
    whole = {"header": header, "logged_at": log_time(logged_at), "signature": b64(signature)}
    built = leaf_data_from_canonical_header(canonical(header), signature, logged_at)
    assert built == bytes(rfc8785.dumps(whole))


def test_an_entry_signer_keeps_the_bytes_it_signed_and_hashed() -> None:
    private = Ed25519PrivateKey.generate()
    body = {"text": "routine status report", "n": 1, "where": [1.5, "\u05e9"]}
    moment = datetime(2026, 1, 6, 8, 0, 0, 123456, tzinfo=UTC)
    signed = EntrySigner(private).sign(
        "geo.feature.defined",
        body,
        policy_hash="a" * 64,
        now=moment,
        custodial=False,
        audience={"all": True},
        salt=bytes(32),
    )
    assert signed.canonical_header == canonical(signed.header)
    assert signed.canonical_body == canonical(body)
    assert signed.header["body"] == body_hash(bytes(32), body)
    assert signed.header["time"] == "2026-01-06T08:00:00.123Z"
    public = private.public_key().public_bytes_raw()
    message = signing_message("geo.feature.defined", signed.header)
    assert verify_signature(public, message, signed.signature)
    header, signature, salt = sign_entry(
        private,
        "geo.feature.defined",
        body,
        policy_hash="a" * 64,
        now=moment,
        custodial=False,
        salt=bytes(32),
    )
    assert (header, signature, salt) == (signed.header, signed.signature, signed.salt)
