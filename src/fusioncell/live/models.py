"""The events every live client is told, in order, for every track."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Identity, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fusioncell.db.base import Base, UTCDateTime


class Event(Base):
    """One thing that happened, as live clients hear of it; the id is the SSE event id they
    resume from.

    Every event announces a log entry (``log_index``) and reaches exactly that entry's
    readers: its audience, holding the read permission of the track that owns the entry type
    (``ledger.queries.readable_entry``), and passing the track's own filter. It is written in
    the action's transaction right after its entry, under the log's lock, so ids follow the
    log's order and a cursor never skips an event committed late with a lower id.
    """

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), Identity(), primary_key=True
    )
    # The track that emitted it (``Track.name``) and its kind there (the SSE ``event:``).
    track: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    # What it belongs to in the track (the hotline: a channel) and what it is about (a
    # message), as text: ids of any track's objects.
    scope: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(64))
    log_index: Mapped[int] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
