"""The embedded sample (data/sample, replayed by `make demo`) is exactly what the generator
writes with its defaults: same seed and arguments ⇒ byte-identical files."""

from __future__ import annotations

import hashlib
from pathlib import Path

from replay.sample import generate_session

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


def _digests(d: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(d.iterdir())
        if p.is_file()
    }


def test_embedded_sample_is_the_generator_default(tmp_path: Path) -> None:
    generate_session(tmp_path)
    have = _digests(SAMPLE)
    assert set(have) == {
        "episodes.json",
        "glbx-mdp3-20251114.definition.dbn.zst",
        "glbx-mdp3-20251114.mbp-10.dbn.zst",
        "glbx-mdp3-20251114.trades.dbn.zst",
        "glbx-mdp3-20251114.opt-trades.dbn.zst",
    }
    assert _digests(tmp_path) == have, "regenerate: levelreplay sample --out data/sample"
