"""Two submissions of one survey at the same moment (double click, two tabs) store one survey."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from surveys import forms, services
from surveys.models import PreChatSurvey
from tests.cast import ALICE
from tests.crowd.factories import enter, quick_run
from tests.surveys.factories import pre_chat_answers


@pytest.mark.django_db(transaction=True)
def test_it_stores_one_pre_chat_survey_when_two_requests_race(alice_client: Client) -> None:
    run = quick_run()
    alice = enter(ALICE, run, client=alice_client)
    form = forms.PreChatForm(pre_chat_answers(), run=run)
    assert form.is_valid()
    barrier = threading.Barrier(2)
    results: list[Any] = []

    def submit() -> None:
        try:
            barrier.wait()
            results.append(services.submit_pre_chat(alice, form.cleaned_data).pk)
        except Exception as exc:  # surfaced by the assertion below
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    survey_pks = [r for r in results if isinstance(r, int)]
    errors = [r for r in results if not isinstance(r, int)]
    # The loser either sees the stored survey or finds the stage already moved on.
    assert all(isinstance(e, services.SurveyError) for e in errors), errors
    assert len(set(survey_pks)) == 1
    assert PreChatSurvey.objects.filter(worker=alice).count() == 1
