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


@intel_app.command("submit")
def submit(
    file: Annotated[Path, typer.Argument(help="A STIX 2.1 bundle (JSON).")],
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
    """Submit a bundle; print the report's id, log index, grade and audience."""
    bundle = _read_bundle(file)
    private = load_key_file(key) if key is not None else None
    names = _release_list(release_to)
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
