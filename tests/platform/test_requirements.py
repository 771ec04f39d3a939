"""Runtime and development dependencies are pinned apart, and the runtime set is enough to run.

requirements/base.txt is what the production image and `make run` install; requirements/dev.txt
adds the tools. These tests read the files, the Dockerfile, pyproject.toml, the app's imports and
the installed distributions' metadata (the venv is built from these very pins by `make`).
"""

from __future__ import annotations

import ast
import re
import shlex
import sys
import tomllib
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "requirements" / "base.txt"
DEV = ROOT / "requirements" / "dev.txt"
# The packages the running app is made of (tests/ and bench/ are not shipped to run).
APP_PACKAGES = ("chat", "crowd", "quality", "surveys", "tutorial", "esc_platform")
DEV_TOOLS = ("ruff", "mypy", "pytest", "playwright", "daphne")
DOTTED = re.compile(r"[A-Za-z_]\w*(\.\w+)+")


def requirement_lines(path: Path) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def pins(path: Path) -> dict[NormalizedName, Requirement]:
    found: dict[NormalizedName, Requirement] = {}
    for line in requirement_lines(path):
        if line.startswith("-r "):
            continue
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name not in found, f"{path.name} pins {name} twice"
        found[name] = requirement
    return found


def pinned_version(requirement: Requirement) -> str:
    (specifier,) = requirement.specifier
    assert specifier.operator == "==", requirement
    return specifier.version


def test_every_dependency_is_pinned_exactly() -> None:
    for path in (BASE, DEV):
        for requirement in pins(path).values():
            assert len(requirement.specifier) == 1, requirement
            assert pinned_version(requirement), requirement


def test_dev_builds_on_base_and_repeats_none_of_it() -> None:
    assert requirement_lines(DEV)[0] == "-r base.txt"
    assert not requirement_lines(BASE)[0].startswith("-r")
    assert not set(pins(BASE)) & set(pins(DEV))
    assert not (ROOT / "requirements.txt").exists(), "the old single list is gone"


def test_base_holds_no_development_tool() -> None:
    for name in pins(BASE):
        assert not name.startswith(DEV_TOOLS), f"{name} is a development tool"
        assert not name.endswith("-stubs") and not name.startswith("types-"), name
    dev = pins(DEV)
    for tool in (*DEV_TOOLS, "pytest-django", "pytest-asyncio", "pytest-playwright"):
        assert tool in dev, f"{tool} missing from {DEV.name}"


def pip_installs(dockerfile: str) -> list[list[str]]:
    runs = re.findall(r"^RUN (.*)$", dockerfile.replace("\\\n", " "), re.M)
    commands = [shlex.split(run) for run in runs]
    return [argv for argv in commands if "pip" in argv[:3] and "install" in argv]


def test_the_image_installs_the_runtime_set_only() -> None:
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    dockerfile = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    installs = pip_installs(dockerfile)
    assert installs, "the Dockerfile installs nothing with pip"
    files = [argv[i + 1] for argv in installs for i, arg in enumerate(argv) if arg == "-r"]
    assert files == ["requirements/base.txt"]
    # Nothing but -r files: no package installed by name behind the lists' back.
    for argv in installs:
        named = [arg for arg in argv[argv.index("install") + 1 :] if not arg.startswith("-")]
        assert named == ["requirements/base.txt"], argv
    assert "dev.txt" not in dockerfile
    assert re.search(r"^COPY requirements/base\.txt ", dockerfile, re.M)


def test_pyproject_pins_the_same_direct_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for path, declared in (
        (BASE, project["dependencies"]),
        (DEV, project["optional-dependencies"]["dev"]),
    ):
        pinned = pins(path)
        for text in declared:
            requirement = Requirement(text)
            name = canonicalize_name(requirement.name)
            assert name in pinned, f"{text} (pyproject.toml) is not pinned in {path.name}"
            assert pinned[name].specifier == requirement.specifier, (text, pinned[name])
            assert requirement.extras <= pinned[name].extras, (text, pinned[name])


def app_modules() -> Iterator[Path]:
    for package in APP_PACKAGES:
        yield from (ROOT / package).rglob("*.py")


def imported_top_level_names(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def settings_references() -> set[str]:
    """Modules the settings name as dotted strings (middleware, backends, storages, apps)."""
    tree = ast.parse((ROOT / "esc_platform" / "settings.py").read_text())
    return {
        node.value.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and DOTTED.fullmatch(node.value)
    }


def test_every_third_party_module_the_app_imports_comes_from_base() -> None:
    first_party = {path.name for path in ROOT.iterdir() if (path / "__init__.py").exists()}
    providers = metadata.packages_distributions()
    names = set().union(*(imported_top_level_names(path) for path in app_modules()))
    # A dotted string counts when it starts with an installed module (not, say, "job crisis.").
    names |= {name for name in settings_references() if name in providers}
    third_party = names - set(sys.stdlib_module_names) - first_party
    assert {"django", "channels", "celery", "rest_framework", "whitenoise"} <= third_party
    base = pins(BASE)
    for name in sorted(third_party):
        assert name in providers, f"the app imports {name}, which no distribution provides"
        dists = {canonicalize_name(dist) for dist in providers[name]}
        assert dists & set(base), f"the app imports {name} ({', '.join(dists)}): not in base.txt"


def unpinned_dependencies(pinned: dict[NormalizedName, Requirement]) -> list[str]:
    """What the pinned distributions require (on this platform) that is not pinned with them."""
    environment = {key: str(value) for key, value in default_environment().items()}
    missing: list[str] = []
    todo = [(name, frozenset(requirement.extras)) for name, requirement in pinned.items()]
    seen: set[tuple[NormalizedName, frozenset[str]]] = set()
    while todo:
        name, extras = todo.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        for text in metadata.requires(name) or []:
            requirement = Requirement(text)
            wanted = requirement.marker is None or any(
                requirement.marker.evaluate({**environment, "extra": extra})
                for extra in (extras or {""})
            )
            if not wanted:
                continue
            dependency = canonicalize_name(requirement.name)
            if dependency in pinned:
                todo.append((dependency, frozenset(requirement.extras)))
            else:
                missing.append(f"{name} needs {requirement}")
    return missing


def test_each_set_pins_everything_its_packages_need() -> None:
    base = pins(BASE)
    everything = {**base, **pins(DEV)}
    for name, requirement in everything.items():
        installed = metadata.version(name)
        assert installed == pinned_version(requirement), (
            f"{name} {installed} is installed but {pinned_version(requirement)} is pinned: "
            "run `make setup`"
        )
    assert unpinned_dependencies(base) == []
    assert unpinned_dependencies(everything) == []
