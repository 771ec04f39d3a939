"""docker-compose.yml parses, and every command its services run exists in the project."""

from __future__ import annotations

import importlib
import shlex
from pathlib import Path
from typing import Any

import yaml
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]
# What the image installs (tests/platform/test_requirements.py checks it is the runtime set only).
PINNED = (ROOT / "requirements" / "base.txt").read_text().lower()


def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


def commands_of(service: dict[str, Any]) -> list[list[str]]:
    command = service.get("command")
    if command is None:
        return []
    argv = command if isinstance(command, list) else shlex.split(command)
    if argv[:2] == ["sh", "-c"]:
        return [shlex.split(part) for part in argv[2].split("&&")]
    return [argv]


def check_command(argv: list[str]) -> None:
    program = argv[0]
    if program == "python" and argv[1] == "-m":
        # The production server: its options must parse (esc_platform.serve).
        assert argv[2] == "esc_platform.serve", argv
        importlib.import_module(argv[2]).build_parser().parse_args(argv[3:])
    elif program == "python":
        assert argv[1] == "manage.py", argv
        assert argv[2] in get_commands(), f"manage.py has no command {argv[2]!r}"
    elif program == "uvicorn":
        assert "uvicorn" in PINNED
        module_name, attribute = argv[1].split(":")
        assert callable(getattr(importlib.import_module(module_name), attribute))
    elif program == "celery":
        assert "celery" in PINNED
        app_module = argv[argv.index("-A") + 1]
        assert importlib.import_module(app_module).celery_app.main == "esc_platform"
        assert argv[argv.index("-A") + 2] in {"worker", "beat"}
    elif program == "redis-server":
        pass  # runs inside the official redis image
    else:
        raise AssertionError(f"unknown program {program!r} in docker-compose.yml")


def test_it_names_the_deployment_services() -> None:
    services = compose()["services"]
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)


def test_it_builds_web_worker_and_beat_from_one_image() -> None:
    services = compose()["services"]
    images = {services[name]["image"] for name in ("web", "worker", "beat", "migrate")}
    assert images == {"esc-platform:latest"}
    assert (ROOT / "Dockerfile").is_file()
    assert "requirements/base.txt" in (ROOT / "Dockerfile").read_text()


def test_it_runs_only_commands_that_exist() -> None:
    for name, service in compose()["services"].items():
        for argv in commands_of(service):
            check_command(argv)
        assert service.get("image") or service.get("build"), name


def test_it_runs_the_app_in_production_mode() -> None:
    env = compose()["services"]["web"]["environment"]
    assert env["DJANGO_DEBUG"] == "False"
    assert env["DATABASE_URL"].startswith("postgresql://")
    assert env["REDIS_URL"].startswith("redis://")
    assert env["CELERY_BROKER_URL"].startswith("redis://")
