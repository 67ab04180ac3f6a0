"""What every room uses and nothing room-specific: the error hierarchy (each error knows its exit
code), the engine config read from TOML, the command-line options every command shares, atomic
writes, file locks, sha256 of files, dates, fault points, prefetching, progress.

May import: engines.
Never imported by: engines.
"""
