"""How ``fusioncell hotline tail`` words what it proved: one line per message (with its
deadlines), acknowledgement (in time or late) and escalation (the deadline it marks missed),
each starting with the log's time of its entry and ending with where it was proven."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fusioncell.ledger.entries import log_time

EXCERPT = 60  # characters of a message quoted beside news about it


@dataclass(frozen=True)
class Shown:
    checkpoint: int  # the size of the verified checkpoint the entry was proven in
    channel: str  # the channel's name as the pages show it


def _at(served: str) -> datetime:
    return datetime.fromisoformat(served)


def _proof(index: int, shown: Shown) -> str:
    return f"verified: entry {index} in checkpoint {shown.checkpoint}"


def _sender(message: dict[str, Any]) -> str:
    sender = message.get("sender") or "the cell"
    return f"{sender} ({message['sender_organisation']})"


def _about(message: dict[str, Any]) -> str:
    """A message named beside news about it: precedence, sender and its opening words."""
    text = " ".join(str(message["rendered"]).split())
    excerpt = text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"
    return f'{message["precedence"]} from {_sender(message)} "{excerpt}" (id {message["id"]})'


def message_line(message: dict[str, Any], logged_at: datetime, shown: Shown) -> str:
    title = f"{message['title']}: " if message.get("title") else ""
    deadlines = (
        f"deliver by {log_time(_at(message['delivered_deadline']))}, "
        f"acknowledge by {log_time(_at(message['ack_deadline']))}"
    )
    return (
        f"{log_time(logged_at)} {message['precedence']} [{shown.channel}] {_sender(message)}: "
        f"{title}{message['rendered']}  ({deadlines}; "
        f"{_proof(int(message['log_index']), shown)}; id {message['id']})"
    )


def ack_line(
    message: dict[str, Any], ack: dict[str, Any], logged_at: datetime, shown: Shown
) -> str:
    due = _at(message["ack_deadline"])
    if not ack["counts"]:
        timing = f"recorded; {ack['organisation']} had already acknowledged"
    elif logged_at <= due:
        timing = "in time"
    else:
        timing = f"late: it was due by {log_time(due)}"
    by = f" ({ack['member']})" if ack.get("member") else ""
    return (
        f"{log_time(logged_at)} ACK [{shown.channel}] {ack['organisation']}{by} acknowledged "
        f"{_about(message)}, {timing}  ({_proof(int(ack['log_index']), shown)})"
    )


def escalation_line(
    message: dict[str, Any], escalation: dict[str, Any], logged_at: datetime, shown: Shown
) -> str:
    missed = "received" if escalation["step"] == 0 else "acknowledged"
    notify = ", ".join(str(role).replace("_", " ") for role in escalation["notify"]) or "nobody"
    return (
        f"{log_time(logged_at)} ESCALATION step {escalation['step']} [{shown.channel}] "
        f"{escalation['organisation']} has not {missed} {_about(message)}, due by "
        f"{log_time(_at(escalation['due_at']))}; notifying {notify}  "
        f"({_proof(int(escalation['log_index']), shown)})"
    )
