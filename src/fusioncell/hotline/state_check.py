"""The hotline's rows and audiences, checked against the log by ``fusioncell verify``.

Every row of the hotline comes from one entry, found by the row's ``log_index`` (a channel by
its id), and every entry of these types must have its row:

    hotline_channels, _channel_members   hotline.channel.opened
    hotline_messages                     hotline.message.sent (sent at its log time; the
                                         deadlines by the hotline policy the body binds)
    hotline_deliveries                   hotline.message.delivered (signed by the log; the body
                                         names the member)
    hotline_acks                         hotline.message.acknowledged (a party's first one counts)
    hotline_escalations                  hotline.escalation
    hotline_deadline_actions             hotline.deadline.action (signed by the member the body
                                         names; about a party the message was sent to)

Audiences, as the actions wrote them: a channel's entries go to its member organisations
(``hotline.channel.opened`` lists them, and they never change); an escalation to the recipient,
the sender's organisation and the supervisor role; a deadline action to the party concerned,
its author's organisation and the supervisor role.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Connection,
    Integer,
    LargeBinary,
    String,
    Text,
    Uuid,
    column,
    select,
    table,
)

from fusioncell.cell.state_check import Directory, check_rows_by_id, check_rows_by_index
from fusioncell.db.base import UTCDateTime
from fusioncell.hotline.entries import HotlineEntry
from fusioncell.hotline.rules import HotlineRules, RulesError, parse_rules
from fusioncell.ledger.entries import LedgerEntry, b64, parse_log_time
from fusioncell.ledger.verify.state import (
    AudienceRule,
    Recorded,
    RecordedLog,
    StateMismatch,
    require_same,
    unmatched_rows,
)

_channels = table(
    "hotline_channels",
    column("id", Uuid),
    column("kind", String),
    column("name", String),
    column("party_id", Uuid),
)
_channel_members = table(
    "hotline_channel_members",
    column("channel_id", Uuid),
    column("organisation_id", Uuid),
    column("acknowledges", Boolean),
)
_messages = table(
    "hotline_messages",
    column("id", Uuid),
    column("channel_id", Uuid),
    column("sender_id", Uuid),
    column("sender_organisation_id", Uuid),
    column("precedence", String),
    column("form", String),
    column("text", Text),
    column("fields", JSON),
    column("attachments", JSON),
    column("relay_of", Uuid),
    column("hotline_policy", String),
    column("log_index", BigInteger),
    column("leaf_hash", LargeBinary),
    column("sent_at", UTCDateTime()),
    column("delivered_deadline", UTCDateTime()),
    column("ack_deadline", UTCDateTime()),
)
_deliveries = table(
    "hotline_deliveries",
    column("message_id", Uuid),
    column("organisation_id", Uuid),
    column("member_id", Uuid),
    column("delivered_at", UTCDateTime()),
    column("log_index", BigInteger),
)
_acks = table(
    "hotline_acks",
    column("id", Uuid),
    column("message_id", Uuid),
    column("member_id", Uuid),
    column("organisation_id", Uuid),
    column("counts", Boolean),
    column("acked_at", UTCDateTime()),
    column("checkpoint_size", BigInteger),
    column("log_index", BigInteger),
)
_escalations = table(
    "hotline_escalations",
    column("message_id", Uuid),
    column("organisation_id", Uuid),
    column("step", Integer),
    column("due_at", UTCDateTime()),
    column("notify", JSON),
    column("written_at", UTCDateTime()),
    column("log_index", BigInteger),
)
_deadline_actions = table(
    "hotline_deadline_actions",
    column("id", Uuid),
    column("message_id", Uuid),
    column("organisation_id", Uuid),
    column("kind", String),
    column("note", Text),
    column("follow_up_at", UTCDateTime()),
    column("member_id", Uuid),
    column("written_at", UTCDateTime()),
    column("log_index", BigInteger),
)


class _Hotline:
    """Channels and messages as the log says, with the cell's directory."""

    def __init__(self, log: RecordedLog) -> None:
        self.log = log
        self.directory = Directory.of(log)
        self.channels: dict[str, Recorded] = {}
        for entry in log.of_type(HotlineEntry.CHANNEL_OPENED):
            self.channels.setdefault(str(entry.body["channel"]), entry)

    def channel_members(self, channel: Recorded) -> dict[str, bool]:
        return {
            self.directory.organisation(member["organisation"], channel.index): bool(
                member["acknowledges"]
            )
            for member in channel.body["members"]
        }

    def channel_of(self, message: Recorded) -> Recorded:
        channel = self.channels.get(str(message.body.get("channel")))
        if channel is None:
            raise StateMismatch(
                message.index,
                f"the message is in a channel {message.body.get('channel')} no entry opened",
            )
        return channel

    def message(self, entry: Recorded) -> Recorded:
        """The message an entry is about, by the index its body names."""
        message = self.log.get(entry.body.get("message_index"))
        if message is None or message.entry_type != HotlineEntry.MESSAGE_SENT:
            raise StateMismatch(
                entry.index,
                f"the entry names entry {entry.body.get('message_index')} as its message, "
                "which is no hotline.message.sent entry",
            )
        return message

    def sender(self, message: Recorded) -> tuple[str | None, str]:
        """The sending member and organisation: a link test is the supervisor's, signed by the
        log's key."""
        username = message.body.get("sender")
        if username is None:
            supervisors = [o for o, kind in self.directory.kinds.items() if kind == "supervisor"]
            if not supervisors:
                raise StateMismatch(message.index, "a link test in a cell with no supervisor")
            return None, supervisors[0]
        member = self.directory.usernames.get(str(username))
        if member is None:
            raise StateMismatch(
                message.index, f"a message from {username!r}, whom no entry created"
            )
        return member, self.directory.member_organisation(member, message.index)

    def author_organisation(self, entry: Recorded) -> str:
        """The organisation of the member whose key signed the entry."""
        member = self.log.member_of_key(entry.author)
        if member is None:
            raise StateMismatch(entry.index, "the entry is signed by the log, not by a member")
        return self.directory.member_organisation(member, entry.index)


class HotlineStateCheck:
    entry_types = frozenset(
        kind.value
        for kind in (
            HotlineEntry.CHANNEL_OPENED,
            HotlineEntry.MESSAGE_SENT,
            HotlineEntry.MESSAGE_DELIVERED,
            HotlineEntry.MESSAGE_ACKNOWLEDGED,
            HotlineEntry.ESCALATION,
            HotlineEntry.DEADLINE_ACTION,
        )
    )

    def audience_rule(self, log: RecordedLog) -> AudienceRule:
        hotline = _Hotline(log)

        def rule(entry: Recorded) -> Mapping[str, Any]:
            if entry.entry_type == HotlineEntry.CHANNEL_OPENED:
                return {"organisations": list(hotline.channel_members(entry))}
            if entry.entry_type == HotlineEntry.ESCALATION:
                _member, sender = hotline.sender(hotline.message(entry))
                recipient = str(entry.body.get("organisation"))
                return {"organisations": sorted({recipient, sender}), "roles": ["supervisor"]}
            if entry.entry_type == HotlineEntry.DEADLINE_ACTION:
                concerned = str(entry.body.get("organisation"))
                author = hotline.author_organisation(entry)
                return {"organisations": sorted({concerned, author}), "roles": ["supervisor"]}
            message = (
                entry if entry.entry_type == HotlineEntry.MESSAGE_SENT else hotline.message(entry)
            )
            channel = hotline.channel_of(message)
            return {"organisations": list(hotline.channel_members(channel))}

        return rule

    def check(self, tables: Connection, log: RecordedLog) -> None:
        hotline = _Hotline(log)
        _check_channels(tables, hotline)
        _check_messages(tables, hotline, _policies(log))
        _check_deliveries(tables, hotline)
        _check_acks(tables, hotline)
        _check_escalations(tables, hotline)
        _check_deadline_actions(tables, hotline)


def _check_channels(tables: Connection, hotline: _Hotline) -> None:
    def columns(entry: Recorded, _row: Any) -> list[tuple[str, object]]:
        parties = [o for o, acks in hotline.channel_members(entry).items() if acks]
        bilateral = entry.body["kind"] == "bilateral" and len(parties) == 1
        return [
            ("kind", entry.body["kind"]),
            ("name", entry.body["name"]),
            ("party_id", parties[0] if bilateral else None),
        ]

    check_rows_by_id(
        tables,
        _channels,
        hotline.channels.values(),
        lambda entry: entry.body["channel"],
        columns,
    )
    members: dict[tuple[str, str], bool] = {
        (str(row.channel_id), str(row.organisation_id)): bool(row.acknowledges)
        for row in tables.execute(select(_channel_members))
    }
    for channel, entry in hotline.channels.items():
        recorded = hotline.channel_members(entry)
        for organisation, acknowledges in recorded.items():
            stored_ack = members.pop((channel, organisation), None)
            where = f"{channel}/{organisation}"
            if stored_ack is None:
                raise StateMismatch(entry.index, f"hotline_channel_members has no row {where}")
            require_same(
                "hotline_channel_members",
                where,
                "acknowledges",
                entry.index,
                stored_ack,
                acknowledges,
            )
    unmatched_rows("hotline_channel_members", ("/".join(key) for key in members))


def _policies(log: RecordedLog) -> dict[str, HotlineRules]:
    """Every hotline policy the log adopted, by hash."""
    found: dict[str, HotlineRules] = {}
    for entry in log.of_type(LedgerEntry.POLICY_ADOPTED):
        try:
            policy = parse_rules(entry.body["policy"]["hotline"])
        except (RulesError, KeyError, TypeError, ValueError):
            continue  # a policy from before the hotline had one
        found.setdefault(policy.hash, policy)
    return found


def _check_messages(
    tables: Connection, hotline: _Hotline, policies: dict[str, HotlineRules]
) -> None:
    def columns(entry: Recorded, _row: Any) -> list[tuple[str, object]]:
        body = entry.body
        sender, organisation = hotline.sender(entry)
        policy = policies.get(str(body["hotline_policy"]))
        if policy is None or body["precedence"] not in policy.precedences:
            raise StateMismatch(
                entry.index,
                f"the message binds a hotline policy {body['hotline_policy']} that "
                f"no entry adopted, or without precedence {body['precedence']!r}",
            )
        rule = policy.rule(str(body["precedence"]))
        sent_at = entry.logged_at
        return [
            ("id", body["message"]),
            ("channel_id", body["channel"]),
            ("sender_id", sender),
            ("sender_organisation_id", organisation),
            ("precedence", body["precedence"]),
            ("form", body["form"]),
            ("text", body["text"]),
            ("fields", body["fields"]),
            ("attachments", body["attachments"]),
            ("relay_of", body["relay_of"]),
            ("hotline_policy", body["hotline_policy"]),
            ("leaf_hash", b64(entry.leaf_hash)),
            ("sent_at", sent_at),
            ("delivered_deadline", sent_at + rule.delivered),
            ("ack_deadline", sent_at + rule.ack),
        ]

    check_rows_by_index(
        tables,
        _messages,
        hotline.log.of_type(HotlineEntry.MESSAGE_SENT),
        lambda row: str(row.id),
        columns,
    )


def _check_deliveries(tables: Connection, hotline: _Hotline) -> None:
    def columns(entry: Recorded, _row: Any) -> list[tuple[str, object]]:
        hotline.message(entry)
        return [
            ("message_id", entry.body["message"]),
            ("organisation_id", entry.body["organisation"]),
            ("member_id", entry.body["member"]),
            ("delivered_at", entry.logged_at),
        ]

    check_rows_by_index(
        tables,
        _deliveries,
        hotline.log.of_type(HotlineEntry.MESSAGE_DELIVERED),
        lambda row: f"{row.message_id}/{row.organisation_id}",
        columns,
    )


def _check_acks(tables: Connection, hotline: _Hotline) -> None:
    acknowledged: set[tuple[str, str]] = set()  # (message, organisation) already acknowledged

    def columns(entry: Recorded, _row: Any) -> list[tuple[str, object]]:
        body = entry.body
        hotline.message(entry)
        first = (str(body["message"]), str(body["organisation"]))
        counts = first not in acknowledged
        acknowledged.add(first)
        checkpoint = body.get("checkpoint")
        return [
            ("id", body["ack"]),
            ("message_id", body["message"]),
            ("member_id", hotline.log.member_of_key(entry.author)),
            ("organisation_id", body["organisation"]),
            ("counts", counts),
            ("acked_at", entry.logged_at),
            ("checkpoint_size", checkpoint["size"] if checkpoint else None),
        ]

    check_rows_by_index(
        tables,
        _acks,
        hotline.log.of_type(HotlineEntry.MESSAGE_ACKNOWLEDGED),
        lambda row: str(row.id),
        columns,
    )


def _check_escalations(tables: Connection, hotline: _Hotline) -> None:
    def columns(entry: Recorded, _row: Any) -> list[tuple[str, object]]:
        hotline.message(entry)
        return [
            ("message_id", entry.body["message"]),
            ("organisation_id", entry.body["organisation"]),
            ("step", entry.body["step"]),
            ("due_at", parse_log_time(str(entry.body["due_at"]))),
            ("notify", entry.body["notify"]),
            ("written_at", entry.logged_at),
        ]

    check_rows_by_index(
        tables,
        _escalations,
        hotline.log.of_type(HotlineEntry.ESCALATION),
        lambda row: f"{row.message_id}/{row.organisation_id}/{row.step}",
        columns,
    )


def _check_deadline_actions(tables: Connection, hotline: _Hotline) -> None:
    def columns(entry: Recorded, _row: Any) -> list[tuple[str, object]]:
        body = entry.body
        message = hotline.message(entry)
        if str(message.body.get("message")) != str(body["message"]):
            raise StateMismatch(
                entry.index,
                f"the entry names message {body['message']} at entry {message.index}, "
                f"which is message {message.body.get('message')}",
            )
        signer = hotline.log.member_of_key(entry.author)
        if signer != str(body["member"]):
            raise StateMismatch(
                entry.index,
                f"the entry names member {body['member']} but is signed by {signer}'s key",
            )
        _member, sender = hotline.sender(message)
        concerned = str(body["organisation"])
        if not hotline.channel_members(hotline.channel_of(message)).get(concerned) or (
            concerned == sender
        ):
            raise StateMismatch(
                entry.index,
                f"organisation {concerned} is no party the message was sent to",
            )
        follow_up_at = body["follow_up_at"]
        return [
            ("id", body["action"]),
            ("message_id", body["message"]),
            ("organisation_id", concerned),
            ("kind", body["kind"]),
            ("note", body["note"]),
            ("follow_up_at", None if follow_up_at is None else parse_log_time(str(follow_up_at))),
            ("member_id", body["member"]),
            ("written_at", entry.logged_at),
        ]

    check_rows_by_index(
        tables,
        _deadline_actions,
        hotline.log.of_type(HotlineEntry.DEADLINE_ACTION),
        lambda row: str(row.id),
        columns,
    )
