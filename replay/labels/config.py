"""The ``[labels]`` table (SPEC §10.1): horizons and barrier, validated like ``[engine]``, hashed
on its own so that changing it never changes a Gold digest.

Lives beside the labels, not in ``engines/``: no engine ever reads it (labels look ahead, engines
never do). The same TOML file holds both tables; each side reads its own and ignores the other's.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engines.contract.config import NS_PER_S, points_to_units
from replay.common.errors import BadConfig

MAX_HORIZON_S = 86_400
MAX_HORIZONS = 32


@dataclass(frozen=True)
class LabelConfig:
    """How far ahead a label looks and how far price must go to decide it."""

    horizons_s: tuple[int, ...] = (30, 60, 120, 300)
    barrier_pts: float = 2.0  # 8 ticks; compared in int64 units (b = 2_000_000_000)

    def __post_init__(self) -> None:
        h = self.horizons_s
        _need(
            0 < len(h) <= MAX_HORIZONS and all(0 < x <= MAX_HORIZON_S for x in h),
            "horizons_s",
            h,
            f"1..{MAX_HORIZONS} horizons, each 1..{MAX_HORIZON_S} s",
        )
        _need(
            all(a < b for a, b in itertools.pairwise(h)),
            "horizons_s",
            h,
            "strictly increasing seconds (each horizon once)",
        )
        ok = math.isfinite(self.barrier_pts) and 0 < self.barrier_pts <= 10_000
        _need(ok and self.barrier_units >= 1, "barrier_pts", self.barrier_pts, "0..10000 points")

    @property
    def barrier_units(self) -> int:
        return points_to_units(self.barrier_pts) if math.isfinite(self.barrier_pts) else 0

    @property
    def horizons_ns(self) -> tuple[int, ...]:
        return tuple(h * NS_PER_S for h in self.horizons_s)

    def to_dict(self) -> dict[str, Any]:
        return {"horizons_s": list(self.horizons_s), "barrier_pts": self.barrier_pts}

    def to_toml(self) -> str:
        h = ", ".join(str(x) for x in self.horizons_s)
        return f"[labels]\nhorizons_s = [{h}]\nbarrier_pts = {self.barrier_pts!r}\n"

    def sha256(self) -> str:
        return hashlib.sha256(self.to_toml().encode()).hexdigest()

    @classmethod
    def from_mapping(cls, data: dict[str, Any], *, source: str = "config") -> LabelConfig:
        unknown = sorted(set(data) - {"horizons_s", "barrier_pts"})
        if unknown:
            raise BadConfig(
                f"{source}: unknown key(s) {', '.join(unknown)} in [labels]",
                expected="only horizons_s and barrier_pts (see `levelreplay config show`)",
            )
        kw: dict[str, Any] = {}
        if "horizons_s" in data:
            h = data["horizons_s"]
            if not isinstance(h, list) or not all(
                isinstance(x, int) and not isinstance(x, bool) for x in h
            ):
                raise BadConfig(
                    f"{source}: key 'horizons_s' = {h!r}", expected="a list of whole seconds"
                )
            kw["horizons_s"] = tuple(h)
        if "barrier_pts" in data:
            b = data["barrier_pts"]
            if isinstance(b, bool) or not isinstance(b, int | float):
                raise BadConfig(f"{source}: key 'barrier_pts' = {b!r}", expected="a number")
            kw["barrier_pts"] = float(b)
        try:
            return cls(**kw)
        except BadConfig as exc:
            raise BadConfig(f"{source}: {exc}") from None


def _need(ok: bool, key: str, value: Any, expected: str) -> None:
    if not ok:
        raise BadConfig(f"key '{key}' = {value!r} is out of range", expected=expected)


LabelSource = LabelConfig | Path | str | None


def load_label_config(source: LabelSource) -> LabelConfig:
    """The ``[labels]`` table of a TOML file (or text), else the defaults; the file may also
    hold ``[engine]``, which is the replay's business."""
    if source is None:
        return LabelConfig()
    if isinstance(source, LabelConfig):
        return source
    where = "config text"
    if isinstance(source, Path) or source.endswith(".toml") or Path(source).is_file():
        where = str(source)
        try:
            text = Path(source).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise BadConfig(f"cannot be read ({exc})", path=where, expected="a TOML file") from None
    else:
        text = source
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BadConfig(f"{where}: not valid TOML ({exc})", expected="[labels]") from None
    table = doc.get("labels", {})
    if not isinstance(table, dict):
        raise BadConfig(f"{where}: 'labels' must be a table", expected="[labels]")
    return LabelConfig.from_mapping(table, source=where)
