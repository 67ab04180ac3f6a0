"""``engines/`` is the physics: it never imports ``replay`` (nor I/O-bound libraries), so every
mode (offline, live, the API) can drive it and it can be tested alone."""

from __future__ import annotations

import ast
from pathlib import Path

ENGINES = Path(__file__).resolve().parents[2] / "engines"
FORBIDDEN = ("replay", "pyarrow", "polars", "nats", "dask", "databento", "typer")


def _imports(path: Path) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
    return out


def test_engines_never_import_replay_or_io_libraries() -> None:
    files = sorted(ENGINES.rglob("*.py"))
    assert len(files) > 20
    bad = [f"{f.name}: {m}" for f in files for m in _imports(f) if m.split(".")[0] in FORBIDDEN]
    assert bad == []


def test_the_check_sees_function_level_imports(tmp_path: Path) -> None:
    p = tmp_path / "x.py"
    p.write_text("def f():\n    from replay.gold import schema\n    import pyarrow as pa\n")
    assert _imports(p) == ["replay.gold", "pyarrow"]
