"""What every room uses and nothing room-specific: the error hierarchy (each error knows its exit
code), atomic writes, file locks, sha256 of files, dates, fault points, prefetching, progress.

May import: nothing outside replay.common.
Never imported by: engines.
"""
