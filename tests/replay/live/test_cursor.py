"""The stream cursor's rule (SPEC §6): redeliveries dropped, gaps filled in order, each counted."""

from __future__ import annotations

import pytest

from replay.live.cursor import StreamCursor


def test_in_order_redelivery_and_gap() -> None:
    c = StreamCursor()
    applied: list[int] = []
    # arrivals: 1, 2, 2 (redelivered), 5 (3 and 4 lost), 4 (late copy), 6
    for seq in (1, 2, 2, 5, 4, 6):
        if c.is_redelivery(seq):
            continue
        for m in c.missing_before(seq):  # fetched from the stream by sequence
            c.applied(m, repaired=True)
            applied.append(m)
        c.applied(seq)
        applied.append(seq)
    assert applied == [1, 2, 3, 4, 5, 6]  # each once, in stream order
    assert (c.redeliveries, c.gaps_repaired) == (2, 2)  # 2 and 4 dropped; 3 and 4 repaired
    assert c.next_seq == 7


def test_applying_out_of_order_is_a_bug_not_a_silent_skip() -> None:
    c = StreamCursor(next_seq=3)
    with pytest.raises(AssertionError):
        c.applied(5)
