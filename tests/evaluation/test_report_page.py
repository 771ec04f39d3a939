"""The staff page of an evaluation's results, its JSON download, and who may see them."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from crowd.models import CollectionRun
from evaluation.models import Evaluation
from evaluation.report import evaluation_report
from tests.evaluation.factories import add_session, evaluation_run

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.evaluation.urls_for_tests")]


@pytest.fixture
def evaluation() -> Evaluation:
    evaluation = evaluation_run()
    add_session(evaluation, first="a", answers={"fluency": "a", "comforting": "b"})
    add_session(evaluation, first="b", answers="a")
    add_session(evaluation, first="b", answers="tie", failures={"b": 2})
    add_session(evaluation, first="a", answers=None)
    return evaluation


def test_the_urls_are_named() -> None:
    assert reverse("evaluation:report", args=["eval-run"]) == "/evaluation/eval-run/"
    assert (
        reverse("evaluation:report_json", args=["eval-run"]) == "/evaluation/eval-run/report.json"
    )


def test_staff_see_table_5_and_the_strategy_tables(
    rita_client: Client, evaluation: Evaluation
) -> None:
    page = rita_client.get("/evaluation/eval-run/")

    assert page.status_code == 200
    text = page.content.decode()
    assert "Human evaluation of eval-run" in text
    assert "3 seekers compared the two (1 met A first, 2 met B first)" in text
    fluency = _row(text, "question-fluency")
    assert '<th scope="row">Fluency</th>' in fluency
    assert "<td>2 (66.7 %)</td><td>0 (0.0 %)</td><td>1 (33.3 %)</td><td>0.5</td>" in _flat(fluency)
    comforting = _flat(_row(text, "question-comforting"))
    assert "<td>1 (33.3 %)</td><td>1 (33.3 %)</td><td>1 (33.3 %)</td><td>1</td>" in comforting
    assert 'data-testid="progress-a"' in text and 'data-testid="progress-b"' in text
    assert "Backend A (joint-model): 12 supporter utterances in 4 conversations" in text
    assert "<td>4</td><td>12</td><td>2</td>" in text  # backend B's legs, replies, failures
    assert 'href="/evaluation/eval-run/report.json"' in text


def test_the_tables_are_labelled_and_the_page_has_no_inline_code(
    rita_client: Client, evaluation: Evaluation
) -> None:
    text = rita_client.get("/evaluation/eval-run/").content.decode()

    assert text.count("<caption>") == 4  # Table 5, a strategy table per backend, the replies
    assert '<th scope="col">Question</th>' in text
    assert "<style" not in text and " style=" not in text
    assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", text))
    assert not re.search(r"\son[a-z]+=", text)  # no inline event handlers


def test_staff_download_the_report_as_json(rita_client: Client, evaluation: Evaluation) -> None:
    response = rita_client.get("/evaluation/eval-run/report.json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == 'attachment; filename="evaluation-eval-run.json"'
    assert json.loads(response.content) == evaluation_report(evaluation.run)


@pytest.mark.parametrize("path", ["/evaluation/eval-run/", "/evaluation/eval-run/report.json"])
def test_a_user_who_is_not_staff_is_sent_to_the_login(
    otto_client: Client, evaluation: Evaluation, path: str
) -> None:
    response = otto_client.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("path", ["/evaluation/eval-run/", "/evaluation/eval-run/report.json"])
def test_an_anonymous_visitor_is_sent_to_the_login(evaluation: Evaluation, path: str) -> None:
    response = Client().get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_an_unknown_run_or_a_run_without_evaluation_is_not_found(rita_client: Client) -> None:
    CollectionRun.objects.create(name="plain-run")

    assert rita_client.get("/evaluation/nowhere/").status_code == 404
    assert rita_client.get("/evaluation/plain-run/").status_code == 404
    assert rita_client.get("/evaluation/plain-run/report.json").status_code == 404


def _row(text: str, testid: str) -> str:
    match = re.search(rf'<tr data-testid="{testid}">(.*?)</tr>', text, re.S)
    assert match is not None, testid
    return match.group(1)


def _flat(html: str) -> str:
    """The markup without the whitespace between its tags."""
    return re.sub(r">\s+<", "><", html)


def test_the_run_dashboard_leads_to_the_results(
    rita_client: Client, evaluation: Evaluation
) -> None:
    board = rita_client.get(f"/runs/{evaluation.run.name}/dashboard/").content.decode()
    assert 'data-testid="evaluation-link"' in board
    assert 'href="/evaluation/eval-run/"' in board
    other = CollectionRun.objects.create(name="plain-run")
    assert (
        "evaluation-link" not in rita_client.get(f"/runs/{other.name}/dashboard/").content.decode()
    )
