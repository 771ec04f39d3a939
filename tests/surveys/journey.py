"""A worker's journey built through the real pages and services, for the surveys and pay tests.

Workers arrive with a crowd-site link and consent through the views; matching and endings use
the chat services. Only the supporter's training result is set directly (the tutorial's quiz is
tested by its own area): `qualify` marks a supporter qualified and sends them to the waiting room.
"""

from __future__ import annotations

from typing import Any

from django.test import Client

from chat import endings, matching
from chat.models import Conversation
from crowd import services as crowd_services
from crowd.models import CollectionRun, Worker


def make_run(name: str = "study", **settings: Any) -> CollectionRun:
    """A run whose chats may end at once (no minimum turns or time, no silence to wait for)."""
    values: dict[str, Any] = {
        "min_turns_to_end": 0,
        "min_seconds_to_end": 0,
        "partner_silence_seconds": 0,
        **settings,
    }
    return CollectionRun.objects.create(name=name, **values)


def arrive(
    client: Client, run: CollectionRun, role: str, pid: str, *, consent: bool = True
) -> Worker:
    """Open the Prolific-style entry link in this client and give consent."""
    response = client.get(
        "/start/",
        {
            "role": role,
            "PROLIFIC_PID": pid,
            "STUDY_ID": "study-1",
            "SESSION_ID": f"s-{pid}",
            "run": run.name,
        },
    )
    assert response.status_code == 302, response.content
    if consent:
        response = client.post("/consent/", {"agree": "yes"})
        assert response.status_code == 302
    return Worker.objects.get(run=run, external_id=pid)


def arrive_mturk(client: Client, run: CollectionRun, role: str, worker_id: str) -> Worker:
    response = client.get(
        "/start/",
        {
            "role": role,
            "workerId": worker_id,
            "assignmentId": f"A-{worker_id}",
            "hitId": "H1",
            "run": run.name,
        },
    )
    assert response.status_code == 302
    client.post("/consent/", {"agree": "yes"})
    return Worker.objects.get(run=run, external_id=worker_id)


def situation(words: int) -> str:
    return " ".join(f"word{i}" for i in range(words))


def pre_chat_answers(**overrides: Any) -> dict[str, Any]:
    answers = {
        "problem_type": "job crisis",
        "emotion_type": "anxiety",
        "initial_emotion_intensity": "4",
        "situation": situation(30),
        "experience_type": "Current Experience",
    }
    answers.update(overrides)
    return answers


def fill_pre_chat(client: Client, **overrides: Any) -> Any:
    return client.post("/surveys/pre-chat/", pre_chat_answers(**overrides))


def qualify(supporter: Worker) -> Worker:
    Worker.objects.filter(pk=supporter.pk).update(qualification=Worker.Qualification.QUALIFIED)
    supporter.refresh_from_db()
    return crowd_services.enter_waiting_room(supporter)


def seeker_and_supporter(
    run: CollectionRun,
    seeker_client: Client,
    supporter_client: Client,
    seeker_pid: str,
    supporter_pid: str,
) -> Conversation:
    """Both arrive, the seeker fills the survey, the supporter qualifies, and they are matched."""
    seeker = arrive(seeker_client, run, "seeker", seeker_pid)
    assert fill_pre_chat(seeker_client).status_code == 302
    supporter = arrive(supporter_client, run, "supporter", supporter_pid)
    qualify(supporter)
    assert matching.match_waiting_workers(run) == 1
    return Conversation.objects.get(seeker=seeker, supporter=supporter)


def end(conversation: Conversation, worker: Worker, reason: str) -> None:
    endings.end_conversation(conversation.pk, worker.pk, reason=reason)


def seeker_post_answers(**overrides: Any) -> dict[str, Any]:
    answers = {
        "ended_naturally": "yes",
        "final_emotion_intensity": "2",
        "empathy": "5",
        "relevance": "4",
        "question1": "They listened well.",
        "question2": "Nothing.",
        "email": "alice@example.org",
    }
    answers.update(overrides)
    return answers


def supporter_post_answers(**overrides: Any) -> dict[str, Any]:
    answers = {"seeker_detail": "4", "question1": "A clear story.", "question2": "More time."}
    answers.update(overrides)
    return answers
