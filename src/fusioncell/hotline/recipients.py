"""Who owes a message an acknowledgement: the one statement of the rule.

The organisations of the message's channel whose membership acknowledges, less the sender's
organisation, less those that have acknowledged already (an organisation's first
acknowledgement is the one that counts; more change nothing). With nothing acknowledged yet,
these are the message's recipients.

The replay in ``hotline/replay.py`` applies this function to log bodies;
``hotline.queries.owed_acknowledgements`` states it in SQL for the tables, and
``tests/hotline/test_recipients.py`` holds the two to the same answers.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import TypeVar

Organisation = TypeVar("Organisation", bound=Hashable)


def owed_acknowledgements(
    channel_members: Iterable[tuple[Organisation, bool]],
    sender_organisation: Organisation | None,
    acknowledged: Iterable[Organisation] = (),
) -> frozenset[Organisation]:
    """The organisations that owe an acknowledgement.

    ``channel_members``: the channel's (organisation, acknowledges) pairs;
    ``sender_organisation``: None when no member's organisation sent it (the replay cannot
    name it); ``acknowledged``: the organisations with an acknowledgement of the message.
    """
    owing = {organisation for organisation, acknowledges in channel_members if acknowledges}
    if sender_organisation is not None:
        owing.discard(sender_organisation)
    return frozenset(owing.difference(acknowledged))
