"""The only writers of the cell's tables: one ``do_*`` function per user-visible change."""

# Every transaction that changes a credential moves the credential epoch.
from fusioncell.cell.actions import credential_epoch as _credential_epoch  # noqa: F401
