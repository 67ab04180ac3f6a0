"""The outputs: the Gold schema (derived from engines' column table), the writer, the manifest's
format and digests, verify, golden files, payloads, summary and plot.

May import: engines, replay.common.
Never imported by: engines, replay.common, replay.lake, replay.sample.
"""
