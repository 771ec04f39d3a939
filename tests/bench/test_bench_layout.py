"""The benchmarks stay readable: short modules, short functions (see bench/chatload/)."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 40


def bench_modules() -> list[Path]:
    return sorted([*(REPO / "bench").rglob("*.py"), *(REPO / "devtools").rglob("*.py")])


def test_no_bench_module_is_longer_than_400_lines() -> None:
    modules = bench_modules()
    assert REPO / "bench" / "chatload" / "main.py" in modules
    too_long = {
        str(path.relative_to(REPO)): n
        for path in modules
        if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert too_long == {}


def test_no_bench_function_is_longer_than_40_lines() -> None:
    too_long = {}
    for path in bench_modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    too_long[f"{path.relative_to(REPO)}:{node.name}"] = lines
    assert too_long == {}


def test_the_server_start_up_lives_in_one_place() -> None:
    """tests/browser_support.py and the chat bench both start servers through devtools.server."""
    users = [REPO / "tests" / "browser_support.py", REPO / "bench" / "chatload" / "processes.py"]
    for path in users:
        text = path.read_text()
        assert "from devtools.server import" in text, path
        assert "subprocess.Popen(" not in text and "def free_port" not in text, path
