"""The package's modules import each other without a cycle, and only downwards.

Every import statement counts, the ones inside functions too: a lazy
import hides a cycle or a reach upwards from the interpreter, not from the
design.  The layers, lowest first, are listed in ``LAYERS``; a module may
import from its own layer and the ones below it, never from one above.
Read with :mod:`ast`, nothing is imported.
"""

import ast
import pathlib

import pytest

from conftest import ROOT

PACKAGE = "mkcert"
PACKAGE_DIR = pathlib.Path(ROOT) / PACKAGE

# Lowest first.  The foundation is what every layer speaks: the errors, the
# layout defaults, the value-object idiom and the neutral request.  system knows no X.509 and no
# config format, so everything may use it (x509 runs its searches in its
# worker processes, readers read through its bounded reader); readers turn
# text into a request, x509 turns a request into bytes, actions put the two
# together on disk, cli talks to the user.
LAYERS = (
    ("foundation", ("mkcert", "mkcert.errors", "mkcert.layout", "mkcert.record", "mkcert.request")),
    ("asn1", ("mkcert.asn1",)),
    ("system", ("mkcert.system",)),
    ("readers", ("mkcert.readers",)),
    ("x509", ("mkcert.x509",)),
    ("actions", ("mkcert.actions",)),
    ("cli", ("mkcert.cli",)),
)


def module_names():
    """Every module of the package, dotted; a package is its ``__init__``."""
    names = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(parts))
    return names


def _source(module):
    path = PACKAGE_DIR.parent.joinpath(*module.split("."))
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    return path.read_text(encoding="utf-8")


def _is_package(module):
    return PACKAGE_DIR.parent.joinpath(*module.split(".")).is_dir()


def _absolute(node, module):
    """The dotted module an ``from`` statement starts from."""
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not _is_package(module):
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _target(node, module, known):
    """The package modules one import statement of ``module`` names."""
    found = set()
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name.split(".")[0] == PACKAGE:
                found.add(alias.name)
    elif isinstance(node, ast.ImportFrom):
        base = _absolute(node, module)
        if base.split(".")[0] != PACKAGE:
            return found
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            # from mkcert.asn1 import der names a module; from mkcert.errors
            # import MkcertError names something inside one
            found.add(submodule if submodule in known else base)
    return found


def import_graph():
    """module -> the package modules it imports, at module level or in a function."""
    names = set(module_names())
    graph = {}
    for name in names:
        targets = set()
        for node in ast.walk(ast.parse(_source(name))):
            targets |= _target(node, name, names)
        graph[name] = sorted(targets - {name})
    return graph


def layer_of(module):
    """The index in ``LAYERS`` of the layer ``module`` belongs to."""
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if module == prefix or (prefix != PACKAGE and module.startswith(prefix + ".")):
                return index
    raise AssertionError(f"{module} belongs to no layer: add it to LAYERS")


def upward_imports(graph):
    """(importer, imported) pairs where the imported module sits in a higher layer."""
    return sorted((module, target) for module, targets in graph.items()
                  for target in targets if layer_of(target) > layer_of(module))


def find_cycle(graph):
    """One cycle as a list of modules (first == last), or None."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour = dict.fromkeys(graph, WHITE)
    stack = []

    def visit(node):
        colour[node] = GREY
        stack.append(node)
        for successor in graph.get(node, ()):
            if colour.get(successor) == GREY:
                return stack[stack.index(successor):] + [successor]
            if colour.get(successor) == WHITE:
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
    known = set(module_names())
    forms = {
        "from mkcert.asn1 import der, names": {"mkcert.asn1.der", "mkcert.asn1.names"},
        "from mkcert.errors import MkcertError": {"mkcert.errors"},
        "import mkcert.system.publish": {"mkcert.system.publish"},
        "from mkcert import layout, __version__": {"mkcert.layout", "mkcert"},
        "from . import der": {"mkcert.asn1.der"},
        "from ..x509.keys import generate_key": {"mkcert.x509.keys"},
        "import os": set(),
        "from cryptography import x509": set(),
    }
    for source, expected in forms.items():
        node = ast.parse(source).body[0]
        assert _target(node, "mkcert.asn1.names", known) == expected, source
    graph = import_graph()
    assert "mkcert.x509.chain" in graph["mkcert.actions.install"]  # a module-level import
    assert "mkcert.actions.check" in graph["mkcert.actions.renew"]  # inside a function


def test_every_module_belongs_to_a_layer():
    for module in module_names():
        layer_of(module)


def test_find_cycle_reports_the_cycle():
    assert find_cycle({"a": ["b"], "b": ["c"], "c": ["a"], "d": []}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": ["b"], "b": [], "c": ["a"]}) is None


def test_upward_imports_are_found():
    graph = {"mkcert.asn1.der": ["mkcert.cli.main"], "mkcert.cli.main": ["mkcert.asn1.der"]}
    assert upward_imports(graph) == [("mkcert.asn1.der", "mkcert.cli.main")]


def test_no_import_cycle_in_the_package():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


@pytest.mark.parametrize("layer", [name for name, _ in LAYERS])
def test_no_layer_imports_from_a_higher_one(layer):
    graph = import_graph()
    wrong = [f"{importer} imports {imported}" for importer, imported in upward_imports(graph)
             if LAYERS[layer_of(importer)][0] == layer]
    assert wrong == []
