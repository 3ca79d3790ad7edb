"""``verify_log``: every check, in order, and the report.

The checkpoint comes first because it is what the parties agreed on: the log key signed it and
the witnesses cosigned it. The leaves must then hash to its root, or nothing else about them
matters. Only then is each leaf checked on its own (form, time, signature under the key history
at its index, body), then what a database keeps beside the leaves (``stored.py``), and last,
when the caller passes the tracks' state checks, the state a database serves (``state.py``).

A failure names the first entry at fault where one can be named. When the leaves miss the root,
the culprit is the first leaf whose hash differs from the one the source stored for it; with no
stored hashes (a server), the first leaf that fails its own checks.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime

from fusioncell.ledger import tree
from fusioncell.ledger.checkpoint import (
    Checkpoint,
    CosignatureVerifier,
    parse_checkpoint,
)
from fusioncell.ledger.entries import (
    MAX_CLOCK_SKEW_SECONDS,
    check_header_shape,
    log_time,
    parse_leaf,
    parse_log_time,
    signing_message,
)
from fusioncell.ledger.errors import CheckpointError, NoteError
from fusioncell.ledger.keys import verify_signature
from fusioncell.ledger.note import Ed25519Verifier, NoteVerifier, open_note
from fusioncell.ledger.verify.history import KeyHistory, KeyProblem
from fusioncell.ledger.verify.replay import Replay, ReplayFactory
from fusioncell.ledger.verify.report import Failure, VerifyReport
from fusioncell.ledger.verify.sources import (
    EntryUnavailable,
    LogSource,
    SourceEntry,
    TableSource,
)
from fusioncell.ledger.verify.state import (
    Recorded,
    RecordedLog,
    StateCheck,
    StateMismatch,
    check_state,
)
from fusioncell.ledger.verify.stored import check_body, check_columns, check_stored


def verify_log(
    source: LogSource,
    *,
    log_key: Ed25519Verifier,
    witnesses: Sequence[CosignatureVerifier] = (),
    quorum: int | None = None,
    state_checks: Sequence[StateCheck] | None = None,
    replays: Sequence[ReplayFactory] = (),
) -> VerifyReport:
    """Check everything ``source`` offers; raises ``SourceError`` only if it cannot be read.

    ``quorum`` is how many of ``witnesses`` must have cosigned the checkpoint (all of them when
    None). ``state_checks``, one per track, check a database's audiences and served rows
    against the bodies; every entry type in the log must then belong to one of them.
    ``replays``, the tracks' (``fusioncell.bootstrap``), watch every entry in log order; the
    earliest problem any of them names fails the log.
    """
    unique = list({(w.name, w.key_id): w for w in witnesses}.values())
    needed = len(unique) if quorum is None else quorum
    if not 0 <= needed <= len(unique):
        raise ValueError(f"a quorum of {needed} out of {len(unique)} witnesses")
    run = _Verification(log_key, unique, state_checks, [make() for make in replays])
    try:
        run.verify(source, needed)
    except Failure as failure:
        return run.report(failure)
    return run.report(None)


class _Verification:
    def __init__(
        self,
        log_key: Ed25519Verifier,
        witnesses: list[CosignatureVerifier],
        state_checks: Sequence[StateCheck] | None,
        replays: Sequence[Replay] = (),
    ) -> None:
        self.log_key = log_key
        self.state_checks = state_checks
        self.recorded: list[Recorded] = []
        self.audiences: dict[int, frozenset[tuple[str, str]]] = {}
        self.audiences_given = False
        self.witnesses = witnesses
        self.history = KeyHistory(log_key.public_key)
        self.store = tree.MemoryHashStore()
        self.size = 0
        self.root: bytes | None = None
        self.cosigners: tuple[str, ...] = ()
        self.entries_checked = 0
        self.bodies_checked = 0
        self.last_logged_at: datetime | None = None
        self.signatures: dict[bytes, int] = {}
        self.first_stored_mismatch: int | None = None
        self.replays = replays

    def report(self, failure: Failure | None) -> VerifyReport:
        return VerifyReport(
            ok=failure is None,
            size=self.size,
            entries_checked=self.entries_checked,
            bodies_checked=self.bodies_checked,
            failed_index=None if failure is None else failure.index,
            reason=None if failure is None else failure.reason,
            root=self.root if failure is None else None,
            cosigners=self.cosigners,
        )

    def verify(self, source: LogSource, needed: int) -> None:
        checkpoint = self._checkpoint(source.checkpoint(), needed)
        size = self.size = checkpoint.size
        failure = self._walk(source.entries(size), size)
        if self.store.size < size:
            if failure is not None and failure.index == self.store.size:
                raise failure
            raise Failure(
                self.store.size,
                f"entry {self.store.size} is missing: the checkpoint commits to {size} entries",
            )
        if tree.tree_hash(size, self.store) != checkpoint.root_hash:
            raise self._root_mismatch(size, failure)
        if failure is not None:
            raise failure
        self.root = checkpoint.root_hash
        state = source.stored_state()
        if state is not None:
            check_stored(
                state,
                store=self.store,
                audiences=self.audiences,
                audiences_given=self.audiences_given,
                history=self.history,
                log_key=self.log_key,
                witnesses=self.witnesses,
            )
        problems = [p for replay in self.replays if (p := replay.first_problem()) is not None]
        if problems:
            raise Failure(*min(problems, key=lambda problem: problem[0]))
        if self.state_checks is not None and isinstance(source, TableSource):
            owners = {key.key_id: key.member for key in self.history.keys.values()}
            log = RecordedLog(self.recorded, owners)
            try:
                check_state(source, log, self.audiences, self.state_checks)
            except StateMismatch as mismatch:
                raise Failure(mismatch.index, mismatch.reason) from None

    # -- the checkpoint --------------------------------------------------------------------

    def _checkpoint(self, note: bytes | None, needed: int) -> Checkpoint:
        if note is None:
            raise Failure(None, "the log has no checkpoint to verify against")
        label = f"{self.log_key.name}+{self.log_key.key_id.hex()}"
        try:
            opened = open_note(note, [self.log_key])
        except NoteError as exc:
            reason = f"the checkpoint is not signed by the log key {label}: {exc}"
            raise Failure(None, reason) from None
        try:
            checkpoint = parse_checkpoint(opened.text)
        except CheckpointError as exc:
            raise Failure(None, f"the checkpoint is malformed: {exc}") from None
        if checkpoint.origin != self.log_key.name:
            raise Failure(None, f"the checkpoint is for log {checkpoint.origin!r}")
        verifiers: list[NoteVerifier] = [self.log_key, *self.witnesses]
        try:
            cosigned = open_note(note, verifiers)
        except NoteError as exc:
            raise Failure(None, f"a witness's cosignature does not verify: {exc}") from None
        names = {(w.name, w.key_id) for w in self.witnesses}
        self.cosigners = tuple(s.name for s in cosigned.signatures if (s.name, s.key_id) in names)
        if len(self.cosigners) < needed:
            raise Failure(
                None,
                f"the checkpoint is cosigned by {len(self.cosigners)} of the "
                f"{len(self.witnesses)} witnesses; {needed} needed",
            )
        return checkpoint

    # -- the leaves ------------------------------------------------------------------------

    def _walk(self, entries: Iterator[SourceEntry], size: int) -> Failure | None:
        """Hash every leaf; check each until the first failure, which is returned."""
        failure: Failure | None = None
        while failure is None or self.store.size < size:
            expected = self.store.size
            try:
                entry = next(entries, None)
            except EntryUnavailable as exc:
                return failure or Failure(exc.index, exc.reason)
            if entry is None:
                return failure
            if entry.index != expected:
                return failure or Failure(
                    expected, f"entry {expected} is missing (the next one is {entry.index})"
                )
            self.store.append(entry.leaf)
            self._note_stored_leaf_hash(entry)
            if failure is None:
                try:
                    self._check_entry(entry)
                except Failure as found:
                    failure = found
        return failure

    def _note_stored_leaf_hash(self, entry: SourceEntry) -> None:
        if self.first_stored_mismatch is not None:
            return
        recomputed = tree.leaf_hash(entry.leaf)
        claimed = []
        if entry.columns is not None:
            claimed.append(entry.columns.leaf_hash)
        if entry.hashes is not None:
            claimed.append(entry.hashes.get(tree.stored_hash_count(entry.index), recomputed))
        if any(value != recomputed for value in claimed):
            self.first_stored_mismatch = entry.index

    def _root_mismatch(self, size: int, failure: Failure | None) -> Failure:
        reason = f"the first {size} leaves do not hash to the checkpoint's root"
        located = self.first_stored_mismatch
        if located is not None and located < size:
            return Failure(located, f"the leaf differs from its stored hash, and {reason}")
        if failure is not None and failure.index is not None and failure.index < size:
            return Failure(failure.index, f"{failure.reason}; and {reason}")
        return Failure(None, reason)

    def _check_entry(self, entry: SourceEntry) -> None:
        index = entry.index
        try:
            leaf = parse_leaf(entry.leaf)
        except (ValueError, RecursionError) as exc:
            raise Failure(index, str(exc)) from None
        header = leaf.header
        try:
            check_header_shape(header)
        except (ValueError, TypeError) as exc:
            raise Failure(index, f"malformed header: {exc}") from None
        if self.last_logged_at is not None and leaf.logged_at < self.last_logged_at:
            raise Failure(
                index,
                f"logged at {log_time(leaf.logged_at)}, before the entry before it "
                f"({log_time(self.last_logged_at)})",
            )
        skew = abs((parse_log_time(header["time"]) - leaf.logged_at).total_seconds())
        if skew > MAX_CLOCK_SKEW_SECONDS:
            raise Failure(index, f"the author's time is {int(skew)} s from the log's time")
        try:
            public = self.history.signer(header)
        except KeyProblem as exc:
            raise Failure(index, str(exc)) from None
        if not verify_signature(public, signing_message(header["type"], header), leaf.signature):
            raise Failure(index, f"the signature does not verify with key {header['author']}")
        try:
            self.history.apply(index, header)
        except KeyProblem as exc:
            raise Failure(index, str(exc)) from None
        if (earlier := self.signatures.get(leaf.signature)) is not None:
            raise Failure(index, f"the same signed entry is already logged at entry {earlier}")
        self.signatures[leaf.signature] = index
        if entry.body is not None:
            value = check_body(index, header["body"], entry.body)
            self.bodies_checked += 1
            if self.state_checks is not None:
                self.recorded.append(
                    Recorded(
                        index=index,
                        entry_type=str(header["type"]),
                        author=str(header["author"]),
                        logged_at=leaf.logged_at,
                        leaf_hash=tree.leaf_hash(entry.leaf),
                        body=value,
                    )
                )
        elif entry.columns is not None:
            # A database keeps every body: without it nobody can check what the entry said.
            raise Failure(index, "log_bodies has no row for this entry: its body is lost")
        if entry.audience is not None:
            self.audiences[index] = entry.audience
            self.audiences_given = True
        body = entry.body.text if entry.body is not None else None
        for replay in self.replays:
            replay.observe(index, header["type"], leaf.logged_at, body)
        if entry.columns is not None:
            check_columns(index, entry.leaf, leaf, entry.columns)
        if entry.hashes is not None:
            self._check_stored_hashes(index, entry.hashes)
        self.last_logged_at = leaf.logged_at
        self.entries_checked += 1

    def _check_stored_hashes(self, index: int, stored: Mapping[int, bytes]) -> None:
        first, end = tree.stored_hash_count(index), tree.stored_hash_count(index + 1)
        recomputed = self.store.read_hashes(range(first, end))
        for position, value in zip(range(first, end), recomputed, strict=True):
            if (kept := stored.get(position)) is None:
                raise Failure(index, f"the stored hash {position} is missing from log_hashes")
            if kept != value:
                raise Failure(
                    index,
                    f"the stored hash {position} (level {position - first}) differs from the "
                    "hash of the leaves",
                )
