"""Reading a log over its public endpoints, as any party can: the checkpoint and the C2SP
tlog-tiles entry bundles. No bodies, no stored hashes: the leaves are all a server offers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

import httpx

from fusioncell.ledger.tiles import TILE_WIDTH, tile_path
from fusioncell.ledger.verify.sources import EntryUnavailable, SourceEntry, SourceError

CHECKPOINT_PATH = "/log/checkpoint"
TILE_PREFIX = "/log/tile/"


class Response(Protocol):
    @property
    def status_code(self) -> int: ...

    @property
    def content(self) -> bytes: ...


class Getter(Protocol):
    """An ``httpx.Client``, or anything that GETs like one (Starlette's TestClient)."""

    def get(self, url: str) -> Response: ...


class HttpSource:
    def __init__(self, base_url: str, client: Getter) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = client

    def checkpoint(self) -> bytes | None:
        response = self._get(CHECKPOINT_PATH)
        if response.status_code == 404:
            return None
        return response.content

    def entries(self, size: int) -> Iterator[SourceEntry]:
        for bundle in range((size + TILE_WIDTH - 1) // TILE_WIDTH):
            first = bundle * TILE_WIDTH
            width = min(TILE_WIDTH, size - first)
            path = TILE_PREFIX + tile_path(None, bundle, width)
            response = self._get(path)
            if response.status_code == 404:
                raise EntryUnavailable(first, f"the server has no entry bundle {path}")
            leaves, problem = split_bundle(response.content, first, width)
            for offset, leaf in enumerate(leaves):
                yield SourceEntry(index=first + offset, leaf=leaf)
            if problem is not None:
                raise problem

    def stored_state(self) -> None:
        return None

    def _get(self, path: str) -> Response:
        url = self.base_url + path
        try:
            response = self.client.get(url)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise SourceError(f"bad URL {url!r}: {exc}") from None
        except httpx.HTTPError as exc:
            raise SourceError(f"cannot reach {url}: {exc}") from None
        if response.status_code not in (200, 404):
            raise SourceError(f"{url} answered {response.status_code}")
        return response


def split_bundle(
    data: bytes, first: int, width: int
) -> tuple[list[bytes], EntryUnavailable | None]:
    """The leaves of an entry bundle (each prefixed with its length, two bytes big-endian), and
    what is wrong with the bundle after them, if anything."""
    leaves: list[bytes] = []
    offset = 0
    while offset < len(data):
        index = first + len(leaves)
        if len(leaves) == width:
            return leaves, EntryUnavailable(index, f"the entry bundle holds more than {width}")
        length = int.from_bytes(data[offset : offset + 2], "big")
        leaf = data[offset + 2 : offset + 2 + length]
        if offset + 2 > len(data) or len(leaf) != length:
            return leaves, EntryUnavailable(index, "the entry bundle is truncated")
        leaves.append(leaf)
        offset += 2 + length
    if len(leaves) < width:
        reason = f"entry {first + len(leaves)} is missing: the entry bundle holds {len(leaves)}"
        return leaves, EntryUnavailable(first + len(leaves), f"{reason} of {width}")
    return leaves, None
