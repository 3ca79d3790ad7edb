"""The cell's geography checked against the log by ``fusioncell verify``, every entry
readable by everyone:

    geo_versions             each ``geo.version.proposed`` entry: its collection, flag, source,
                             signatories and proposer; its number is its place among the
                             proposals; its content hash is recomputed from the body; it is in
                             force from the signature that completed its signatories
    geo_version_signatures   each ``geo.version.signed`` entry: by a member of the signing
                             organisation, with that member's key, over the version's hash,
                             once per organisation and only by a signatory
    geo_features             each ``geo.feature.defined`` entry (features defined one by one
                             before versions)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Connection, Integer, String, Uuid, column, table

from fusioncell.cell.state_check import Directory, check_rows_by_id, check_rows_by_index
from fusioncell.db.base import UTCDateTime
from fusioncell.geo.collection import content_hash
from fusioncell.geo.entries import GeoEntry
from fusioncell.ledger.verify.state import AudienceRule, Recorded, RecordedLog, StateMismatch

_features = table(
    "geo_features",
    column("id", String),
    column("kind", String),
    column("side", String),
    column("band", String),
    column("name", String),
    column("geometry", JSON),
    column("authoritative", Boolean),
)
_COLUMNS = ("kind", "side", "band", "name", "geometry", "authoritative")
_versions = table(
    "geo_versions",
    column("id", Uuid),
    column("number", Integer),
    column("collection", JSON),
    column("authoritative", Boolean),
    column("source", String),
    column("content_hash", String),
    column("signatories", JSON),
    column("proposed_by", Uuid),
    column("log_index", BigInteger),
    column("in_force_log_index", BigInteger),
    column("in_force_from", UTCDateTime),
)
_signatures = table(
    "geo_version_signatures",
    column("version_id", Uuid),
    column("organisation_id", Uuid),
    column("member_id", Uuid),
    column("content_hash", String),
    column("log_index", BigInteger),
)


class GeoStateCheck:
    entry_types = frozenset(kind.value for kind in GeoEntry)

    def audience_rule(self, log: RecordedLog) -> AudienceRule:
        def rule(entry: Recorded) -> Mapping[str, Any]:
            return {"all": True}

        return rule

    def check(self, tables: Connection, log: RecordedLog) -> None:
        check_rows_by_id(
            tables,
            _features,
            log.of_type(GeoEntry.GEO_FEATURE_DEFINED),
            lambda entry: entry.body["id"],
            lambda entry, _row: [(name, entry.body[name]) for name in _COLUMNS],
        )
        directory = Directory.of(log)
        proposals = log.of_type(GeoEntry.GEO_VERSION_PROPOSED)
        completed = _completions(log, proposals, directory)
        numbers = {entry.index: number for number, entry in enumerate(proposals, start=1)}
        for entry in proposals:
            body = entry.body
            recomputed = content_hash(
                body["collection"], authoritative=body["authoritative"], source=body["source"]
            )
            if recomputed != body["content_hash"]:
                raise StateMismatch(
                    entry.index, "the version's content hash is not the hash of its content"
                )
        check_rows_by_id(
            tables,
            _versions,
            proposals,
            lambda entry: entry.body["version"],
            lambda entry, _row: [
                ("number", numbers[entry.index]),
                *((name, entry.body[name]) for name in _VERSION_COLUMNS),
                ("proposed_by", entry.body["member"]),
                ("log_index", entry.index),
                (
                    "in_force_log_index",
                    done.index if (done := completed.get(entry.index)) else None,
                ),
                (
                    "in_force_from",
                    done.logged_at if (done := completed.get(entry.index)) else None,
                ),
            ],
        )
        check_rows_by_index(
            tables,
            _signatures,
            log.of_type(GeoEntry.GEO_VERSION_SIGNED),
            lambda row: f"{row.version_id}/{row.organisation_id}",
            lambda entry, _row: [
                ("version_id", entry.body["version"]),
                (
                    "organisation_id",
                    directory.organisation(entry.body["organisation"], entry.index),
                ),
                ("member_id", entry.body["member"]),
                ("content_hash", entry.body["content_hash"]),
            ],
        )


_VERSION_COLUMNS = ("collection", "authoritative", "source", "content_hash", "signatories")


def _completions(
    log: RecordedLog, proposals: list[Recorded], directory: Directory
) -> dict[int, Recorded]:
    """For each proposal (by its index), the signature that completed its signatories.

    Each signature must be a signatory's, by one of its members with that member's key, over
    the version's content hash, and the organisation's first."""
    by_version = {str(entry.body["version"]): entry for entry in proposals}
    signed: dict[int, set[str]] = {}
    completed: dict[int, Recorded] = {}
    for entry in log.of_type(GeoEntry.GEO_VERSION_SIGNED):
        body = entry.body
        proposal = by_version.get(str(body["version"]))
        if proposal is None or proposal.index != body["version_index"]:
            raise StateMismatch(entry.index, "the signature names no proposed version")
        organisation = str(body["organisation"])
        if organisation not in proposal.body["signatories"]:
            raise StateMismatch(entry.index, f"{organisation} is not a signatory of the version")
        if body["content_hash"] != proposal.body["content_hash"]:
            raise StateMismatch(entry.index, "the signature signs another content hash")
        if directory.member_organisation(body["member"], entry.index) != directory.organisation(
            organisation, entry.index
        ):
            raise StateMismatch(entry.index, f"the signer is not a member of {organisation}")
        if log.member_of_key(entry.author) != str(body["member"]):
            raise StateMismatch(entry.index, "the signature is not made with the signer's key")
        already = signed.setdefault(proposal.index, set())
        if organisation in already:
            raise StateMismatch(entry.index, f"{organisation} signed the version twice")
        already.add(organisation)
        if proposal.index not in completed and set(proposal.body["signatories"]) <= already:
            completed[proposal.index] = entry
    return completed
