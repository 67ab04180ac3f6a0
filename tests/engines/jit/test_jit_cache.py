"""Numba's cache directory follows the code: any source edit gives a fresh directory."""

from __future__ import annotations

from pathlib import Path

from numba.core import config

import engines  # noqa: F401  (its import points numba at the code-keyed directory)
from engines.jit.jit_cache import cache_root, source_digest


def _tree(root: Path, body: str) -> None:
    for pkg in ("engines", "replay"):
        (root / pkg).mkdir(parents=True, exist_ok=True)
        (root / pkg / "__init__.py").write_text("")
    (root / "engines" / "market_state.py").write_text(body)


def test_digest_changes_with_a_callee_module_only(tmp_path: Path) -> None:
    # the stale-cache case: only the callee's module changes, the caller's file does not
    _tree(tmp_path, "X = 1\n")
    before = source_digest(tmp_path)
    assert source_digest(tmp_path) == before  # stable
    _tree(tmp_path, "X = 2\n")
    assert source_digest(tmp_path) != before


def test_numba_cache_dir_is_keyed_by_the_package_digest() -> None:
    assert Path(config.CACHE_DIR) == cache_root() / source_digest()[:16]


def test_an_unwritable_cache_root_falls_back_to_the_temp_dir(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import tempfile

    from engines.jit.jit_cache import use_code_keyed_cache

    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")  # a file where the cache root should be: mkdir fails, even as root
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(blocker))
    before = config.CACHE_DIR
    try:
        path = use_code_keyed_cache()
        assert path.parent.parent == Path(tempfile.gettempdir())
        assert path.name == source_digest()[:16] and path.is_dir()
        assert str(path) == config.CACHE_DIR
    finally:
        config.CACHE_DIR = before
