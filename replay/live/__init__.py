"""Live mode on NATS: the session as messages, publishing a lake, the live session on the same
seam as a replay, its Gold, and a local ``nats-server`` for tests and benchmarks.

May import: engines, replay.common, replay.lake, replay.gold, replay.run.
Never imported by: engines, replay.common, replay.lake, replay.gold, replay.run, replay.labels,
replay.nightly, replay.sample.
"""
