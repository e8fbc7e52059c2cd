"""The import rules of DESIGN.md's layers, read from the source (every import statement, also the
ones inside functions): a rule broken here is an arrow pointing the wrong way."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# folder -> the packages no module in it may import
RULES = {
    # Reads answer queries; the use cases change state. Both take shared lookups from service/db.
    "service/reads": ("service.usecases",),
    # A migration runs years after it was written: it may not depend on code that changes since.
    "service/migrations": ("service.usecases", "service.reads"),
}


def imported_modules(path: Path, root: Path = ROOT) -> list[tuple[int, str]]:
    """(line, dotted name) of everything a module imports, `from a import b` giving both a and a.b."""
    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return sorted(found)


def breaches(folder: str, forbidden: tuple[str, ...], root: Path = ROOT) -> list[str]:
    out = []
    for path in sorted((root / folder).rglob("*.py")):
        for line, name in imported_modules(path, root):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                out.append(f"{path.relative_to(root)}:{line} imports {name}")
    return out


@pytest.mark.parametrize("folder", sorted(RULES))
def test_no_module_imports_across_its_layer(folder: str) -> None:
    assert (ROOT / folder).is_dir()
    assert breaches(folder, RULES[folder]) == []


def test_the_rule_sees_every_form_of_import(tmp_path: Path) -> None:
    (tmp_path / "service" / "reads").mkdir(parents=True)
    (tmp_path / "service" / "reads" / "probe.py").write_text("from service import usecases\n"
                      "def f():\n    from service.usecases.tasks import claim\n"
                      "import service.usecases.audit\nfrom ..usecases import files\n", encoding="utf-8")
    found = breaches("service/reads", RULES["service/reads"], tmp_path)
    assert [b.split(":", 1)[1] for b in found] == [
        "1 imports service.usecases", "3 imports service.usecases.tasks", "3 imports service.usecases.tasks.claim",
        "4 imports service.usecases.audit", "5 imports service.usecases", "5 imports service.usecases.files"]
