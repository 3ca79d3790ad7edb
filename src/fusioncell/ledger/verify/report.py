"""What ``verify_log`` answers (``VerifyReport``), and the failure its checks raise."""

from __future__ import annotations

from dataclasses import dataclass

from fusioncell.ledger.entries import b64


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    size: int  # the checkpoint's tree size; 0 when no checkpoint could be read
    entries_checked: int
    bodies_checked: int
    failed_index: int | None = None
    reason: str | None = None
    root: bytes | None = None
    cosigners: tuple[str, ...] = ()

    def summary(self) -> str:
        if not self.ok:
            where = "" if self.failed_index is None else f" at entry {self.failed_index}"
            return f"FAILED{where}: {self.reason}"
        root = b64(self.root) if self.root is not None else "-"
        cosigned = f", cosigned by {', '.join(self.cosigners)}" if self.cosigners else ""
        return (
            f"OK: checkpoint {self.size} (root {root}){cosigned}; "
            f"{self.entries_checked} entries and {self.bodies_checked} bodies verified"
        )


class Failure(Exception):
    def __init__(self, index: int | None, reason: str) -> None:
        super().__init__(reason)
        self.index = index
        self.reason = reason
