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


# App-wide hooks a module could install when it is imported: templates' globals and filters, context
# processors, request hooks and error handlers for the whole app. They belong in create_app or
# register_pages, so what a page sees never depends on which modules happen to be imported. (A
# blueprint's own routes, before_request and errorhandler reach only that blueprint: allowed.)
APP_WIDE = ("add_app_template_", "app_template_", "app_context_processor", "before_app_", "after_app_",
            "teardown_app_", "app_errorhandler", "app_url_", "jinja_env", "template_global", "template_filter")


def import_time_app_hooks(path: Path, root: Path = ROOT) -> list[str]:
    """Module-level statements (decorators included) that reach one of APP_WIDE."""
    found = []
    for statement in ast.parse(path.read_text(encoding="utf-8"), str(path)).body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            nodes = [n for d in statement.decorator_list for n in ast.walk(d)]
        else:
            nodes = list(ast.walk(statement))
        for node in nodes:
            name = node.attr if isinstance(node, ast.Attribute) else None
            if name and any(name.startswith(hook) for hook in APP_WIDE):
                found.append(f"{path.relative_to(root)}:{node.lineno} {name}")
    return found


def test_importing_a_service_module_installs_nothing_app_wide() -> None:
    found = [hook for path in sorted((ROOT / "service").rglob("*.py")) for hook in import_time_app_hooks(path)]
    assert found == []


def test_the_hook_rule_sees_decorators_and_calls(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("bp.add_app_template_global(f, 'f')\n@bp.app_context_processor\ndef g(): pass\n"
                     "def h(app):\n    app.jinja_env.globals['x'] = 1\n@bp.route('/')\ndef page(): pass\n",
                     encoding="utf-8")
    assert import_time_app_hooks(probe, tmp_path) == ["probe.py:1 add_app_template_global",
                                                      "probe.py:2 app_context_processor"]


def test_register_pages_gives_the_templates_what_they_ask_for(tmp_path: Path) -> None:
    """The globals once installed at import time now come from register_pages, on every new app."""
    from service.app import create_app
    from service.core.config import ServiceConfig

    config = ServiceConfig(instance_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'nomflow.sqlite3'}",
                           testing=True, secret_key="layers-test-secret", scheduler_in_process=False)
    for _ in range(2):
        app = create_app(config)
        assert {"may_draft", "can_read_register", "batch_decision", "signing_stage"} <= set(app.jinja_env.globals)
        app.extensions["nomflow"].db.engine.dispose()


def test_each_page_module_has_its_own_blueprint(tmp_path: Path) -> None:
    """Endpoints are pages.<module>.<function>: the module's own blueprint, nested by register_pages."""
    from service.app import create_app
    from service.core.config import ServiceConfig

    app = create_app(ServiceConfig(instance_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'nomflow.sqlite3'}",
                                   testing=True, secret_key="layers-test-secret", scheduler_in_process=False))
    pages = [rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint.startswith("pages.")]
    assert pages
    for endpoint in pages:
        _, module, function = endpoint.split(".")
        assert app.view_functions[endpoint].__module__ == f"service.web.{module}", endpoint
        assert function == app.view_functions[endpoint].__name__, endpoint
    app.extensions["nomflow"].db.engine.dispose()
