#!/usr/bin/env python3
"""Copy the web UI's third-party assets from node_modules into static/vendor/.

fusioncell runs air-gapped: it serves no file from a CDN and loads no online tiles. The
browser libraries are pinned in package.json, installed with ``npm ci`` at setup and copied
here into ``src/fusioncell/web/static/vendor/`` (git-ignored, never committed):

- ``htmx.min.js`` (htmx.org), ``sse.js`` (htmx-ext-sse), ``leaflet.js``, ``leaflet.css`` and
  ``images/`` (leaflet), ``mgrs.min.js`` (mgrs: MGRS to and from latitude and longitude, for
  the map's coordinate read-out and the map picker), their licence texts under ``licenses/``;
- ``basemap.geojson``: Natural Earth country outlines decoded from world-atlas'
  ``countries-10m.json`` (TopoJSON), clipped to the region's bounding box;
- ``README`` naming each file's origin and licence.

The build is idempotent and does nothing when a stamp of its inputs matches. It prints one
line of what it did; a missing node_modules is a one-line error and exit status 2.

Usage: ``.venv/bin/python scripts/build_static.py [--out DIR] [--node-modules DIR] [--force]``
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import shutil
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_NODE_MODULES = ROOT / "node_modules"
DEFAULT_OUT = ROOT / "src" / "fusioncell" / "web" / "static" / "vendor"

#: The region shown by the map: lon 33.5-38.5 E, lat 31.0-35.5 N (west, south, east, north).
CLIP_BBOX = (33.5, 31.0, 38.5, 35.5)
#: Decimal places kept in basemap coordinates (1e-5 degree is about 1 m).
PRECISION = 5

STAMP_NAME = ".build-stamp.json"
BASEMAP_NAME = "basemap.geojson"
#: Bump to force a rebuild when the output format changes without the inputs changing.
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Package:
    name: str
    license: str
    license_file: str
    files: tuple[tuple[str, str], ...]  # (source inside the package, destination in vendor/)
    trees: tuple[tuple[str, str], ...] = ()  # (directory inside the package, destination)


PACKAGES: tuple[Package, ...] = (
    Package(
        name="htmx.org",
        license="0BSD",
        license_file="LICENSE",
        files=(("dist/htmx.min.js", "htmx.min.js"),),
    ),
    Package(
        name="htmx-ext-sse",
        license="0BSD",
        license_file="LICENSE",
        files=(("dist/sse.js", "sse.js"),),
    ),
    Package(
        name="leaflet",
        license="BSD-2-Clause",
        license_file="LICENSE",
        files=(("dist/leaflet.js", "leaflet.js"), ("dist/leaflet.css", "leaflet.css")),
        trees=(("dist/images", "images"),),
    ),
    Package(
        name="mgrs",
        license="MIT",
        license_file="license.md",
        files=(("dist/mgrs.min.js", "mgrs.min.js"),),
    ),
    Package(
        name="world-atlas",
        license="ISC (data: Natural Earth, public domain)",
        license_file="LICENSE",
        files=(),
    ),
)
WORLD_ATLAS_SOURCE = "countries-10m.json"


class BuildError(Exception):
    """A problem reported to the user as one line."""


# --------------------------------------------------------------------------- inputs


def _package_dir(node_modules: Path, name: str) -> Path:
    return node_modules / name


def _package_version(node_modules: Path, name: str) -> str:
    manifest = _package_dir(node_modules, name) / "package.json"
    return str(json.loads(manifest.read_text(encoding="utf-8"))["version"])


def _tree_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def check_node_modules(node_modules: Path) -> None:
    if not node_modules.is_dir():
        raise BuildError(f"{_rel(node_modules)} is missing: run npm ci first")
    for pkg in PACKAGES:
        pkg_dir = _package_dir(node_modules, pkg.name)
        if not (pkg_dir / "package.json").is_file():
            raise BuildError(f"{_rel(pkg_dir)} is missing: run npm ci first")
        needed = [s for s, _ in pkg.files] + [s for s, _ in pkg.trees] + [pkg.license_file]
        if pkg.name == "world-atlas":
            needed.append(WORLD_ATLAS_SOURCE)
        for src in needed:
            if not (pkg_dir / src).exists():
                raise BuildError(f"{_rel(pkg_dir / src)} is missing: run npm ci first")


def input_files(node_modules: Path) -> list[Path]:
    files: list[Path] = []
    for pkg in PACKAGES:
        pkg_dir = _package_dir(node_modules, pkg.name)
        files.append(pkg_dir / "package.json")
        files.append(pkg_dir / pkg.license_file)
        files.extend(pkg_dir / src for src, _ in pkg.files)
        for src, _ in pkg.trees:
            files.extend(_tree_files(pkg_dir / src))
    files.append(_package_dir(node_modules, "world-atlas") / WORLD_ATLAS_SOURCE)
    return files


def compute_stamp(node_modules: Path) -> dict[str, Any]:
    """What the outputs depend on: this script, the format and every input's size and mtime."""
    inputs = {}
    for path in input_files(node_modules):
        st = path.stat()
        inputs[path.relative_to(node_modules).as_posix()] = [st.st_size, st.st_mtime_ns]
    return {
        "format": FORMAT_VERSION,
        "script": hashlib.sha256(Path(__file__).read_bytes()).hexdigest(),
        "clip_bbox": list(CLIP_BBOX),
        "precision": PRECISION,
        "inputs": inputs,
    }


def read_stamp(out: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((out / STAMP_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_up_to_date(out: Path, stamp: dict[str, Any]) -> bool:
    old = read_stamp(out)
    if old is None or old.get("stamp") != stamp:
        return False
    outputs = old.get("outputs")
    if not isinstance(outputs, list):
        return False
    return all((out / name).is_file() for name in outputs)


# --------------------------------------------------------------------------- TopoJSON


def _decode_arcs(topology: dict[str, Any]) -> list[list[tuple[float, float]]]:
    """Absolute lon/lat points of every arc: undo the delta encoding, then the quantization."""
    transform = topology.get("transform")
    arcs: list[list[tuple[float, float]]] = []
    if transform is None:
        for arc in topology["arcs"]:
            arcs.append([(float(p[0]), float(p[1])) for p in arc])
        return arcs
    (sx, sy), (tx, ty) = transform["scale"], transform["translate"]
    for arc in topology["arcs"]:
        xs = accumulate(p[0] for p in arc)
        ys = accumulate(p[1] for p in arc)
        arcs.append([(x * sx + tx, y * sy + ty) for x, y in zip(xs, ys, strict=True)])
    return arcs


def _ring(
    indices: Iterable[int], arcs: list[list[tuple[float, float]]]
) -> list[tuple[float, float]]:
    """Stitch a ring from arc indices; ``~i`` (negative) is arc ``i`` reversed."""
    points: list[tuple[float, float]] = []
    for index in indices:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        if points:
            points.pop()  # the previous arc's last point is this arc's first
        points.extend(arc)
    return points


def _polygon(rings_arcs: list[list[int]], arcs: list[list[tuple[float, float]]]) -> Any:
    from shapely.geometry import Polygon

    rings = [_ring(r, arcs) for r in rings_arcs]
    rings = [r for r in rings if len(r) >= 4]
    if not rings:
        return None
    return Polygon(rings[0], rings[1:])


def topojson_features(topology: dict[str, Any], object_name: str) -> Iterator[tuple[str, Any]]:
    """(name, shapely geometry) of each polygonal geometry in a TopoJSON object."""
    from shapely.geometry import MultiPolygon

    arcs = _decode_arcs(topology)
    obj = topology["objects"][object_name]
    geometries = obj["geometries"] if obj.get("type") == "GeometryCollection" else [obj]
    for geom in geometries:
        name = str((geom.get("properties") or {}).get("name") or geom.get("id") or "")
        if geom.get("type") == "Polygon":
            poly = _polygon(geom["arcs"], arcs)
            if poly is not None:
                yield name, poly
        elif geom.get("type") == "MultiPolygon":
            polys = [p for p in (_polygon(rs, arcs) for rs in geom["arcs"]) if p is not None]
            if polys:
                yield name, MultiPolygon(polys)


# --------------------------------------------------------------------------- basemap


def _polygonal_part(geom: Any) -> Any:
    """The polygons of a clip result (a clip can also yield stray lines and points)."""
    from shapely.geometry import MultiPolygon

    if geom.is_empty:
        return None
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    if geom.geom_type == "GeometryCollection":
        polys: list[Any] = []
        for part in geom.geoms:
            if part.geom_type == "Polygon":
                polys.append(part)
            elif part.geom_type == "MultiPolygon":
                polys.extend(part.geoms)
        polys = [p for p in polys if not p.is_empty]
        if polys:
            return MultiPolygon(polys) if len(polys) > 1 else polys[0]
    return None


def _round_coords(coords: Any) -> Any:
    if coords and isinstance(coords[0], int | float):
        return [round(float(c), PRECISION) + 0.0 for c in coords]  # + 0.0 turns -0.0 into 0.0
    return [_round_coords(c) for c in coords]


def build_basemap(source: Path) -> dict[str, Any]:
    import shapely
    from shapely.geometry import box, mapping

    topology = json.loads(source.read_text(encoding="utf-8"))
    clip = box(*CLIP_BBOX)
    grid = 10.0**-PRECISION
    features: list[dict[str, Any]] = []
    bounds: list[float] = [math.inf, math.inf, -math.inf, -math.inf]
    for name, geom in topojson_features(topology, "countries"):
        if not geom.intersects(clip):
            continue
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
        part = _polygonal_part(shapely.set_precision(geom.intersection(clip), grid))
        if part is None:
            continue
        geometry = mapping(part)
        west, south, east, north = part.bounds
        bounds = [
            min(bounds[0], west),
            min(bounds[1], south),
            max(bounds[2], east),
            max(bounds[3], north),
        ]
        features.append(
            {
                "type": "Feature",
                "properties": {"name": name},
                "geometry": {
                    "type": geometry["type"],
                    "coordinates": _round_coords(geometry["coordinates"]),
                },
            }
        )
    features.sort(key=lambda f: f["properties"]["name"])
    if not features:
        raise BuildError(f"{_rel(source)}: no country intersects the clip box {CLIP_BBOX}")
    bbox = [round(b, PRECISION) + 0.0 for b in bounds]
    return {"type": "FeatureCollection", "bbox": bbox, "features": features}


# --------------------------------------------------------------------------- outputs


def _readme(node_modules: Path, files_by_pkg: dict[str, list[str]]) -> str:
    lines = [
        "Third-party files served by the fusioncell web UI. Generated by scripts/build_static.py",
        "from the npm packages pinned in package.json (installed with `npm ci`); do not edit",
        "and do not commit this folder. Licence texts are in licenses/.",
        "",
    ]
    for pkg in PACKAGES:
        version = _package_version(node_modules, pkg.name)
        lines.append(f"npm {pkg.name} {version} - licence {pkg.license}")
        lines.append(f"  licenses/{pkg.name}.LICENSE")
        lines.extend(f"  {name}" for name in files_by_pkg.get(pkg.name, []))
        if pkg.name == "world-atlas":
            west, south, east, north = CLIP_BBOX
            lines.append(
                f"  {BASEMAP_NAME}: country outlines from world-atlas {WORLD_ATLAS_SOURCE}"
                f" (Natural Earth 1:10m admin 0, public domain), clipped to lon {west}-{east},"
                f" lat {south}-{north}, properties reduced to the name, coordinates rounded"
                f" to {PRECISION} decimals"
            )
        lines.append("")
    return "\n".join(lines)


def _write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.tmp-{os.getpid()}")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def build(node_modules: Path, out: Path, stamp: dict[str, Any]) -> list[str]:
    """Write every output; return their paths relative to ``out``."""
    outputs: list[str] = []
    files_by_pkg: dict[str, list[str]] = {}
    for pkg in PACKAGES:
        pkg_dir = _package_dir(node_modules, pkg.name)
        written: list[str] = []
        for src, dst in pkg.files:
            _copy(pkg_dir / src, out / dst)
            written.append(dst)
        for src, dst in pkg.trees:
            for path in _tree_files(pkg_dir / src):
                rel = (Path(dst) / path.relative_to(pkg_dir / src)).as_posix()
                _copy(path, out / rel)
                written.append(rel)
        license_rel = f"licenses/{pkg.name}.LICENSE"
        _copy(pkg_dir / pkg.license_file, out / license_rel)
        files_by_pkg[pkg.name] = written
        outputs.extend([*written, license_rel])

    basemap = build_basemap(_package_dir(node_modules, "world-atlas") / WORLD_ATLAS_SOURCE)
    text = json.dumps(basemap, separators=(",", ":"), ensure_ascii=False) + "\n"
    _write_bytes(out / BASEMAP_NAME, text.encode("utf-8"))
    outputs.append(BASEMAP_NAME)

    _write_bytes(out / "README", _readme(node_modules, files_by_pkg).encode("utf-8"))
    outputs.append("README")

    # Remove what an earlier build wrote and this one no longer does.
    old = read_stamp(out) or {}
    for stale in set(old.get("outputs") or []) - set(outputs):
        stale_path = out / stale
        if stale_path.is_file() and out.resolve() in stale_path.resolve().parents:
            stale_path.unlink()

    _write_bytes(
        out / STAMP_NAME,
        (json.dumps({"stamp": stamp, "outputs": sorted(outputs)}, indent=1) + "\n").encode(),
    )
    return outputs


def _rel(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--node-modules", type=Path, default=DEFAULT_NODE_MODULES)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    args = parser.parse_args(argv)
    node_modules: Path = args.node_modules
    out: Path = args.out

    started = time.monotonic()
    try:
        check_node_modules(node_modules)
        stamp = compute_stamp(node_modules)
        if not args.force and is_up_to_date(out, stamp):
            print(f"build_static: {_rel(out)} is up to date")
            return 0
        outputs = build(node_modules, out, stamp)
    except BuildError as exc:
        print(f"build_static: error: {exc}", file=sys.stderr)
        return 2
    size = (out / BASEMAP_NAME).stat().st_size
    elapsed = time.monotonic() - started
    print(
        f"build_static: wrote {len(outputs)} files to {_rel(out)}"
        f" ({BASEMAP_NAME} {size / 1024:.0f} KiB) in {elapsed:.1f}s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
