"""A worker's personal data: deleted on request, and never part of a dataset export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import call_command, get_commands
from django.test import Client

from chat.models import Conversation
from crowd.models import DataDeletion, Worker
from crowd.privacy import delete_personal_data
from surveys.models import SeekerPostChatSurvey
from tests.cast import ADA, RITA, account
from tests.chat.factories import end, make_pair, say
from tests.crowd.factories import quick_run
from tests.surveys.factories import seeker_post_answers, supporter_post_answers

pytestmark = pytest.mark.django_db


@pytest.fixture
def surveyed_chat(alice_client: Client, bob_client: Client) -> Conversation:
    """Alice and Bob chatted, and both answered the post-chat survey; Alice left her email."""
    pair = make_pair(quick_run(), seeker_client=alice_client, supporter_client=bob_client)
    say(pair, pair.seeker, "I lost my job.")
    say(pair, pair.supporter, "That sounds hard. What happened?", strategy="Question")
    end(pair, pair.seeker, "finished")
    alice_client.post("/surveys/post-chat/", seeker_post_answers(email="alice@example.org"))
    bob_client.post("/surveys/post-chat/", supporter_post_answers())
    return pair.conversation


def test_it_blanks_ids_and_emails_and_withdraws_the_conversation(
    surveyed_chat: Conversation, alice_client: Client
) -> None:
    alice = Worker.objects.get(pk=surveyed_chat.seeker_id)
    rita = account(RITA)

    record = delete_personal_data(alice, requested_by=rita)

    alice.refresh_from_db()
    assert alice.external_id == f"deleted-{alice.pk}"
    assert (alice.person_key, alice.device_key, alice.network_key) == (
        f"deleted-{alice.pk}",
        "",
        "",
    )
    assert (alice.study_id, alice.assignment_id, alice.hit_id) == ("", "", "")
    assert alice.data_deleted_at is not None
    assert SeekerPostChatSurvey.objects.get(conversation=surveyed_chat).email == ""
    surveyed_chat.refresh_from_db()
    assert surveyed_chat.withdrawn_at is not None
    assert record.requested_by == rita
    assert record.conversations_withdrawn == 1
    assert record.removed == ["external_id", "study_id", "assignment_id", "post_chat_survey.email"]
    # The record itself names kinds of data, never the values.
    stored = json.dumps(record.removed) + str(record)
    assert "alice" not in stored
    # Her session no longer identifies her.
    assert alice_client.get("/done/").status_code == 403


def test_it_keeps_the_first_record_when_asked_twice(surveyed_chat: Conversation) -> None:
    alice = Worker.objects.get(pk=surveyed_chat.seeker_id)
    first = delete_personal_data(alice)
    second = delete_personal_data(alice)
    assert first.pk == second.pk
    assert DataDeletion.objects.count() == 1


def test_it_deletes_from_the_admin_action(surveyed_chat: Conversation, ada_client: Client) -> None:
    bob = Worker.objects.get(pk=surveyed_chat.supporter_id)

    response = ada_client.post(
        "/admin/crowd/worker/",
        {"action": "delete_personal_data", "_selected_action": [bob.pk]},
        follow=True,
    )

    assert response.status_code == 200
    bob.refresh_from_db()
    assert bob.external_id == f"deleted-{bob.pk}"
    assert DataDeletion.objects.get(worker=bob).requested_by == account(ADA)
    surveyed_chat.refresh_from_db()
    assert surveyed_chat.withdrawn_at is not None


def test_it_keeps_ids_and_emails_off_the_conversation_records() -> None:
    # The dataset is built from conversations and utterances: neither may hold personal data.
    from chat.models import Utterance

    for model in (Conversation, Utterance):
        names = {field.name for field in model._meta.get_fields()}
        assert not names & {"email", "external_id", "study_id", "assignment_id", "hit_id"}


def test_it_keeps_emails_and_external_ids_out_of_the_dataset_export(
    surveyed_chat: Conversation, tmp_path: Path
) -> None:
    if "export_esconv" not in get_commands():
        pytest.skip("export_esconv is not written yet (chat area)")
    output = tmp_path / "esconv.json"

    call_command("export_esconv", "--output", str(output), "--status", "all")

    text = output.read_text()
    exported = json.loads(text)
    assert len(exported) == 1
    assert exported[0]["dialog"][0]["content"] == "I lost my job."
    assert "alice@example.org" not in text
    for worker in Worker.objects.all():
        for value in (worker.external_id, worker.study_id, worker.assignment_id):
            assert value
            assert value not in text
        assert worker.completion_code not in text


def test_it_leaves_a_deleted_worker_conversation_out_of_later_exports(
    surveyed_chat: Conversation, tmp_path: Path
) -> None:
    if "export_esconv" not in get_commands():
        pytest.skip("export_esconv is not written yet (chat area)")
    delete_personal_data(Worker.objects.get(pk=surveyed_chat.supporter_id))
    output = tmp_path / "esconv.json"

    call_command("export_esconv", "--output", str(output), "--status", "all")

    assert json.loads(output.read_text()) == []
