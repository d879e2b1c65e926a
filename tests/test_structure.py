"""The project's import graph (issue 19 item 6): no cycles among its own modules, counting the imports inside
functions too, which hide a dependency from a reader but not from the interpreter. Pure `ast`: no imports run."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SKIP = {"tests", "runs", "runs_toy", ".git", "results"}


def project_modules() -> dict:
    """dotted name -> file, for every .py of the project outside tests/ (benchmarks/ and scripts/ included)."""
    mods = {}
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in SKIP or rel.parts[0].startswith("."):
            continue
        name = ".".join(rel.with_suffix("").parts)
        mods[name.removesuffix(".__init__")] = path
    return mods


def import_graph(mods: dict) -> dict:
    """module -> the project modules it imports anywhere in its text. Scripts in benchmarks/ and scripts/ put
    their own folder on sys.path, so `import flops` there is benchmarks.flops."""
    graph = {}
    for name, path in mods.items():
        folder = name.split(".")[0] if name.startswith(("benchmarks.", "scripts.")) else None
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            for n in names:
                if n in mods:
                    deps.add(n)
                elif folder and f"{folder}.{n}" in mods:
                    deps.add(f"{folder}.{n}")
        graph[name] = deps - {name}
    return graph


def cycles(graph: dict) -> list:
    """The strongly connected components of more than one module (Tarjan), each a sorted list."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_cycle_finder_finds_a_function_local_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    mods = project_modules()
    assert {"main", "config", "metrics.measures", "metrics.markdown", "benchmarks.flops"} <= set(mods)
    graph = import_graph(mods)
    assert "benchmarks.bench_configs" in graph["benchmarks.flops"]   # the function-local import is seen
    assert cycles(graph) == []
