"""One error hierarchy. The CLI maps ``UserError`` to exit code 2 and ``CheckFailed`` to exit 1,
printing the message only: a user mistake never shows a traceback."""

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
