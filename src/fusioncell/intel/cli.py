"""``fusioncell intel``: submit a STIX bundle and export what is released to you, against a
cell's API.

``submit`` signs the report's entry on this machine when given ``--key`` (no custody): it
builds the very body the server will record (the bundle with the cell's markings written in,
released to the named organisations, the member's own and the supervisor's) and signs its
hash, so the server can record it only as signed. Without a key the server signs with the key
it keeps for the member. A retry with the same ``--id`` returns the first report.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from fusioncell.client import CellClient, ClientError
from fusioncell.errors import FusioncellError
from fusioncell.intel.actions.reports import DEFAULT_TLP, submission_body
from fusioncell.intel.entries import IntelEntry
from fusioncell.own_key import load_key_file

intel_app = typer.Typer(
    help="Intelligence: submit STIX 2.1 bundles and export what is released to you.",
    no_args_is_help=True,
)
out = Console(highlight=False, soft_wrap=True)

API = "/api/v1/intel"
Server = Annotated[str, typer.Option(help="The cell's URL, e.g. http://127.0.0.1:8000")]
User = Annotated[str, typer.Option(help="Your username.")]


def _connect(server: str, user: str) -> CellClient:
    """Log in; the password is read from $FUSIONCELL_PASSWORD or asked for."""
    password = os.environ.get("FUSIONCELL_PASSWORD") or typer.prompt("Password", hide_input=True)
    client = CellClient(server)
    client.log_in(user, password)
    return client


def _read_bundle(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ClientError(f"cannot read {path}: {exc}") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ClientError(f"{path} is not JSON: {exc}") from None


def released_slugs(
    organisations: list[dict[str, Any]], own: str, release_to: list[str]
) -> list[str]:
    """The audience as the cell completes it: the named organisations (by slug, as typed or in
    capitals), the member's own and every supervising organisation. An unknown name is left
    for the server to refuse, with the cell's list."""
    known = {str(o["slug"]): o for o in organisations}
    chosen = {own}
    for name in release_to:
        found = known.get(name) or known.get(name.upper())
        chosen.add(str(found["slug"]) if found else name)
    chosen |= {slug for slug, o in known.items() if o.get("kind") == "supervisor"}
    return sorted(chosen)


def _release_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


BATCH = 500  # bundles per request when submitting many


def _bundles(paths: list[Path]) -> list[tuple[str, Any]]:
    """Each bundle given, named for messages: a JSON file, every ``*.json`` of a folder (by
    name), or each line of a JSON-lines file (``.jsonl``)."""
    found: list[tuple[str, Any]] = []
    for path in paths:
        if path.is_dir():
            found.extend((str(p), _read_bundle(p)) for p in sorted(path.glob("*.json")))
        elif path.suffix == ".jsonl":
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError) as exc:
                raise ClientError(f"cannot read {path}: {exc}") from None
            for number, line in enumerate(lines, start=1):
                if line.strip():
                    try:
                        found.append((f"{path}:{number}", json.loads(line)))
                    except ValueError as exc:
                        raise ClientError(f"{path}:{number} is not JSON: {exc}") from None
        else:
            found.append((str(path), _read_bundle(path)))
    if not found:
        raise ClientError("no bundle found in " + ", ".join(str(p) for p in paths))
    return found


def _submit_many(
    client: CellClient,
    bundles: list[tuple[str, Any]],
    names: list[str],
    tlp: str,
    grade: str | None,
) -> None:
    """Many bundles, a request of up to ``BATCH`` at a time: each request is one transaction
    (a refused bundle refuses its request, named; earlier requests stay submitted)."""
    for first in range(0, len(bundles), BATCH):
        part = bundles[first : first + BATCH]
        request = {
            "reports": [
                {"id": str(uuid.uuid4()), "bundle": data, "release_to": names, "tlp": tlp,
                 "grade": grade}
                for _name, data in part
            ]
        }  # fmt: skip
        try:
            made = client.post(f"{API}/reports/batch", json=request)
        except ClientError as exc:
            raise ClientError(
                f"{exc} (bundles {first + 1}-{first + len(part)}: "
                f"{part[0][0]} ... {part[-1][0]}; the {first} before were submitted)"
            ) from None
        for (name, _data), report in zip(part, made["reports"], strict=True):
            out.print(f"submitted {name} as {report['id']}, entry {report['log_index']}")
    out.print(f"submitted {len(bundles)} bundles")


@intel_app.command("submit")
def submit(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="STIX 2.1 bundles (JSON): files, folders of *.json, or JSON-lines files "
            "(.jsonl, a bundle a line). Several are submitted together, a report each."
        ),
    ],
    server: Server,
    user: User,
    release_to: Annotated[
        str,
        typer.Option(
            "--release-to",
            help="Organisations it is released to, e.g. BRAVO,VERIFIER (your own and the "
            "supervisor always are).",
        ),
    ] = "",
    grade: Annotated[
        str | None, typer.Option(help="The Admiralty grade, e.g. B2 (reliability A-F, 1-6).")
    ] = None,
    tlp: Annotated[str, typer.Option(help="TLP 2.0: clear, green, amber, amber+strict, red.")] = (
        DEFAULT_TLP
    ),
    key: Annotated[
        Path | None, typer.Option(help="Your private key file: sign here, not by custody.")
    ] = None,
    report_id: Annotated[
        uuid.UUID | None, typer.Option("--id", help="The report id (to retry a submit safely).")
    ] = None,
) -> None:
    """Submit a bundle; print the report's id, log index, grade and audience. Several
    bundles: one report each, submitted together (a request per 500)."""
    private = load_key_file(key) if key is not None else None
    names = _release_list(release_to)
    bundles = _bundles(files)
    if len(bundles) > 1:
        if private is not None or report_id is not None:
            raise ClientError("--key and --id take one bundle: submit the files one by one")
        with _connect(server, user) as client:
            _submit_many(client, bundles, names, tlp, grade)
        return
    file, bundle = Path(bundles[0][0]), bundles[0][1]
    report_id = report_id or uuid.uuid4()
    request = {
        "id": str(report_id),
        "bundle": bundle,
        "release_to": names,
        "tlp": tlp,
        "grade": grade,
    }
    with _connect(server, user) as client:
        if private is None:
            made = client.post(f"{API}/reports", json=request)
        else:
            me = client.me()
            organisations = client.get("/api/v1/organisations")
            own = str(me["organisation"]["slug"])
            try:
                body = submission_body(
                    report_id=report_id,
                    author_organisation=uuid.UUID(str(me["organisation"]["id"])),
                    bundle=bundle,
                    release_to=names,
                    released_to=released_slugs(organisations, own, names),
                    tlp=tlp,
                    grade=grade,
                )
            except FusioncellError as exc:  # the server would refuse it the same way
                raise ClientError(f"{file} is refused: {exc.detail}") from None
            made = client.signed(
                "POST",
                f"{API}/reports",
                private,
                entry_type=IntelEntry.REPORT_SUBMITTED.value,
                body=body,
                json=request,
            )
    grade_text = made["grade"] or "ungraded"
    out.print(
        f"submitted {made['id']} as entry {made['log_index']} ({grade_text}, "
        f"TLP:{str(made['tlp']).upper()}; released to {', '.join(made['released_to'])})"
    )


@intel_app.command("export")
def export(
    server: Server,
    user: User,
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the STIX bundle.")],
) -> None:
    """Write a STIX 2.1 bundle of every object version released to your organisation."""
    with _connect(server, user) as client:
        bundle = client.get(f"{API}/export")
    try:
        out_file.write_text(json.dumps(bundle, ensure_ascii=False, indent=1), encoding="utf-8")
    except OSError as exc:
        raise ClientError(f"cannot write {out_file}: {exc}") from None
    out.print(f"wrote {len(bundle['objects'])} objects to {out_file}")


def main() -> None:
    """``python -m fusioncell.intel.cli``: ``fusioncell intel``, failing as it does."""
    from fusioncell.cli import run

    run(intel_app)


if __name__ == "__main__":
    main()
