from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fusioncell.ledger.errors import NoteError
from fusioncell.ledger.note import (
    ALG_ED25519,
    Ed25519Signer,
    Ed25519Verifier,
    NoteSignature,
    key_id,
    open_note,
    parse_note,
    sign_note,
)

# The worked example of golang.org/x/mod/sumdb/note (note_test.go, TestSign and TestOpen), the
# reference implementation the C2SP signed-note specification was written from.
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "— EnochRoot "
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
)
SIGNED = TEXT + "\n" + PETER_SIG

# The example at the top of https://c2sp.org/signed-note (its key is not published).
SPEC_EXAMPLE = (
    "Ognuno sta solo sul cuor della terra\n"
    "trafitto da un raggio di sole:\n"
    "\n"
    "ed è subito sera.\n"
    "\n"
    "— quasimodo.example/salvatore "
    "NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n"
)

PETER = Ed25519Verifier.from_key_string(PETER_VKEY)
ENOCH = Ed25519Verifier.from_key_string(ENOCH_VKEY)


def _sig(line: str) -> NoteSignature:
    name, blob = line.removeprefix("— ").removesuffix("\n").split(" ")
    raw = base64.b64decode(blob)
    return NoteSignature(name, raw[:4], raw[4:])


def test_signing_the_reference_example_reproduces_it_byte_for_byte() -> None:
    signer = Ed25519Signer.from_key_string(PETER_SKEY)
    assert sign_note(TEXT, [signer]) == SIGNED.encode()


def test_key_ids_and_key_strings_match_the_reference_example() -> None:
    signer = Ed25519Signer.from_key_string(PETER_SKEY)
    assert signer.key_id.hex() == "c74f20a3" == PETER.key_id.hex()
    assert signer.key_id == key_id("PeterNeumann", ALG_ED25519, signer.public_key)
    assert signer.key_string() == PETER_SKEY
    assert signer.verifier().key_string() == PETER_VKEY == PETER.key_string()
    assert ENOCH.key_id.hex() == "af0cfe78"


def test_a_signature_by_the_same_key_is_replaced_not_repeated() -> None:
    signer = Ed25519Signer.from_key_string(PETER_SKEY)
    stale = NoteSignature("PeterNeumann", bytes.fromhex("c74f20a3"), b"BADSIGN")
    assert sign_note(TEXT, [signer], keep=[stale]) == SIGNED.encode()


def test_kept_signatures_come_before_new_ones() -> None:
    signer = Ed25519Signer.from_key_string(PETER_SKEY)
    msg = sign_note(TEXT, [signer], keep=[_sig(ENOCH_SIG)])
    assert msg == (TEXT + "\n" + ENOCH_SIG + PETER_SIG).encode()


def _manglings(key: str) -> list[str]:
    cut = [key[i:j] for i in range(len(key)) for j in range(i + 1, len(key) + 1)]
    bumped = [key[:i] + chr(ord(key[i]) + 1) + key[i + 1 :] for i in range(len(key))]
    return [k for k in cut + bumped if k != key]


def test_no_mangling_of_the_verifier_key_is_accepted() -> None:
    for mangled in [
        *_manglings(PETER_VKEY),
        # wrong length and unknown algorithm, each with its key ID recomputed (Go's own cases)
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ]:
        with pytest.raises(NoteError):
            Ed25519Verifier.from_key_string(mangled)


def test_no_mangling_of_the_signer_key_is_accepted() -> None:
    for mangled in _manglings(PETER_SKEY):
        with pytest.raises(NoteError):
            Ed25519Signer.from_key_string(mangled)


def test_a_small_order_verifier_key_is_refused() -> None:
    with pytest.raises(NoteError, match="small-order"):
        Ed25519Verifier("example.com/log", bytes(32))


def test_an_open_note_reports_which_signatures_it_verified() -> None:
    note = open_note((SIGNED + ENOCH_SIG).encode(), [PETER])
    assert note.text == TEXT
    assert note.signatures == (_sig(PETER_SIG),)
    assert note.unverified == (_sig(ENOCH_SIG),)

    both = open_note((SIGNED + ENOCH_SIG).encode(), [PETER, ENOCH])
    assert both.signatures == (_sig(PETER_SIG), _sig(ENOCH_SIG))
    assert both.unverified == ()


def test_a_note_without_a_known_signature_is_rejected() -> None:
    with pytest.raises(NoteError, match="no verifiable signatures"):
        open_note((SIGNED + ENOCH_SIG).encode(), [])


def test_two_verifiers_for_one_key_are_ambiguous_only_when_that_key_signed() -> None:
    with pytest.raises(NoteError, match="ambiguous key EnochRoot"):
        open_note((TEXT + "\n" + ENOCH_SIG).encode(), [ENOCH, PETER, ENOCH])
    open_note(SIGNED.encode(), [ENOCH, PETER, ENOCH])


def test_a_bad_signature_from_a_known_key_rejects_the_whole_note() -> None:
    corrupt = PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(NoteError, match="invalid signature for key PeterNeumann"):
        open_note((TEXT + "\n" + corrupt + ENOCH_SIG).encode(), [PETER, ENOCH])


def test_repeated_signatures_are_counted_once() -> None:
    enoch_abcd = ENOCH_SIG[:60] + "ABCD" + ENOCH_SIG[60:]
    body = PETER_SIG + PETER_SIG + ENOCH_SIG + ENOCH_SIG + enoch_abcd
    note = open_note((TEXT + "\n" + body).encode(), [PETER])
    assert note.signatures == (_sig(PETER_SIG),)
    assert note.unverified == (_sig(ENOCH_SIG), _sig(enoch_abcd))


def test_more_than_a_hundred_signatures_is_malformed() -> None:
    with pytest.raises(NoteError, match="malformed"):
        open_note((TEXT + "\n" + PETER_SIG * 101).encode(), [PETER])
    open_note((TEXT + "\n" + PETER_SIG * 100).encode(), [PETER])


@pytest.mark.parametrize(
    "msg",
    [
        TEXT.encode(),
        (TEXT + "\n").encode(),
        (TEXT + "\n" + PETER_SIG[:-1]).encode(),
        ("\x01" + SIGNED).encode(),
        b"\xff" + SIGNED.encode(),
        (TEXT + "\n" + "— Bad Name " + PETER_SIG.split(" ")[2]).encode(),
        (SIGNED + "Unexpected line.\n").encode(),
        (TEXT + "\n" + PETER_SIG.replace("AM=", "AN=")).encode(),  # non-canonical base64
        (TEXT + "\n" + PETER_SIG.replace("=", "")).encode(),  # missing padding
        (TEXT + "\n" + "— PeterNeumann x08gow==\n").encode(),  # key ID and nothing else
        (TEXT + "\n" + "— PeterNeumann\n").encode(),
        (TEXT + "\n" + "— Peter+Neumann " + PETER_SIG.split(" ")[2]).encode(),
        (TEXT.replace("\n", "\r\n", 1) + "\n" + PETER_SIG).encode(),
        (TEXT + "\n" + "- PeterNeumann " + PETER_SIG.split(" ")[2]).encode(),
    ],
)
def test_malformed_notes_are_rejected_clearly(msg: bytes) -> None:
    with pytest.raises(NoteError, match="malformed"):
        open_note(msg, [PETER])


def test_the_spec_example_splits_at_its_last_blank_line() -> None:
    text, signatures = parse_note(SPEC_EXAMPLE.encode())
    assert text == (
        "Ognuno sta solo sul cuor della terra\n"
        "trafitto da un raggio di sole:\n"
        "\n"
        "ed è subito sera.\n"
    )
    assert [s.name for s in signatures] == ["quasimodo.example/salvatore"]
    assert len(signatures[0].signature) == 64
    with pytest.raises(NoteError, match="no verifiable signatures"):
        open_note(SPEC_EXAMPLE.encode(), [PETER])


@pytest.mark.parametrize(
    "text", ["no final newline", "tab\there\n", "nul\x00\n", "lone \ud800 surrogate\n"]
)
def test_text_that_cannot_be_a_note_is_not_signed(text: str) -> None:
    with pytest.raises(NoteError):
        sign_note(text, [Ed25519Signer.from_key_string(PETER_SKEY)])


@pytest.mark.parametrize("name", ["", "has space", "has+plus", "nbsp\u00a0", "ctl\x7f\x01"])
def test_invalid_key_names_are_refused(name: str) -> None:
    with pytest.raises(NoteError):
        Ed25519Signer(name, bytes(32))


def test_a_note_needs_a_signature() -> None:
    with pytest.raises(NoteError):
        sign_note(TEXT, [])


def test_key_reprs_never_show_the_private_seed() -> None:
    signer = Ed25519Signer.from_key_string(PETER_SKEY)
    assert repr(signer) == "Ed25519Signer(PeterNeumann+c74f20a3)"
    assert "AYEK" not in repr(signer)
    assert repr(PETER) == "Ed25519Verifier(PeterNeumann+c74f20a3)"


_NOTE_TEXT = st.lists(
    st.text(st.characters(min_codepoint=0x20, exclude_categories=("Cs",)), max_size=40),
    min_size=1,
    max_size=6,
).map(lambda lines: "\n".join(lines) + "\n")


@given(_NOTE_TEXT)
@settings(max_examples=100, deadline=None)
def test_any_valid_text_survives_signing_and_opening(text: str) -> None:
    signer = Ed25519Signer.from_key_string(PETER_SKEY)
    note = open_note(sign_note(text, [signer]), [PETER])
    assert note.text == text
    assert [s.name for s in note.signatures] == ["PeterNeumann"]


def test_a_generated_key_round_trips_through_its_key_strings() -> None:
    signer = Ed25519Signer.generate("example.com/log")
    again = Ed25519Signer.from_key_string(signer.key_string())
    verifier = Ed25519Verifier.from_key_string(signer.verifier().key_string())
    assert again.public_key == signer.public_key == verifier.public_key
    open_note(sign_note(TEXT, [again]), [verifier])


class _MisnamedSigner:
    name = "bad name"
    key_id = b"\x00\x00\x00\x00"

    def sign(self, text: bytes) -> bytes:
        return b"signature"


def test_a_signer_with_an_invalid_name_cannot_sign() -> None:
    with pytest.raises(NoteError, match="invalid signer"):
        sign_note(TEXT, [_MisnamedSigner()])


def test_a_kept_signature_with_an_invalid_name_or_key_id_is_refused() -> None:
    for bad in (NoteSignature("a+b", b"\x00" * 4, b"sig"), NoteSignature("ab", b"\x00", b"s")):
        with pytest.raises(NoteError, match="invalid signature"):
            sign_note(TEXT, [], keep=[bad])


def test_signing_refuses_more_signatures_than_opening_accepts() -> None:
    many = [NoteSignature(f"key{i}", i.to_bytes(4, "big"), b"sig") for i in range(101)]
    with pytest.raises(NoteError, match="more than 100"):
        sign_note(TEXT, [], keep=many)


def test_verifier_and_signer_keys_need_a_valid_name_and_seed() -> None:
    with pytest.raises(NoteError, match="invalid key name"):
        Ed25519Verifier("bad name", PETER.public_key)
    with pytest.raises(NoteError, match="32 bytes"):
        Ed25519Signer("ok", bytes(31))
