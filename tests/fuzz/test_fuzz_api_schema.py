"""Schemathesis against /api/schema/: every operation, valid and invalid input, as a worker.

The schema is read the way a client reads it (staff only, so with Rita's session); the calls
are made with the session of Sam, a supporter in training, and a CSRF token, through Django's
WSGI handler in this process. Properties: no 5xx, and every answer is JSON.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import given
from schemathesis.generation import GenerationMode

from tests.cast import RITA, SAM, logged_in
from tests.crowd.factories import enter, session_key
from tests.fuzz.strategies import FUZZ
from tests.tutorial.factories import load_content

# Django's WSGI handler closes the connection between requests, which would end the test's
# transaction: the rows must be committed for it to see them.
pytestmark = pytest.mark.django_db(transaction=True)

CSRF_SECRET = "fuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzz"  # 32 characters, like Django's own


def _schema(app: Any) -> Any:
    """The published schema, fetched as staff fetch it, bound to the app for the calls."""
    response = logged_in(RITA).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = schemathesis.openapi.from_dict(response.json())
    schema.app = app
    return schema


def _content_type(response: Any) -> str:
    headers = {name.lower(): values for name, values in response.headers.items()}
    return str(headers.get("content-type", [""])[0])


def test_every_api_operation_answers_fuzzed_input_without_a_server_error() -> None:
    load_content()
    sam = enter(SAM)
    cookies = {"sessionid": session_key(sam), "csrftoken": CSRF_SECRET}
    app = get_wsgi_application()
    operations = [result.ok() for result in _schema(app).get_all_operations()]
    assert {op.label for op in operations} >= {
        "GET /api/tutorial/",
        "POST /api/tutorial/{number}/answer/",
    }
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @FUZZ
            @given(case=operation.as_strategy(generation_mode=mode))
            def call(case: Any) -> None:
                response = case.call(cookies=cookies, headers={"X-CSRFToken": CSRF_SECRET})
                assert response.status_code < 500, (case.as_curl_command(), response.text)
                assert _content_type(response).startswith("application/json"), (
                    case.as_curl_command(),
                    response.status_code,
                )

            call()
