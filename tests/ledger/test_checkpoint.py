from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fusioncell.ledger.checkpoint import (
    MAX_TREE_SIZE,
    Checkpoint,
    CosignatureVerifier,
    Cosigner,
    cosignature_line,
    cosignature_timestamp,
    cosigned_message,
    format_checkpoint,
    parse_checkpoint,
    verify_cosignature_line,
)
from fusioncell.ledger.errors import CheckpointError, NoteError
from fusioncell.ledger.note import (
    Ed25519Signer,
    NoteSignature,
    open_note,
    parse_note,
    parse_signature_line,
    sign_note,
)

# The examples in https://c2sp.org/tlog-checkpoint and https://c2sp.org/tlog-cosignature.
SPEC_CHECKPOINT = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
)
SPEC_COSIGNATURE = (
    "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2"
    "oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA=="
)
SPEC_SIGNED_MESSAGE = (
    "cosignature/v1\n"
    "time 1679315147\n"
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
)

ROOT = hashlib.sha256(b"root").digest()
ROOT_B64 = base64.b64encode(ROOT).decode()
URLSAFE_ROOT = base64.urlsafe_b64encode(bytes([0xFF] * 32)).decode()
LOG = Ed25519Signer(name="example.com/log", seed=bytes(range(32)))
WITNESS = Cosigner(name="witness.example/w1", seed=bytes(range(32, 64)))


def test_the_spec_checkpoint_parses_and_formats_back_to_the_same_bytes() -> None:
    checkpoint = parse_checkpoint(SPEC_CHECKPOINT)
    assert checkpoint.origin == "example.com/behind-the-sofa"
    assert checkpoint.size == 20852163
    assert base64.b64encode(checkpoint.root_hash).decode() == SPEC_CHECKPOINT.split("\n")[2]
    assert checkpoint.extensions == ()
    assert format_checkpoint(checkpoint) == SPEC_CHECKPOINT


def test_extension_lines_are_kept_in_order() -> None:
    checkpoint = Checkpoint("example.com/log", 7, ROOT, ("one extension", "— another"))
    text = format_checkpoint(checkpoint)
    assert text == f"example.com/log\n7\n{ROOT_B64}\none extension\n— another\n"
    assert parse_checkpoint(text) == checkpoint


@pytest.mark.parametrize(
    "text",
    [
        f"example.com/log\n7\n{ROOT_B64}",  # no final newline
        "example.com/log\n7\n",  # no root
        f"\n7\n{ROOT_B64}\n",  # empty origin
        f"example.com/log\n07\n{ROOT_B64}\n",  # leading zero
        f"example.com/log\n+7\n{ROOT_B64}\n",
        f"example.com/log\n 7\n{ROOT_B64}\n",
        f"example.com/log\n7_0\n{ROOT_B64}\n",
        f"example.com/log\n\u0667\n{ROOT_B64}\n",  # ARABIC-INDIC DIGIT SEVEN
        f"example.com/log\n-1\n{ROOT_B64}\n",
        f"example.com/log\n{MAX_TREE_SIZE + 1}\n{ROOT_B64}\n",
        f"example.com/log\n7\n{ROOT_B64.rstrip('=')}\n",  # unpadded
        f"example.com/log\n7\n{base64.b64encode(ROOT[:31]).decode()}\n",  # 31 bytes
        f"example.com/log\n7\n{URLSAFE_ROOT}\n",
        f"example.com/log\n7\n{ROOT_B64}\n\n",  # empty extension line
        f"example.com/log\n7\n{ROOT_B64}\n\nsmuggled\n",
        f"example.com/log\r\n7\n{ROOT_B64}\n",  # control character
    ],
)
def test_malformed_checkpoints_are_refused(text: str) -> None:
    with pytest.raises(CheckpointError):
        parse_checkpoint(text)


def test_a_non_canonical_root_encoding_is_refused() -> None:
    # The final base64 character of a 32-byte value carries two unused bits; set one.
    last = ROOT_B64[-2]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    twin = ROOT_B64[:-2] + alphabet[alphabet.index(last) ^ 1] + "="
    assert base64.b64decode(twin) == ROOT
    with pytest.raises(CheckpointError, match="non-canonical"):
        parse_checkpoint(f"example.com/log\n7\n{twin}\n")


@pytest.mark.parametrize(
    "checkpoint",
    [
        Checkpoint("example.com/log", -1, ROOT),
        Checkpoint("example.com/log", MAX_TREE_SIZE + 1, ROOT),
        Checkpoint("example.com/log", 1, ROOT[:31]),
        Checkpoint("", 1, ROOT),
        Checkpoint("example.com/log", 1, ROOT, ("",)),
        Checkpoint(f"x\n1\n{ROOT_B64}", 2, ROOT),  # a newline smuggled into the origin
        Checkpoint("example.com/log", 1, ROOT, ("two\nlines",)),
    ],
)
def test_a_checkpoint_that_would_not_parse_back_is_not_formatted(checkpoint: Checkpoint) -> None:
    with pytest.raises(CheckpointError):
        format_checkpoint(checkpoint)


@given(
    st.text(st.characters(min_codepoint=0x21, exclude_categories=("Cs",)), min_size=1),
    st.integers(0, MAX_TREE_SIZE),
    st.binary(min_size=32, max_size=32),
    st.lists(st.text(st.characters(min_codepoint=0x20, exclude_categories=("Cs",)), min_size=1)),
)
@settings(max_examples=200)
def test_every_valid_checkpoint_survives_formatting_and_parsing(
    origin: str, size: int, root: bytes, extensions: list[str]
) -> None:
    checkpoint = Checkpoint(origin, size, root, tuple(extensions))
    assert parse_checkpoint(format_checkpoint(checkpoint)) == checkpoint


def test_the_cosigned_message_matches_the_spec_example() -> None:
    assert cosigned_message(SPEC_CHECKPOINT.encode(), 1679315147) == SPEC_SIGNED_MESSAGE.encode()


def test_the_spec_cosignature_carries_key_id_timestamp_and_signature() -> None:
    signature = parse_signature_line(SPEC_COSIGNATURE)
    assert signature.name == "witness.example.com/w1"
    assert len(signature.key_id) == 4
    assert len(signature.signature) == 8 + 64
    assert cosignature_timestamp(signature) == 1679315147


def test_a_cosignature_line_is_key_id_then_big_endian_time_then_signature() -> None:
    checkpoint = format_checkpoint(Checkpoint("example.com/log", 5, ROOT))
    line = cosignature_line(checkpoint, WITNESS, 1_700_000_000)
    assert line.startswith("— witness.example/w1 ") and line.endswith("\n")
    blob = base64.b64decode(line.split(" ")[2])
    assert blob[:4] == WITNESS.key_id
    assert blob[4:12] == (1_700_000_000).to_bytes(8, "big")
    message = b"cosignature/v1\ntime 1700000000\n" + checkpoint.encode()
    assert WITNESS.verifier().verify(checkpoint.encode(), blob[4:])
    assert cosigned_message(checkpoint.encode(), 1_700_000_000) == message
    assert verify_cosignature_line(checkpoint, line, WITNESS.verifier()) == 1_700_000_000


def test_the_cosignature_key_id_uses_algorithm_byte_4() -> None:
    expected = hashlib.sha256(b"witness.example/w1\n\x04" + WITNESS.public_key).digest()[:4]
    assert WITNESS.key_id == expected
    assert WITNESS.key_id != Ed25519Signer("witness.example/w1", bytes(range(32, 64))).key_id


def test_a_cosignature_does_not_verify_for_another_checkpoint_or_time() -> None:
    checkpoint = format_checkpoint(Checkpoint("example.com/log", 5, ROOT, ("ext",)))
    line = cosignature_line(checkpoint, WITNESS, 1_700_000_000)
    other = format_checkpoint(Checkpoint("example.com/log", 5, ROOT, ("exu",)))
    with pytest.raises(NoteError, match="invalid cosignature"):
        verify_cosignature_line(other, line, WITNESS.verifier())
    signature = parse_signature_line(line[:-1])
    later = (1_700_000_001).to_bytes(8, "big") + signature.signature[8:]
    moved = NoteSignature(signature.name, signature.key_id, later).line()
    with pytest.raises(NoteError, match="invalid cosignature"):
        verify_cosignature_line(checkpoint, moved, WITNESS.verifier())


def test_a_line_from_another_witness_is_refused() -> None:
    checkpoint = format_checkpoint(Checkpoint("example.com/log", 5, ROOT))
    other = Cosigner("witness.example/w2", bytes(32))
    line = cosignature_line(checkpoint, other, 1)
    with pytest.raises(NoteError, match=r"not from witness\.example/w1"):
        verify_cosignature_line(checkpoint, line, WITNESS.verifier())
    with pytest.raises(NoteError, match="ends with a newline"):
        verify_cosignature_line(checkpoint, line[:-1], other.verifier())


def test_an_ordinary_signature_is_not_taken_for_a_cosignature() -> None:
    checkpoint = format_checkpoint(Checkpoint("example.com/log", 5, ROOT))
    plain = NoteSignature(WITNESS.name, WITNESS.key_id, LOG.sign(checkpoint.encode()))
    with pytest.raises(NoteError, match="not a cosignature"):
        verify_cosignature_line(checkpoint, plain.line(), WITNESS.verifier())
    assert not WITNESS.verifier().verify(checkpoint.encode(), plain.signature)


def test_a_witness_cosigns_only_checkpoints_and_only_times_in_range() -> None:
    with pytest.raises(CheckpointError):
        WITNESS.cosign("not a checkpoint\n", 1)
    checkpoint = format_checkpoint(Checkpoint("example.com/log", 5, ROOT))
    for bad_time in (-1, 2**63):
        with pytest.raises(ValueError):
            WITNESS.cosign(checkpoint, bad_time)


def test_a_timestamp_beyond_2_to_the_63_never_verifies() -> None:
    checkpoint = format_checkpoint(Checkpoint("example.com/log", 5, ROOT))
    assert not WITNESS.verifier().verify(checkpoint.encode(), b"\xff" * 8 + bytes(64))


def test_a_log_checkpoint_with_witness_cosignatures_opens_as_one_note() -> None:
    checkpoint = format_checkpoint(Checkpoint("example.com/log", 5, ROOT))
    second = Cosigner("witness.example/w2", bytes(32))
    signed = sign_note(checkpoint, [LOG])
    _, log_signatures = parse_note(signed)
    cosigned = sign_note(
        checkpoint,
        [],
        keep=[*log_signatures, WITNESS.cosign(checkpoint, 10), second.cosign(checkpoint, 11)],
    )
    note = open_note(cosigned, [LOG.verifier(), WITNESS.verifier(), second.verifier()])
    assert parse_checkpoint(note.text) == Checkpoint("example.com/log", 5, ROOT)
    assert [s.name for s in note.signatures] == [LOG.name, WITNESS.name, second.name]
    assert [cosignature_timestamp(s) for s in note.signatures[1:]] == [10, 11]

    only_log = open_note(cosigned, [LOG.verifier()])
    assert len(only_log.unverified) == 2


def test_witness_keys_round_trip_through_key_strings() -> None:
    vkey = WITNESS.verifier().key_string()
    name, key_id_hex, material = vkey.split("+", 2)
    assert (name, key_id_hex) == ("witness.example/w1", WITNESS.key_id.hex())
    assert base64.b64decode(material) == b"\x04" + WITNESS.public_key
    parsed = CosignatureVerifier.from_key_string(vkey)
    assert (parsed.name, parsed.key_id, parsed.public_key) == (
        WITNESS.name,
        WITNESS.key_id,
        WITNESS.public_key,
    )
    assert repr(parsed) == f"CosignatureVerifier(witness.example/w1+{WITNESS.key_id.hex()})"


def test_a_plain_ed25519_key_string_serves_as_a_witness_key_as_in_go() -> None:
    plain = Ed25519Signer("witness.example/w1", bytes(range(32, 64)))
    cosigner = Cosigner.from_key_string(plain.key_string())
    verifier = CosignatureVerifier.from_key_string(plain.verifier().key_string())
    assert cosigner.key_id == verifier.key_id == WITNESS.key_id
    assert repr(cosigner) == f"Cosigner(witness.example/w1+{WITNESS.key_id.hex()})"


@pytest.mark.parametrize(
    "vkey",
    [
        "witness.example/w1+00000000+" + base64.b64encode(b"\x04" + bytes(32)).decode(),
        "bananas.sigstore.dev+12344556",
        "rekor.sigstore.dev+12345678+THIS_IS_NOT_BASE64!",
        "rekor.sigstore.dev+12345678+AwEB",
        "w+1234567+" + base64.b64encode(b"\x04" + bytes(32)).decode(),
    ],
)
def test_malformed_witness_verifier_keys_are_refused(vkey: str) -> None:
    with pytest.raises(NoteError):
        CosignatureVerifier.from_key_string(vkey)


def test_a_witness_verifier_key_with_the_wrong_length_or_id_is_refused() -> None:
    material = base64.b64encode(b"\x04" + WITNESS.public_key[:31]).decode()
    with pytest.raises(NoteError, match="length"):
        CosignatureVerifier.from_key_string(f"w+{WITNESS.key_id.hex()}+{material}")
    good = WITNESS.verifier().key_string()
    with pytest.raises(NoteError, match="does not match"):
        CosignatureVerifier.from_key_string(good.replace("witness.example/w1", "w", 1))


def test_small_order_witness_keys_and_bad_names_are_refused() -> None:
    with pytest.raises(NoteError, match="small-order"):
        CosignatureVerifier("witness.example/w1", bytes(32))
    with pytest.raises(NoteError, match="invalid key name"):
        CosignatureVerifier("bad name", WITNESS.public_key)
    with pytest.raises(NoteError, match="invalid key name"):
        Cosigner("bad+name", bytes(32))
    with pytest.raises(NoteError, match="32 bytes"):
        Cosigner("w", bytes(31))


@pytest.mark.parametrize(
    "skey",
    [
        "witness+f13a86db+AaLa/dfyBhyo/m0Z7WCi98ENVZWtrP8pxgRNrx7tIWiA",  # no PRIVATE+KEY+
        "PRIVATE+KEY+witness+f13a86db+BKLa/dfyBhyo/m0Z7WCi98ENVZWtrP8pxgRNrx7tIWiA",  # 0x04
        "PRIVATE+KEY+witness+00000000+AaLa/dfyBhyo/m0Z7WCi98ENVZWtrP8pxgRNrx7tIWiA",
    ],
)
def test_malformed_witness_signer_keys_are_refused(skey: str) -> None:
    with pytest.raises(NoteError):
        Cosigner.from_key_string(skey)


def test_a_generated_witness_cosigns_verifiably() -> None:
    witness = Cosigner.generate("witness.example/fresh")
    checkpoint = format_checkpoint(Checkpoint("example.com/log", 0, ROOT))
    line = cosignature_line(checkpoint, witness, 0)
    assert verify_cosignature_line(checkpoint, line, witness.verifier()) == 0


def test_a_signature_of_the_wrong_size_has_no_cosignature_timestamp() -> None:
    with pytest.raises(NoteError):
        cosignature_timestamp(NoteSignature("w", b"1234", bytes(64)))
