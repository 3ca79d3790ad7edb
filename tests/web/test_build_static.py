"""scripts/build_static.py: vendored libraries and the offline basemap; nothing online.

The build runs against the real node_modules (installed by ``npm ci``) into a temporary
folder, so the tests never touch ``src/fusioncell/web/static/vendor/``.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from shapely.geometry import shape

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "build_static.py"
NODE_MODULES = ROOT / "node_modules"
STATIC = ROOT / "src" / "fusioncell" / "web" / "static"
CLIP = (33.5, 31.0, 38.5, 35.5)  # west, south, east, north

VENDOR_FILES = (
    "htmx.min.js",
    "sse.js",
    "leaflet.js",
    "leaflet.css",
    "images/layers.png",
    "images/layers-2x.png",
    "images/marker-icon.png",
    "images/marker-icon-2x.png",
    "images/marker-shadow.png",
    "basemap.geojson",
    "README",
    "licenses/htmx.org.LICENSE",
    "licenses/htmx-ext-sse.LICENSE",
    "licenses/leaflet.LICENSE",
    "licenses/world-atlas.LICENSE",
)

# URLs that appear in the vendored libraries but are never fetched: the SVG XML namespace,
# and the link in Leaflet's licence header and default attribution (map.js replaces it).
NOT_FETCHED = {"http://www.w3.org/2000/svg", "https://leafletjs.com"}

URL_RE = re.compile(r"https?://[^\s\"'()<>`]*")
CSS_COMMENT_RE = re.compile(r"/\*.*?\*/", re.DOTALL)
CSS_URL_RE = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)")

needs_node_modules = pytest.mark.skipif(
    not (NODE_MODULES / "leaflet" / "package.json").is_file(),
    reason="node_modules is absent (run `npm ci` to test the static build)",
)


def run_build(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (NODE_MODULES / "leaflet" / "package.json").is_file():
        pytest.skip("node_modules is absent (run `npm ci` to test the static build)")
    out = tmp_path_factory.mktemp("static") / "vendor"
    result = run_build("--out", out)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.strip().splitlines()) == 1, result.stdout
    assert "wrote" in result.stdout
    return out


def _coords(geometry: dict) -> list[tuple[float, float]]:
    def walk(c: list) -> list[tuple[float, float]]:
        if c and isinstance(c[0], int | float):
            return [(c[0], c[1])]
        return [p for part in c for p in walk(part)]

    return walk(geometry["coordinates"])


@needs_node_modules
def test_build_writes_every_vendor_file(built: Path) -> None:
    for name in VENDOR_FILES:
        path = built / name
        assert path.is_file(), name
        assert path.stat().st_size > 0, name
    readme = (built / "README").read_text(encoding="utf-8")
    for needle in ("htmx.org", "htmx-ext-sse", "leaflet", "world-atlas", "Natural Earth"):
        assert needle in readme
    for licence in ("0BSD", "BSD-2-Clause", "ISC", "public domain"):
        assert licence in readme


@needs_node_modules
def test_copies_are_the_pinned_packages(built: Path) -> None:
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    versions = {
        name.removeprefix("node_modules/"): meta["version"]
        for name, meta in lock["packages"].items()
        if name
    }
    assert versions["htmx.org"].startswith("2.0.")
    assert versions["htmx-ext-sse"].startswith("2.2.")
    assert versions["leaflet"] == "1.9.4"
    assert versions["world-atlas"] == "2.0.2"
    assert (built / "leaflet.js").read_bytes() == (
        NODE_MODULES / "leaflet" / "dist" / "leaflet.js"
    ).read_bytes()
    assert (built / "htmx.min.js").read_bytes() == (
        NODE_MODULES / "htmx.org" / "dist" / "htmx.min.js"
    ).read_bytes()
    assert b"sse" in (built / "sse.js").read_bytes()


@needs_node_modules
def test_second_run_is_up_to_date_and_leaves_files_alone(built: Path) -> None:
    before = {p: p.stat().st_mtime_ns for p in built.rglob("*") if p.is_file()}
    result = run_build("--out", built)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines() == [result.stdout.strip()]
    assert "up to date" in result.stdout
    after = {p: p.stat().st_mtime_ns for p in built.rglob("*") if p.is_file()}
    assert after == before


@needs_node_modules
def test_forced_rebuild_is_identical_and_drops_stale_outputs(built: Path, tmp_path: Path) -> None:
    out = tmp_path / "vendor"
    shutil.copytree(built, out)
    stamp_path = out / ".build-stamp.json"
    stamp = json.loads(stamp_path.read_text(encoding="utf-8"))
    stamp["outputs"].append("old-library.js")
    stamp_path.write_text(json.dumps(stamp), encoding="utf-8")
    (out / "old-library.js").write_text("// from an earlier build\n", encoding="utf-8")
    (out / "unrelated.txt").write_text("not ours\n", encoding="utf-8")

    result = run_build("--out", out, "--force")
    assert result.returncode == 0, result.stderr
    for name in VENDOR_FILES:
        assert (out / name).read_bytes() == (built / name).read_bytes(), name
    assert not (out / "old-library.js").exists()
    assert (out / "unrelated.txt").exists()


def test_missing_node_modules_is_a_one_line_error(tmp_path: Path) -> None:
    out = tmp_path / "vendor"
    result = run_build("--node-modules", tmp_path / "node_modules", "--out", out)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "run npm ci first" in lines[0]
    assert not out.exists()


@needs_node_modules
def test_basemap_is_clipped_country_outlines(built: Path) -> None:
    text = (built / "basemap.geojson").read_text(encoding="utf-8")
    assert "http" not in text
    data = json.loads(text)
    assert data["type"] == "FeatureCollection"
    names = set()
    west, south, east, north = math.inf, math.inf, -math.inf, -math.inf
    for feature in data["features"]:
        assert feature["type"] == "Feature"
        assert set(feature["properties"]) == {"name"}
        assert isinstance(feature["properties"]["name"], str) and feature["properties"]["name"]
        names.add(feature["properties"]["name"])
        geometry = feature["geometry"]
        assert geometry["type"] in ("Polygon", "MultiPolygon")
        geom = shape(geometry)
        assert geom.is_valid and not geom.is_empty, feature["properties"]["name"]
        for x, y in _coords(geometry):
            assert round(x, 5) == x and round(y, 5) == y
        gw, gs, ge, gn = geom.bounds
        west, south, east, north = min(west, gw), min(south, gs), max(east, ge), max(north, gn)
    assert len(names) > 1
    assert {"Israel", "Jordan", "Lebanon", "Syria"} <= names
    eps = 1e-9
    assert CLIP[0] - eps <= west and south >= CLIP[1] - eps
    assert east <= CLIP[2] + eps and north <= CLIP[3] + eps
    if "bbox" in data:
        bw, bs, be, bn = data["bbox"]
        assert CLIP[0] <= bw and CLIP[1] <= bs and be <= CLIP[2] and bn <= CLIP[3]


@needs_node_modules
def test_leaflet_css_references_only_relative_files(built: Path) -> None:
    css = CSS_COMMENT_RE.sub("", (built / "leaflet.css").read_text(encoding="utf-8"))
    assert not URL_RE.findall(css)
    refs = [m.group(2) for m in CSS_URL_RE.finditer(css)]
    assert refs, "leaflet.css should reference its images"
    for ref in refs:
        assert not ref.startswith(("/", "//", "data:")) and ":" not in ref.split("#")[0], ref
        if not ref.startswith("#"):
            assert (built / ref).is_file(), ref


@needs_node_modules
def test_vendored_libraries_fetch_nothing_online(built: Path) -> None:
    for name in ("htmx.min.js", "sse.js", "leaflet.js"):
        text = (built / name).read_text(encoding="utf-8")
        found = {url.rstrip("/.,;") for url in URL_RE.findall(text)}
        assert found <= NOT_FETCHED, (name, found - NOT_FETCHED)


def test_our_js_and_css_name_no_online_url() -> None:
    ours = sorted((STATIC / "js").rglob("*.js")) + sorted((STATIC / "css").rglob("*.css"))
    assert {p.name for p in ours} >= {"app.js", "map.js", "app.css"}
    for path in ours:
        text = path.read_text(encoding="utf-8")
        assert not URL_RE.findall(text), path.name
        assert "@import" not in text, path.name
        if path.suffix == ".css":
            for match in CSS_URL_RE.finditer(CSS_COMMENT_RE.sub("", text)):
                ref = match.group(2)
                assert not ref.startswith("/") and ":" not in ref, (path.name, ref)


def test_map_js_contract() -> None:
    """What templates and the end-to-end test rely on."""
    text = (STATIC / "js" / "map.js").read_text(encoding="utf-8")
    for needle in (
        "data-zones-url",
        "data-sites-url",
        "data-basemap-url",
        "data-i18n",
        "data-zones-drawn",
        "data-sites-drawn",
        "map-ready",
        '"zone", "zone-" + kind',
        'credentials: "same-origin"',
    ):
        assert needle in text, needle
    assert "tileLayer" not in text
    app = (STATIC / "js" / "app.js").read_text(encoding="utf-8")
    assert "htmx:configRequest" in app and "X-CSRF-Token" in app


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_our_js_parses() -> None:
    for path in sorted((STATIC / "js").rglob("*.js")):
        result = subprocess.run(
            ["node", "--check", str(path)], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, (path.name, result.stderr)
