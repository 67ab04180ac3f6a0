"""The tree's rooms keep to what their ``__init__`` docstrings say (ARCHITECTURE: rooms by pipeline
stage): every import of a module goes to its own room or to one its room's "May import:" line
names; no room is imported by one its "Never imported by:" line names; and no module imports
itself back through others (no import circles), function-level imports included."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("engines", "replay")


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def _room_dirs() -> dict[str, Path]:
    """Room name -> its ``__init__.py``: each package and each of its folders."""
    rooms = {pkg: ROOT / pkg / "__init__.py" for pkg in PACKAGES}
    for pkg in PACKAGES:
        for d in sorted((ROOT / pkg).iterdir()):
            if (d / "__init__.py").is_file():
                rooms[f"{pkg}.{d.name}"] = d / "__init__.py"
    return rooms


ROOMS = _room_dirs()


def room_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) > 1 and f"{parts[0]}.{parts[1]}" in ROOMS:
        return f"{parts[0]}.{parts[1]}"
    return parts[0]


def all_imports(path: Path) -> list[str]:
    """Every name ``path`` imports, at any depth (function-level imports too)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out += [f"{node.module}.{a.name}" for a in node.names]
    return out


def imports(path: Path) -> list[str]:
    """The project modules (and their names) ``path`` imports."""
    return [m for m in all_imports(path) if m.split(".")[0] in PACKAGES]


def rule(room: str, key: str) -> set[str]:
    """The rooms a room's docstring names after ``key`` ("May import" / "Never imported by")."""
    doc = ast.get_docstring(ast.parse(ROOMS[room].read_text(encoding="utf-8"))) or ""
    m = re.search(rf"^{key}: (.*?)\.\s*$", doc, flags=re.M | re.S)
    assert m is not None, f"{ROOMS[room]}: its docstring has no '{key}:' line"
    text = " ".join(m.group(1).split())
    if text.startswith("nothing"):
        return set()
    names = {n.strip() for n in text.split(",")}
    unknown = names - set(ROOMS)
    assert not unknown, f"{ROOMS[room]}: '{key}' names {sorted(unknown)}, not rooms"
    return names


def covers(names: set[str], room: str, of: str) -> bool:
    """Whether a rule of room ``of`` naming ``names`` covers ``room``: by name, or through its
    package when the rule names another package whole (``engines`` in a ``replay`` room's rule
    covers every room of ``engines``)."""
    pkg = room.split(".")[0]
    return room in names or (pkg in names and pkg != of.split(".")[0])


def arrows() -> list[tuple[str, str, str]]:
    """(importing module, imported name, imported room) across rooms."""
    out = []
    for mod, path in _modules().items():
        for name in imports(path):
            if room_of(name) != room_of(mod):
                out.append((mod, name, room_of(name)))
    return out


@pytest.mark.parametrize("room", sorted(ROOMS))
def test_each_room_says_its_job_and_rules(room: str) -> None:
    doc = ast.get_docstring(ast.parse(ROOMS[room].read_text(encoding="utf-8"))) or ""
    assert len(doc.split(".")[0]) > 30, f"{ROOMS[room]}: say the room's job first"
    rule(room, "May import")
    rule(room, "Never imported by")


def test_every_import_goes_where_its_room_may_import() -> None:
    bad = [
        f"{mod} imports {name} ({target} is not in {room_of(mod)}'s 'May import')"
        for mod, name, target in arrows()
        if not covers(rule(room_of(mod), "May import"), target, room_of(mod))
    ]
    assert bad == []


def test_no_room_is_imported_by_a_room_it_names_as_never() -> None:
    bad = [
        f"{mod} imports {name}: {target} says it is never imported by {room_of(mod)}"
        for mod, name, target in arrows()
        if covers(rule(target, "Never imported by"), room_of(mod), target)
    ]
    assert bad == []


def test_no_import_circles() -> None:
    mods = _modules()

    def resolve(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    graph = {m: set() for m in mods}
    for m, path in mods.items():
        for name in imports(path):
            t = resolve(name)
            if t is not None and t != m and not m.startswith(t + "."):  # a package's own init
                graph[m].add(t)
    circles, state = [], {m: 0 for m in mods}  # 0 new, 1 on the path, 2 done

    def walk(m: str, path: list[str]) -> None:
        state[m] = 1
        for t in sorted(graph[m]):
            if state[t] == 1:
                circles.append(" -> ".join(path[path.index(t) :] + [m, t]))
            elif state[t] == 0:
                walk(t, [*path, m] if path else [m])
        state[m] = 2

    for m in sorted(mods):
        if state[m] == 0:
            walk(m, [])
    assert circles == []


IO_LIBRARIES = ("pyarrow", "polars", "nats", "dask", "databento", "typer")


def test_engines_never_import_io_libraries() -> None:
    """The physics reads arrays: no file, message or dataframe library, so every mode (offline,
    live, the API) can drive it and it can be tested alone."""
    files = sorted((ROOT / "engines").rglob("*.py"))
    assert len(files) > 20
    bad = [
        f"{f.name}: {m}" for f in files for m in all_imports(f) if m.split(".")[0] in IO_LIBRARIES
    ]
    assert bad == []


def test_the_checks_see_what_they_must(tmp_path: Path) -> None:
    """A function-level import counts, and a module outside the packages does not."""
    p = tmp_path / "x.py"
    p.write_text("import numpy\n\ndef f():\n    from replay.gold import schema\n")
    assert imports(p) == ["replay.gold.schema"]
    assert all_imports(p) == ["numpy", "replay.gold.schema"]
    assert room_of("replay.gold.schema") == "replay.gold"
    assert room_of("replay.cli") == "replay"
    assert room_of("engines.state.market_state") == "engines.state"
    assert room_of("engines.create") == "engines"
