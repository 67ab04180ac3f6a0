"""The engine config a job runs with, from whatever the user holds (SPEC §5.10).

A path to a TOML file, TOML text, an ``EngineConfig`` or nothing (the defaults). The engines'
``ConfigError`` (a ``ValueError``: ``engines/`` knows nothing of the CLI) becomes ``BadConfig``,
a user error with exit code 2, here and nowhere else.
"""

from __future__ import annotations

from pathlib import Path

from engines.contract.config import ConfigError, EngineConfig
from replay.common.errors import BadConfig

ConfigSource = EngineConfig | Path | str | None


def load_config(source: ConfigSource) -> EngineConfig:
    """Resolved engine config: defaults, overridden by a TOML file's (or text's) [engine] table.

    A ``str`` is a path when it names an existing file or ends in ``.toml``, else TOML text.
    """
    if source is None:
        return EngineConfig()
    if isinstance(source, EngineConfig):
        return source
    try:
        if isinstance(source, str) and not (source.endswith(".toml") or Path(source).is_file()):
            return EngineConfig.from_toml_text(source, source="config text")
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise BadConfig(
                f"cannot be read ({exc.strerror})", path=str(path), expected="a TOML file"
            ) from None
        except UnicodeDecodeError:
            raise BadConfig("is not UTF-8 text", path=str(path), expected="a TOML file") from None
        return EngineConfig.from_toml_text(text, source=str(path))
    except ConfigError as exc:
        raise BadConfig(str(exc)) from None
