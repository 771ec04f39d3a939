"""Whatever a worker sends the tutorial (pages or API), the answer is a 4xx, never a 500.

Each case once ended in a server error: a digit `int` refuses ("²"), a part number no
database integer holds, a JSON body nested past Python's recursion limit. API errors are JSON.
"""

from __future__ import annotations

import pytest
from django.test import Client

from tests.cast import SAM
from tests.crowd.factories import enter
from tutorial.models import QuizAnswer

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"


def _json_404(response) -> None:
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"]


def test_a_superscript_digit_is_no_option(sam_client: Client, content) -> None:
    enter(SAM, client=sam_client)
    response = sam_client.post("/tutorial/5/", {"option": "\u00b2"})
    assert response.status_code == 400
    assert 'id="option-error"' in response.content.decode()
    assert not QuizAnswer.objects.exists()


@pytest.mark.parametrize("number", [HUGE, "0", "9" * 5000, "12"])
def test_a_part_that_cannot_exist_is_404(sam_client: Client, content, number: str) -> None:
    enter(SAM, client=sam_client)
    assert sam_client.get(f"/tutorial/{number}/").status_code == 404
    assert sam_client.post(f"/tutorial/{number}/", {"option": "0"}).status_code == 404


@pytest.mark.parametrize("number", [HUGE, "9" * 5000, "0", "12"])
def test_the_api_answers_json_404_for_a_part_that_cannot_exist(
    sam_client: Client, content, number: str
) -> None:
    enter(SAM, client=sam_client)
    response = sam_client.post(
        f"/api/tutorial/{number}/answer/", {"option": 0}, content_type="application/json"
    )
    _json_404(response)
    assert not QuizAnswer.objects.exists()


@pytest.mark.parametrize("path", ["/api/nowhere/", "/api/tutorial/x/answer/", "/api/tutorial/1/"])
def test_an_unknown_api_path_is_a_json_404(sam_client: Client, path: str) -> None:
    _json_404(sam_client.get(path))
    _json_404(sam_client.post(path, {}, content_type="application/json"))


@pytest.mark.parametrize(
    "body",
    [
        "[" * 50_000,
        '{"option":' * 50_000,
        '{"option": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[0]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}',
        '{"option": ' + "9" * 5000 + "}",
        '{"option": 1e999}',
        '{"option": NaN}',
        '{"option": 1',
        "\udcff",
    ],
    ids=[
        "deep array",
        "deep object",
        "deep value",
        "5000 digits",
        "1e999",
        "NaN",
        "cut",
        "bad utf8",
    ],
)
def test_a_hostile_json_body_is_a_400(sam_client: Client, content, body: str) -> None:
    enter(SAM, client=sam_client)
    data = body.encode("utf-8", "surrogateescape")
    response = sam_client.post("/api/tutorial/1/answer/", data, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert "JSON parse error" in response.json()["detail"]
    assert not QuizAnswer.objects.exists()
