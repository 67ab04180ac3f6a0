"""The nightly determinism regression: a date range replayed (and labelled) twice, compared
with itself and with a golden file, and its report.

May import: engines, replay.common, replay.lake, replay.gold, replay.run, replay.labels.
Never imported by: engines, replay.common, replay.lake, replay.gold, replay.run, replay.labels,
replay.live, replay.sample.
"""
