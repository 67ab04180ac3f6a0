"""What happened after each snap (SPEC §10): the label config, the outcome kernel, the label
job and its manifest, reading current labels, the signal-quality report, purged splits.

May import: engines, replay.common, replay.lake, replay.gold, replay.run.
Never imported by: engines, replay.common, replay.lake, replay.gold, replay.run, replay.live,
replay.sample.
"""
