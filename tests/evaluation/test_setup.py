"""Setting up an evaluation in the admin: the forms refuse what cannot run, with a reason."""

from __future__ import annotations

from typing import Any

import pytest

from evaluation.admin import EvaluationForm, SupporterBackendForm
from evaluation.models import SupporterBackend
from tests.crowd.factories import make_run

pytestmark = pytest.mark.django_db


def _backend(**fields: Any) -> dict[str, Any]:
    defaults = {"name": "model", "kind": "http", "timeout_seconds": 10, "mode": "joint", "seed": 0}
    return defaults | fields


def test_an_http_backend_needs_its_address_and_takes_one_without_a_scheme() -> None:
    form = SupporterBackendForm(data=_backend(url=""))
    assert form.errors["url"] == ["An HTTP backend needs the address of its model server."]
    form = SupporterBackendForm(data=_backend(url="models.example.org/reply"))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["url"] == "https://models.example.org/reply"
    assert SupporterBackendForm(data=_backend(name="r", kind="retrieval", url="")).is_valid()


def _evaluation(a: SupporterBackend, b: SupporterBackend) -> EvaluationForm:
    data = {
        "run": make_run().pk,
        "backend_a": a.pk,
        "backend_b": b.pk,
        "turns": 5,
        "typing_chars_per_second": 12,
        "max_reply_seconds": 8,
        "attempts": 3,
    }
    return EvaluationForm(data=data)


def test_an_evaluation_compares_two_backends_that_can_answer_live() -> None:
    joint = SupporterBackend.objects.create(name="joint", kind="retrieval")
    oracle = SupporterBackend.objects.create(name="oracle", kind="retrieval", mode="oracle")
    http = SupporterBackend.objects.create(name="http", kind="http", url="http://m.example/r")
    assert _evaluation(joint, http).is_valid()
    assert _evaluation(joint, joint).errors["backend_b"] == ["Compare two different backends."]
    assert _evaluation(oracle, http).errors["backend_a"] == [
        "An Oracle backend needs the true strategy: offline only."
    ]
