"""Where a consumer is in a session's stream: every JetStream message is checked against the next
stream sequence it expects (SPEC §6), so nothing is applied twice and nothing is skipped.

A message below the expected sequence is a redelivery (dropped, counted); one above it means the
messages in between never arrived: they are fetched from the stream by sequence first (counted as
a repaired gap). Pure bookkeeping, so the rule is tested without a server.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class StreamCursor:
    """The next stream sequence to apply, and what was dropped or repaired on the way."""

    next_seq: int = 1
    redeliveries: int = 0
    gaps_repaired: int = 0

    def missing_before(self, seq: int) -> list[int]:
        """Sequences to fetch from the stream before ``seq`` can be applied (empty if none)."""
        return list(range(self.next_seq, seq)) if seq > self.next_seq else []

    def is_redelivery(self, seq: int) -> bool:
        """True (and counted) for a sequence already applied."""
        if seq < self.next_seq:
            self.redeliveries += 1
            return True
        return False

    def applied(self, seq: int, repaired: bool = False) -> None:
        """``seq`` was applied (``repaired``: fetched to fill a gap)."""
        assert seq == self.next_seq, f"applied {seq}, expected {self.next_seq}"
        self.gaps_repaired += repaired
        self.next_seq = seq + 1
