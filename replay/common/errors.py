"""One error hierarchy: every error levelreplay raises on purpose knows its exit code.

The CLI prints the message of any ``LevelReplayError`` (one paragraph, no traceback) and exits with
its ``exit_code``: 1 a check found a difference (``CheckFailed``), 2 a user error (``UserError``
and its kinds), 3 a broken invariant inside levelreplay (``InternalError``, a bug to report).
"""

from __future__ import annotations


class LevelReplayError(Exception):
    """Base of every error levelreplay raises on purpose."""

    exit_code = 2


class UserError(LevelReplayError):
    """Bad path, bad file, bad config: the message names the file, the row or field, and what was
    expected."""

    exit_code = 2

    def __init__(self, message: str, *, path: str | None = None, expected: str | None = None):
        parts = []
        if path is not None:
            parts.append(f"{path}:")
        parts.append(message)
        if expected is not None:
            parts.append(f"(expected {expected})")
        super().__init__(" ".join(parts))
        self.path = path
        self.expected = expected


class BadInputFile(UserError):
    """A source file cannot be ingested: not DBN/Parquet, truncated, corrupt, wrong dataset/schema,
    missing or mistyped columns."""


class CheckFailed(LevelReplayError):
    """A comparison or regression check found a difference (exit code 1)."""

    exit_code = 1


class InternalError(LevelReplayError):
    """A broken invariant inside levelreplay (a bug, not the user's input): exit code 3."""

    exit_code = 3


class BadConfig(UserError):
    """An engine config key is unknown, mistyped or out of range, or the file cannot be read."""
