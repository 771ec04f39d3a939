"""The re-labelling form takes "u-<id>" fields: any other field name is ignored, never a 500."""

from __future__ import annotations

import pytest
from django.test import Client

from quality.models import Relabel, RelabelAssignment
from quality.relabelling import assign_relabelling
from tests.cast import DAVE
from tests.crowd.factories import rejoin
from tests.quality.factories import make_conversation, quality_run
from tests.tutorial.factories import trained_supporter

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "field", ["u-\u00b2", "u-99999999999999999999", "u-" + "9" * 5000, "u-\u0663", "u--1", "u-"]
)
def test_a_field_that_names_no_row_is_ignored(field: str) -> None:
    conversation = make_conversation(
        end_reason="imported",
        status="approved",
        utterances=4,
        seeker_words=[6, 6],
        supporter_words=[8, 8],
    )
    dave = trained_supporter(DAVE, quality_run("relabellers"))
    assign_relabelling([conversation], [dave])
    assignment = RelabelAssignment.objects.get()
    client = rejoin(Client(), dave)

    response = client.post(f"/quality/relabel/{assignment.pk}/", {field: "Question"})

    assert response.status_code == 400  # every supporter line still needs a label
    assert not Relabel.objects.exists()
    assert RelabelAssignment.objects.get().completed_at is None
