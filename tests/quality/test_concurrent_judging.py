"""Two jobs judging at the same time never judge one conversation twice."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from quality.judging import JudgeCounts, judge_pending
from quality.models import Decision, JudgingClaim
from quality.rule_sets import current_rule_set
from tests.quality.factories import make_conversation


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_jobs_split_the_work_without_overlap() -> None:
    current_rule_set()
    for _ in range(60):
        make_conversation()
    results: list[JudgeCounts] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def job() -> None:
        try:
            start.wait()
            results.append(judge_pending(chunk_size=5))
        except BaseException as exc:  # reported below with the test's failure
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=job) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert sum(r.approved for r in results) == 60
    assert Decision.objects.count() == 60
    assert Decision.objects.values("conversation").distinct().count() == 60
    assert not JudgingClaim.objects.exists()
