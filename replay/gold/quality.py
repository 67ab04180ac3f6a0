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
