"""Signal entries: where a level's latched signal begins (SPEC §10.2).

Gold's ``signal`` is the trigger's latched state, so one BREAK decision spans many rows. An
**entry** is a row whose signal is BREAK or REJECT while the same level's row at the previous
snap was absent or had another signal. The summary, the plot and the signal-quality report count
entries with this one definition.
"""

from __future__ import annotations

import polars as pl

from engines.physics.trigger import BREAK, REJECT

SIGNALS = (BREAK, REJECT)


def signal_entries(gold: pl.DataFrame) -> pl.DataFrame:
    """The entry rows of ``gold`` (every column kept, input order).

    A self-join on (session_date, level_id, snap_index - 1): a level absent at the previous snap
    (or at a gap in its snaps) makes an entry, and two sessions never chain.
    """
    prev = gold.select(
        "session_date",
        "level_id",
        (pl.col("snap_index").cast(pl.Int64) + 1).alias("_snap"),
        pl.col("signal").alias("_prev_signal"),
    )
    return (
        gold.with_row_index("_row")
        .with_columns(pl.col("snap_index").cast(pl.Int64).alias("_snap"))
        .join(prev, on=["session_date", "level_id", "_snap"], how="left")
        .filter(
            pl.col("signal").is_in(SIGNALS)
            & pl.col("_prev_signal").ne_missing(pl.col("signal")).fill_null(True)
        )
        .sort("_row")
        .select(gold.columns)
    )
