"""Imports every domain's tables so ``Base.metadata`` is complete for Alembic and tests."""

from __future__ import annotations

from fusioncell.cell import models as cell_models
from fusioncell.db.base import Base
from fusioncell.geo import models as geo_models
from fusioncell.hotline import models as hotline_models
from fusioncell.ledger import models as ledger_models

MODEL_MODULES = (cell_models, geo_models, ledger_models, hotline_models)
metadata = Base.metadata
