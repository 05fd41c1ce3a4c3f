"""The package's modules import each other without a cycle.

Every import statement counts, the ones inside functions too: a lazy
import hides a cycle from the interpreter, not from the design.  The
package is being split into layers (readers, X.509, system, actions,
command line), and a cycle is two modules that cannot go to separate
layers.  Read with :mod:`ast`, nothing is imported.
"""

import ast
import pathlib

PACKAGE = "mkcert"
PACKAGE_DIR = pathlib.Path(__file__).resolve().parent.parent / PACKAGE


def module_names():
    return sorted(path.stem for path in PACKAGE_DIR.glob("*.py") if path.stem != "__init__")


def _target(node, module):
    """The mkcert modules one import statement of ``module`` names."""
    found = set()
    if isinstance(node, ast.Import):
        for alias in node.names:
            parts = alias.name.split(".")
            if parts[0] == PACKAGE and len(parts) > 1:
                found.add(parts[1])
    elif isinstance(node, ast.ImportFrom):
        if node.level > 1:
            raise AssertionError(f"{module}: import from above the package: {ast.unparse(node)}")
        if node.level == 1:
            base = node.module
        elif node.module and node.module.split(".")[0] == PACKAGE:
            base = node.module.split(".", 1)[1] if "." in node.module else None
        else:
            return found
        if base:
            found.add(base.split(".")[0])
        else:  # from . import a, b  /  from mkcert import a, b
            found.update(alias.name for alias in node.names)
    return found


def import_graph():
    """module -> the mkcert modules it imports, at module level or in a function."""
    names = set(module_names())
    graph = {}
    for name in names:
        tree = ast.parse((PACKAGE_DIR / f"{name}.py").read_text(encoding="utf-8"))
        targets = set()
        for node in ast.walk(tree):
            targets |= _target(node, name)
        # from . import __version__ names the package itself, not a module
        graph[name] = sorted((targets & names) - {name})
    return graph


def find_cycle(graph):
    """One cycle as a list of modules (first == last), or None."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour = dict.fromkeys(graph, WHITE)
    stack = []

    def visit(node):
        colour[node] = GREY
        stack.append(node)
        for successor in graph[node]:
            if colour[successor] == GREY:
                return stack[stack.index(successor):] + [successor]
            if colour[successor] == WHITE:
                cycle = visit(successor)
                if cycle:
                    return cycle
        stack.pop()
        colour[node] = BLACK
        return None

    for node in sorted(graph):
        if colour[node] == WHITE:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_the_graph_sees_function_level_and_every_import_form():
    """The reader of the statements itself: each form names its module."""
    forms = {
        "from . import cli": {"cli"},
        "from .reqconf import add_attribute": {"reqconf"},
        "import mkcert.publish": {"publish"},
        "from mkcert import der, san": {"der", "san"},
        "from mkcert.cert import digest": {"cert"},
        "import os": set(),
        "from cryptography import x509": set(),
    }
    for source, expected in forms.items():
        node = ast.parse(source).body[0]
        assert _target(node, "test") == expected, source
    graph = import_graph()
    assert "chain" in graph["install"]  # a module-level import
    assert "check" in graph["renew"]  # an import inside a function


def test_find_cycle_reports_the_cycle():
    assert find_cycle({"a": ["b"], "b": ["c"], "c": ["a"], "d": []}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": ["b"], "b": [], "c": ["a"]}) is None


def test_no_import_cycle_in_the_package():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)
