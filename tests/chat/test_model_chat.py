"""A seeker of an evaluation run chats with two models in turn over the real websocket: the
reference HTTP server and the built-in retrieval, in a drawn order, then compares them; a
failing model gets "one moment", more tries, then a fair end (02); model chats never enter
the human dataset or quality control."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from chat import endings
from chat.dataset.exporting import exportable_conversations
from chat.models import Conversation, Utterance
from crowd import vocabulary
from crowd.models import Worker
from crowd.services import EntryLinkError
from evaluation import flow
from evaluation.models import Comparison, Evaluation, EvaluationLeg, SupporterBackend
from quality.judging import judgeable_conversations
from tests.cast import ALICE, BOB
from tests.chat.factories import set_times
from tests.chat.sockets import adb, join, receive_until
from tests.crowd.factories import enter, make_run, session_cookie, session_key
from tests.evaluation.factories import reference_server, retrieval_source
from tests.surveys.factories import submit_pre_chat

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

STRATEGIES = {s.name for s in vocabulary.STRATEGIES}


@pytest.fixture
def reference_url() -> Iterator[str]:
    with reference_server() as url:
        yield url


def _evaluation(url: str, turns: int = 2, attempts: int = 2) -> Evaluation:
    """An evaluation run of the reference server (A) and retrieval over approved chats (B)."""
    source = retrieval_source(("Question", "Reflection of feelings"))
    a = SupporterBackend.objects.create(name="reference", kind="http", url=url, timeout_seconds=2)
    b = SupporterBackend.objects.create(name="retrieval", kind="retrieval", source_run=source)
    return Evaluation.objects.create(
        run=make_run(),
        backend_a=a,
        backend_b=b,
        turns=turns,
        typing_chars_per_second=10_000,
        max_reply_seconds=0,
        attempts=attempts,
    )


def _seeker(evaluation: Evaluation) -> Worker:
    worker = enter(ALICE, evaluation.run)
    submit_pre_chat(worker)
    worker.refresh_from_db()
    return worker


async def _leg(worker: Worker, order: int) -> EvaluationLeg:
    return await adb(EvaluationLeg.objects.select_related("conversation").get)(
        session__worker=worker, order=order
    )


async def _chat(worker: Worker, leg: EvaluationLeg, turns: int) -> list[dict[str, Any]]:
    """The seeker writes, the model answers, `turns` times; the ended frame comes last."""
    socket, hello = await join(await adb(session_cookie)(worker), leg.conversation_id)
    assert hello["role"] == "seeker"
    replies = []
    for turn in range(turns):
        text = f"I have been so worried about my job, turn {turn}, and I cannot sleep at night"
        await socket.send_json_to({"type": "message", "id": f"s-{leg.order}-{turn}", "text": text})
        await receive_until(socket, "ack")
        reply, _ = await receive_until(socket, "message", timeout=10)
        while reply["speaker"] != "supporter":
            reply, _ = await receive_until(socket, "message", timeout=10)
        replies.append(reply)
    ended, _ = await receive_until(socket, "ended", timeout=5)
    await socket.disconnect()
    return [*replies, ended]


async def test_a_seeker_chats_with_both_models_then_compares_them(
    reference_url: str, channel_layer: str
) -> None:
    evaluation = await adb(_evaluation)(reference_url)
    worker = await adb(_seeker)(evaluation)
    assert worker.stage == Worker.Stage.CHATTING

    first = await _leg(worker, 1)
    *replies, ended = await _chat(worker, first, 2)
    # The seeker is never shown the strategy; it is stored with the reply.
    assert all("strategy" not in r and r["text"].strip() for r in replies)
    assert ended["reason"] == "evaluated" and ended["next_url"] == "/chat/room/"

    second = await _leg(worker, 2)
    assert {first.slot, second.slot} == {"a", "b"}
    assert second.backend_id != first.backend_id
    *replies, ended = await _chat(worker, second, 2)
    assert ended["next_url"] == "/evaluate/compare/"

    stored = await adb(list)(
        Utterance.objects.filter(conversation__evaluation_leg__session__worker=worker)
        .order_by("conversation_id", "position")
        .values_list("speaker", "client_message_id", "strategy")
    )
    assert [s for s, _, _ in stored] == ["seeker", "supporter"] * 4
    assert [c for s, c, _ in stored if s == "supporter"][:2] == ["model-1", "model-3"]
    assert all(g in STRATEGIES for s, _, g in stored if s == "supporter")

    # The seeker answers by chat (first / second); the answers are stored by backend.
    client = Client()
    client.cookies["sessionid"] = await adb(session_key)(worker)
    answers = dict.fromkeys(("fluency", "identification", "comforting"), "first")
    answers |= {"suggestion": "second", "overall": "tie"}
    page = await adb(client.get)("/evaluate/compare/")
    assert page.status_code == 200 and b"Compare the two conversations" in page.content
    done = await adb(client.post)("/evaluate/compare/", answers)
    assert done.status_code == 302 and done["Location"] == "/done/"
    comparison = await adb(Comparison.objects.get)(session__worker=worker)
    assert comparison.fluency == first.slot and comparison.suggestion == second.slot
    assert comparison.overall == "tie"
    worker = await adb(Worker.objects.get)(pk=worker.pk)
    assert (worker.stage, worker.status_code) == (Worker.Stage.DONE, "03")


async def test_a_failing_model_gets_one_moment_then_a_fair_end(
    reference_url: str, channel_layer: str
) -> None:
    evaluation = await adb(_evaluation)(reference_url)
    await adb(SupporterBackend.objects.filter(name="reference").update)(
        url="http://127.0.0.1:9/reply"  # nothing listens on the discard port
    )
    await adb(SupporterBackend.objects.filter(name="retrieval").update)(
        kind="http", url="http://127.0.0.1:9/reply"
    )
    worker = await adb(_seeker)(evaluation)
    leg = await _leg(worker, 1)
    socket, _ = await join(await adb(session_cookie)(worker), leg.conversation_id)
    await socket.send_json_to({"type": "message", "id": "s-1", "text": "Is anyone there?"})
    warning, _ = await receive_until(socket, "warning", timeout=5)
    assert warning["code"] == "supporter_delayed"
    ended, _ = await receive_until(socket, "ended", timeout=10)
    assert ended["reason"] == "backend_failed" and ended["next_url"] == "/done/"
    await socket.disconnect()
    worker = await adb(Worker.objects.get)(pk=worker.pk)
    assert (worker.stage, worker.status_code) == (Worker.Stage.DONE, "02")
    leg = await _leg(worker, 1)
    assert leg.failures == 2 and leg.replies == 0
    assert not await adb(EvaluationLeg.objects.filter(session__worker=worker, order=2).exists)()


async def test_a_newer_seeker_message_gets_the_one_reply(reference_url: str) -> None:
    evaluation = await adb(_evaluation)(reference_url, turns=3)
    worker = await adb(_seeker)(evaluation)
    leg = await _leg(worker, 1)
    socket, _ = await join(await adb(session_cookie)(worker), leg.conversation_id)
    for n, text in enumerate(("I lost my job.", "And my partner left me last week.")):
        await socket.send_json_to({"type": "message", "id": f"s-{n}", "text": text})
        await receive_until(socket, "ack")
    reply, _ = await receive_until(socket, "message", timeout=10)
    while reply["speaker"] != "supporter":
        reply, _ = await receive_until(socket, "message", timeout=10)
    assert reply["seq"] == 3
    await socket.disconnect()
    speakers = await adb(list)(
        Utterance.objects.filter(conversation_id=leg.conversation_id)
        .order_by("position")
        .values_list("speaker", "client_message_id")
    )
    assert speakers == [("seeker", "s-0"), ("seeker", "s-1"), ("supporter", "model-2")]


async def test_model_chats_stay_out_of_the_dataset_and_quality_control(
    reference_url: str,
) -> None:
    evaluation = await adb(_evaluation)(reference_url, turns=1)
    worker = await adb(_seeker)(evaluation)
    await _chat(worker, await _leg(worker, 1), 1)
    await _chat(worker, await _leg(worker, 2), 1)
    legs = await adb(list)(
        Conversation.objects.filter(evaluation_leg__session__worker=worker).values_list(
            "pk", "state"
        )
    )
    assert [state for _, state in legs] == ["ended", "ended"]
    ids = [pk for pk, _ in legs]
    assert not await adb(exportable_conversations(status="all").filter(pk__in=ids).exists)()
    assert not await adb(judgeable_conversations().filter(pk__in=ids).exists)()


async def test_an_evaluation_takes_no_supporters(reference_url: str) -> None:
    evaluation = await adb(_evaluation)(reference_url)
    with pytest.raises(EntryLinkError, match="help-seeker only"):
        await adb(enter)(BOB, evaluation.run)
    assert await adb(flow.evaluation_of)(evaluation.run) == evaluation


async def test_a_seeker_who_walks_away_from_a_model_is_released_with_01(
    reference_url: str,
) -> None:
    evaluation = await adb(_evaluation)(reference_url)
    worker = await adb(_seeker)(evaluation)
    leg = await _leg(worker, 1)
    long_ago = timezone.now() - timedelta(seconds=evaluation.run.abandon_after_seconds + 60)
    await adb(set_times)(leg.conversation, started_at=long_ago)
    assert await adb(endings.end_abandoned_conversations)() == 1
    worker = await adb(Worker.objects.get)(pk=worker.pk)
    assert (worker.stage, worker.status_code) == (Worker.Stage.DONE, "01")
    conversation = await adb(Conversation.objects.get)(pk=leg.conversation_id)
    assert conversation.end_reason == "abandoned"
    assert not await adb(EvaluationLeg.objects.filter(session__worker=worker, order=2).exists)()
