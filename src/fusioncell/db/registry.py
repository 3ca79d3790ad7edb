"""Every track's tables, as ``fusioncell.bootstrap`` lists them, so ``Base.metadata`` is
complete for Alembic and tests."""

from __future__ import annotations

from fusioncell.bootstrap import MODEL_MODULES
from fusioncell.db.base import Base

__all__ = ["MODEL_MODULES", "metadata"]
metadata = Base.metadata
