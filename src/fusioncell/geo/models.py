"""The cell's geography: zones (separation, limitation, sectors) and protected sites."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from fusioncell.db.base import Base, UTCDateTime
from fusioncell.geo.kinds import ZONE_KINDS, FeatureKind

__all__ = ["ZONE_KINDS", "FeatureKind", "GeoFeature"]


class GeoFeature(Base):
    __tablename__ = "geo_features"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    side: Mapped[str | None] = mapped_column(String(32))
    band: Mapped[str | None] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    # An RFC 7946 geometry object (lon/lat).
    geometry: Mapped[dict[str, Any]] = mapped_column(JSON)
    # False until the parties replace the demo geometry with agreed lines.
    authoritative: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
