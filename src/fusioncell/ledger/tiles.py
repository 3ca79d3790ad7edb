"""Tile paths of C2SP tlog-tiles: ``<L>/x001/x234/067[.p/<W>]`` and ``entries/...``."""

from __future__ import annotations

import re
from dataclasses import dataclass

TILE_WIDTH = 256
_PATH = re.compile(r"(entries|[0-9]|[1-5][0-9]|6[0-3])/((?:x[0-9]{3}/)*[0-9]{3})(?:\.p/([0-9]+))?")


@dataclass(frozen=True)
class TilePath:
    level: int | None  # None for an entry bundle
    index: int
    width: int


def parse_tile_path(path: str) -> TilePath | None:
    match = _PATH.fullmatch(path)
    if match is None:
        return None
    level_text, index_text, width_text = match.groups()
    index = int(index_text.replace("x", "").replace("/", ""))
    width = TILE_WIDTH if width_text is None else int(width_text)
    if not 1 <= width <= TILE_WIDTH or (width_text is not None and width == TILE_WIDTH):
        return None
    if format_index(index) != index_text:
        return None
    return TilePath(None if level_text == "entries" else int(level_text), index, width)


def format_index(index: int) -> str:
    digits = f"{index:03d}"
    digits = digits.zfill((len(digits) + 2) // 3 * 3)
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([*(f"x{g}" for g in groups[:-1]), groups[-1]])


def tile_path(level: int | None, index: int, width: int = TILE_WIDTH) -> str:
    head = "entries" if level is None else str(level)
    tail = "" if width == TILE_WIDTH else f".p/{width}"
    return f"{head}/{format_index(index)}{tail}"
