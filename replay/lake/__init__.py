"""The lake: DBN and Databento Parquet decoded into the Bronze lake (MBP-10, trades, definitions,
and MBO rebuilt into them), its layout, digests and quality counts, Silver, and reading it back.

May import: engines, replay.common.
Never imported by: engines, replay.common, replay.gold, replay.sample.
"""
