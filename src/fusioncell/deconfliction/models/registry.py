"""Tables of the registry of protected places (issue 12, item 4): sites (a hospital, a school,
a place of worship, a crossing, a UN post, a warehouse: a point) and communities (a polygon
and the population group it protects), proposed by any organisation and in force once both
parties and the supervisor have signed; and each party's weekly no-strike list, the agreed
places as sent, whose receipt the party's focal point acknowledges. Every row comes from one
signed entry."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from fusioncell.db.base import Base, UTCDateTime


class PlaceKind(StrEnum):
    """What a registry entry protects: a site's use, or a community."""

    HOSPITAL = "hospital"
    SCHOOL = "school"
    PLACE_OF_WORSHIP = "place_of_worship"
    CROSSING = "crossing"
    UN_POST = "un_post"
    WAREHOUSE = "warehouse"
    COMMUNITY = "community"


SITE_KINDS = frozenset(PlaceKind) - {PlaceKind.COMMUNITY}


class ProtectedPlace(Base):
    """A proposed protected site or community: agreed (in force) once every party and the
    supervisor have signed it; ``agreed_log_index`` is the signature that completed the set."""

    __tablename__ = "deconfliction_protected_places"
    # A client-chosen id is its proposer's own: a retry finds it by (proposer, client id).
    __table_args__ = (
        UniqueConstraint("proposed_by", "client_id", name="uq_deconfliction_places_client"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    proposed_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    # A community's population group ("Druze residents of ..."); None for a site.
    population: Mapped[str | None] = mapped_column(String(200))
    # RFC 7946 (WGS 84 lon/lat): a Point for a site, a Polygon or MultiPolygon for a community.
    geometry: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The clearance a notification keeps from it (None: the rules' ``buffer.site_m``).
    buffer_m: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text)
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    agreed_log_index: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    agreed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class PlaceSignature(Base):
    """One signatory organisation's consent to a proposed place (a party's liaison officer
    or the supervisor): an entry of its own."""

    __tablename__ = "deconfliction_place_signatures"

    place_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("deconfliction_protected_places.id"), primary_key=True
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id"), primary_key=True
    )
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class NoStrikeList(Base):
    """The agreed places as sent to one party for one week (or on the supervisor's demand):
    the content is kept as sent, so every export of it says what the party received and its
    SHA-256 (of the content's RFC 8785 form) is in the entry. The party's focal point (its
    liaison officer) acknowledges receipt, by a signed entry."""

    __tablename__ = "deconfliction_no_strike_lists"
    __table_args__ = (
        UniqueConstraint("party_id", "period", name="uq_deconfliction_no_strike_lists_period"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    party_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    # The week's scheduled send ("2026-W02"), or "demand/<uuid>" for a list sent on demand.
    period: Mapped[str] = mapped_column(String(64))
    # A GeoJSON FeatureCollection of the agreed places, as sent.
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(64))
    places: Mapped[int] = mapped_column(Integer)
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ack_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("members.id"))
    ack_log_index: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
