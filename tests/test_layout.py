"""The layout is the architecture: who may import whom, and how big a module or function gets."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("flows", "ocr_core", "segmentation", "benchmarks")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def _modules(*packages: str) -> list[Path]:
    return sorted(p for package in packages for p in (ROOT / package).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def _under(names: set[str], *prefixes: str) -> set[str]:
    return {n for n in names if any(n == p or n.startswith(p + ".") for p in prefixes)}


@pytest.mark.parametrize("path", _modules("flows"), ids=lambda p: p.name)
def test_every_flows_module_is_prefect_orchestration(path: Path) -> None:
    if path.name == "__init__.py":
        return
    imports = _imports(path)
    # Prefect itself, or (a thin entry point such as the demo) only the flows over it.
    assert _under(imports, "prefect") or (
        _under(imports, "flows") and not _under(imports, "cv2", "numpy", "tensorflow")
    ), f"{path.name} is library code: it belongs in ocr_core or segmentation"


@pytest.mark.parametrize("path", _modules("ocr_core", "segmentation"), ids=str)
def test_the_library_never_imports_the_flows_or_prefect(path: Path) -> None:
    assert not _under(_imports(path), "flows", "prefect")


@pytest.mark.parametrize("path", _modules("segmentation"), ids=str)
def test_segmentation_never_imports_tensorflow(path: Path) -> None:
    assert not _under(_imports(path), "tensorflow", "keras")
    if "synthetic" not in path.parts:  # test data may read the datasets; page cutting never
        assert not _under(_imports(path), "ocr_core.training")


@pytest.mark.parametrize("path", _modules("ocr_core/recognition"), ids=str)
def test_inference_never_imports_training(path: Path) -> None:
    assert not _under(_imports(path), "ocr_core.training")


@pytest.mark.parametrize("path", _modules(*PACKAGES), ids=str)
def test_modules_and_functions_stay_small(path: Path) -> None:
    source = path.read_text()
    assert source.count("\n") <= MAX_MODULE_LINES, f"{path} is over {MAX_MODULE_LINES} lines"
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not long, f"{path}: over {MAX_FUNCTION_LINES} lines: {', '.join(long)}"
