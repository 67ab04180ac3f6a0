"""One session and many: a session's inputs resolved from the lake, the merge into chunks,
driving the seam, ``replay_session`` and its manifest, ``info``, resume, and the executors
(process pool, Dask) that run any job over a date range.

May import: engines, replay.common, replay.lake, replay.gold.
Never imported by: engines, replay.common, replay.lake, replay.gold, replay.sample.
"""
