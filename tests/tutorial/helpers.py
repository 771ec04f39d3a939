"""Helpers for the tutorial tests: answer right or wrong through the real pages."""

from __future__ import annotations

from django.test import Client

from tutorial.models import SubTask


def right(subtask: SubTask) -> int:
    return subtask.correct_option


def wrong(subtask: SubTask) -> int:
    return (subtask.correct_option + 1) % len(subtask.options)


def answer_all(
    client: Client, content: list[SubTask], wrong_parts: frozenset[int] = frozenset()
) -> None:
    """Answer every part through the pages; `wrong_parts` are 1-based numbers answered wrongly."""
    for number, subtask in enumerate(content, start=1):
        option = wrong(subtask) if number in wrong_parts else right(subtask)
        response = client.post(f"/tutorial/{number}/", {"option": str(option)})
        assert response.status_code == 302, response.content[:500]
