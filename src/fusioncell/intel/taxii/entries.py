"""The TAXII server's entry types. Values are signed: never rename or reuse one.

Objects added through TAXII are ``intel.report.submitted`` entries like any other report;
these are what TAXII alone does: bringing a medallion server's collections over, and an
author deleting an object version from every collection."""

from __future__ import annotations

from enum import StrEnum

from fusioncell.cell.policy import Permission


class TaxiiEntry(StrEnum):
    IMPORTED = "intel.taxii.imported"
    WITHDRAWN = "intel.taxii.withdrawn"


# The import's body (collections and objects) goes to the supervising organisation and the
# named members' organisations, a withdrawal's to the organisations the object was released
# to; within them, to whoever reads intelligence, as for reports (``intel.entries``).
TAXII_READ_PERMISSIONS: dict[StrEnum, Permission | None] = dict.fromkeys(
    TaxiiEntry, Permission.INTEL_READ
)
