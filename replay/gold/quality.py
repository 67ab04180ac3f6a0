"""The manifest's data-quality counters, split in two, each with what it means in plain words.

``data_quality`` holds **problems**: records or books that were wrong and were excluded or
repaired (every one is counted; none silently). ``data_notes`` holds **informational** figures:
normal properties of real CME data that a user should know about but need not fix — e.g. the
channel sequence spans every instrument of the channel, so one outright's records show gaps on
every real session. One table here decides which is which; the manifest, ``summary`` and the
README read it.
"""

from __future__ import annotations

PROBLEMS: dict[str, str] = {
    "crossed_books": "MBP-10 records whose best bid was above the best ask (not scored)",
    "locked_books": "MBP-10 records whose best bid equalled the best ask (not scored)",
    "one_sided_books": "MBP-10 records with one side of the book empty (not scored)",
    "snaps_scored_with_last_valid_book": "snaps scored with the last valid book",
    "undefined_price_trades": "trades with an undefined price, excluded",
    "option_trades_without_definition": "option trades without a definition, left out of Fuel",
    "ingest_duplicate_records": "copies of a record inside one source file, dropped at ingest",
    "ingest_excluded_bad_price": "records with an impossible price, excluded at ingest",
    "ingest_excluded_bad_side": "trades with a side other than A/B/N, excluded at ingest",
    "ingest_excluded_orphan_option": "option records whose instrument had no definition",
    "ingest_out_of_order_resorted": "records out of ts_recv order in their file, re-sorted",
    "ingest_mbo_book_started_empty": "books rebuilt from MBO without a snapshot: orders resting "
    "before the file began are missing",
    "ingest_mbo_unknown_order_cancel": "MBO cancels of an order never added, skipped",
    "ingest_mbo_unknown_order_modify": "MBO modifies of an order never added, applied as adds",
    "ingest_mbo_unknown_order_fill": "MBO fills of an order never added (the book is unchanged)",
    "ingest_mbo_cancel_exceeds_order": "MBO cancels larger than their order, taken as the order",
    "ingest_mbo_fill_exceeds_order": "MBO fills larger than their order (the book is unchanged)",
    "ingest_mbo_add_of_live_order": "MBO adds of an order already in the book, taken as a replace",
    "ingest_mbo_bad_action_or_side": "MBO records with an unknown action, or an add or modify "
    "without a side or price, skipped",
    "ingest_mbo_crossed_at_event_end": "MBO events that ended with the rebuilt book crossed or "
    "locked (CME's pre-open is)",
    "ingest_mbo_event_unterminated": "MBO files that ended inside an event (no F_LAST), closed "
    "at their last record",
}
"""Counter -> what a non-zero count means."""

INFORMATIONAL: dict[str, str] = {
    "sequence_gaps": "gaps in the channel sequence (normal on CME: it spans every instrument)",
    "snaps_without_valid_book": "snaps before the first valid book (nothing to score yet)",
    "option_iv_out_of_band": "option prints whose implied volatility fell outside the band",
    "ingest_excluded_spread": "calendar-spread records set aside at ingest",
    "ingest_excluded_other_instrument": "records of other products set aside at ingest",
    "ingest_overlap_records": "records held by two source files, stored once",
}


def split_counters(counts: dict[str, int]) -> tuple[dict[str, int], dict[str, int]]:
    """(problems, informational) of a flat counter dict; a counter in neither table is a
    problem (a new counter is loud until someone decides otherwise)."""
    problems = {k: v for k, v in counts.items() if k not in INFORMATIONAL}
    notes = {k: v for k, v in counts.items() if k in INFORMATIONAL}
    return problems, notes


def meaning(counter: str) -> str:
    return PROBLEMS.get(counter) or INFORMATIONAL.get(counter) or counter.replace("_", " ")
