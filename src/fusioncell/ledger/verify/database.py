"""Reading a log straight from a fusioncell database, for an operator or a party with a copy.

The tables are described here with plain SQL constructs rather than through the ORM models:
the verifier states the stored format it checks and shares no code path with the writer. It
reads every body, so it runs outside the access policy, as the operator, never for a request.
Everything is read in one transaction, so a log growing meanwhile is seen at one instant.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    Connection,
    Engine,
    Integer,
    LargeBinary,
    String,
    Text,
    Uuid,
    column,
    func,
    select,
    table,
)
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from fusioncell.db.base import UTCDateTime
from fusioncell.db.engine import create_db_engine, normalise_url
from fusioncell.errors import InvalidInput
from fusioncell.ledger import tree
from fusioncell.ledger.verify.sources import (
    SourceEntry,
    SourceError,
    StoredBody,
    StoredCheckpoint,
    StoredColumns,
    StoredKey,
    StoredState,
)

PAGE_SIZE = 1000
T = TypeVar("T")

_entries = table(
    "log_entries",
    column("index", BigInteger),
    column("entry_type", String),
    column("author_key_id", String),
    column("leaf", LargeBinary),
    column("leaf_hash", LargeBinary),
    column("signature", LargeBinary),
    column("logged_at", UTCDateTime()),
    column("custodial", Boolean),
)
_hashes = table("log_hashes", column("index", BigInteger), column("hash", LargeBinary))
_bodies = table(
    "log_bodies",
    column("entry_index", BigInteger),
    column("salt", LargeBinary),
    column("body", Text),
)
_audiences = table(
    "log_audiences",
    column("entry_index", BigInteger),
    column("kind", String),
    column("value", String),
)
_keys = table(
    "log_keys",
    column("key_id", String),
    column("public_key", LargeBinary),
    column("member_id", Uuid),
    column("custodial", Boolean),
    column("enrolled_index", BigInteger),
    column("revoked_index", BigInteger),
)
_checkpoints = table(
    "log_checkpoints", column("size", BigInteger), column("root", LargeBinary), column("note", Text)
)
_cosignatures = table(
    "log_cosignatures", column("size", BigInteger), column("witness", String), column("line", Text)
)
_sequence = table("log_sequence", column("id", Integer), column("next_index", BigInteger))


class DatabaseSource:
    """A log read from its tables; use as a context manager, or call ``close``.

    The checkpoint it offers is the newest one stored, cosigned or not (``/log/checkpoint``
    serves the newest one that meets the server's witness quorum instead).
    """

    def __init__(self, engine_or_url: Engine | str, *, page_size: int = PAGE_SIZE) -> None:
        if isinstance(engine_or_url, Engine):
            self._engine, self._owned = engine_or_url, False
        else:
            try:
                url = normalise_url(engine_or_url)
            except (InvalidInput, ArgumentError) as exc:
                raise SourceError(f"bad database URL: {_one_line(exc)}") from None
            path = url.database if url.get_backend_name() == "sqlite" else None
            if path and path != ":memory:" and not Path(path).is_file():
                # SQLite would create an empty file: a verifier must not leave one behind.
                raise SourceError(f"no database at {path}")
            self._engine, self._owned = create_db_engine(engine_or_url), True
        self._page_size = page_size
        self._connection: Connection | None = None

    def __enter__(self) -> DatabaseSource:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        if self._owned:
            self._engine.dispose()

    def checkpoint(self) -> bytes | None:
        with self._reading() as connection:
            size = connection.scalar(select(func.max(_checkpoints.c.size)))
            if size is None:
                return None
            note = connection.scalar(select(_checkpoints.c.note).where(_checkpoints.c.size == size))
            lines = connection.scalars(
                select(_cosignatures.c.line)
                .where(_cosignatures.c.size == size)
                .order_by(_cosignatures.c.witness)
            ).all()
        return (str(note) + "".join(f"{line}\n" for line in lines)).encode()

    def entries(self, size: int) -> Iterator[SourceEntry]:
        with self._reading() as connection:
            last = connection.scalar(select(func.max(_entries.c.index)))
        start = 0
        while last is not None and start <= last:
            end = start + self._page_size
            with self._reading() as connection:
                page = self._page(connection, start, end)
            yield from page
            start = end

    def stored_state(self) -> StoredState:
        with self._reading() as connection:
            next_index = connection.scalar(
                select(_sequence.c.next_index).where(_sequence.c.id == 1)
            )
            entry_rows = connection.scalar(select(func.count()).select_from(_entries))
            hash_rows = connection.scalar(select(func.count()).select_from(_hashes))
            body_rows = connection.scalar(select(func.count()).select_from(_bodies))
            audience_rows = connection.scalar(select(func.count()).select_from(_audiences))
            keys = tuple(
                StoredKey(
                    key_id=str(row.key_id),
                    public_key=bytes(row.public_key),
                    member=None if row.member_id is None else str(row.member_id),
                    custodial=bool(row.custodial),
                    enrolled_index=int(row.enrolled_index),
                    revoked_index=None if row.revoked_index is None else int(row.revoked_index),
                )
                for row in connection.execute(select(_keys).order_by(_keys.c.enrolled_index))
            )
            cosignatures: dict[int, list[tuple[str, str]]] = {}
            for row in connection.execute(
                select(_cosignatures).order_by(_cosignatures.c.size, _cosignatures.c.witness)
            ):
                cosignatures.setdefault(int(row.size), []).append((str(row.witness), str(row.line)))
            checkpoints = tuple(
                StoredCheckpoint(
                    size=int(row.size),
                    root=bytes(row.root),
                    note=str(row.note),
                    cosignatures=tuple(cosignatures.get(int(row.size), ())),
                )
                for row in connection.execute(select(_checkpoints).order_by(_checkpoints.c.size))
            )
        return StoredState(
            next_index=None if next_index is None else int(next_index),
            entry_rows=int(entry_rows or 0),
            hash_rows=int(hash_rows or 0),
            body_rows=int(body_rows or 0),
            audience_rows=int(audience_rows or 0),
            keys=keys,
            checkpoints=checkpoints,
        )

    def _page(self, connection: Connection, start: int, end: int) -> list[SourceEntry]:
        first_hash, end_hash = tree.stored_hash_count(start), tree.stored_hash_count(end)
        stored = {
            int(index): bytes(value)
            for index, value in connection.execute(
                select(_hashes.c.index, _hashes.c.hash).where(
                    _hashes.c.index >= first_hash, _hashes.c.index < end_hash
                )
            )
        }
        rows = connection.execute(
            select(_entries, _bodies.c.salt, _bodies.c.body)
            .select_from(_entries.outerjoin(_bodies, _bodies.c.entry_index == _entries.c.index))
            .where(_entries.c.index >= start, _entries.c.index < end)
            .order_by(_entries.c.index)
        )
        audiences: dict[int, set[tuple[str, str]]] = {}
        for grant in connection.execute(
            select(_audiences).where(
                _audiences.c.entry_index >= start, _audiences.c.entry_index < end
            )
        ):
            audiences.setdefault(int(grant.entry_index), set()).add(
                (str(grant.kind), str(grant.value))
            )
        return [_entry(row, stored, audiences) for row in rows]

    def read_tables(self, read: Callable[[Connection], T]) -> T:
        """Run ``read`` in the same transaction (and snapshot) the entries were read in."""
        with self._reading() as connection:
            return read(connection)

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        try:
            if self._connection is None:
                connection = self._engine.connect()
                if connection.dialect.name == "postgresql":
                    # One snapshot for every statement, so counts and pages agree.
                    connection = connection.execution_options(
                        isolation_level="REPEATABLE READ", postgresql_readonly=True
                    )
                self._connection = connection
            yield self._connection
        except SQLAlchemyError as exc:
            raise SourceError(f"cannot read the database: {_database_reason(exc)}") from None


def _entry(
    row: Any, stored: dict[int, bytes], audiences: dict[int, set[tuple[str, str]]]
) -> SourceEntry:
    index = int(row.index)
    first, end = tree.stored_hash_count(index), tree.stored_hash_count(index + 1)
    body = None
    if row.salt is not None or row.body is not None:
        body = StoredBody(salt=bytes(row.salt or b""), text=str(row.body or ""))
    return SourceEntry(
        index=index,
        leaf=bytes(row.leaf),
        body=body,
        columns=StoredColumns(
            leaf_hash=bytes(row.leaf_hash),
            signature=bytes(row.signature),
            entry_type=str(row.entry_type),
            author=str(row.author_key_id),
            logged_at=row.logged_at,
            custodial=bool(row.custodial),
        ),
        hashes={k: stored[k] for k in range(first, end) if k in stored},
        audience=frozenset(audiences.get(index, ())),
    )


def _database_reason(exc: SQLAlchemyError) -> str:
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        return _one_line(exc.orig)
    return _one_line(exc)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__
