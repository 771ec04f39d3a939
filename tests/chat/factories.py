"""Conversations built through the chat services, in the shapes the live chat makes.

A pair is matched by `chat.matching.match_waiting_workers` from a seeker who filled the
pre-chat survey (tests/surveys/factories.py) and a supporter who passed the training
(tests/tutorial/factories.py). Every message goes through `chat.messages.post_message` (so
positions, turn counters, last_seq and feedback prompts are the live ones), every rating through
`chat.messages.answer_feedback` (the score lands on the seeker's next utterance), every ending
through `chat.endings` (end reason, both workers' status codes and stages), and the post-chat
surveys through the survey services.

The one thing not done through a service is the clock: `set_times` moves a conversation's
timestamps after it was built, for a test about a chat of a given length or silence.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.test import Client
from django.utils import timezone

from chat import endings, matching, messages
from chat.messages import MessageResult
from chat.models import Conversation
from crowd import vocabulary
from crowd.models import CollectionRun, Worker
from tests.cast import ALICE, BOB, Actor
from tests.crowd.factories import make_run
from tests.surveys.factories import (
    submit_seeker_post_chat,
    submit_supporter_post_chat,
    waiting_seeker,
)
from tests.tutorial.factories import trained_supporter

_message_ids = itertools.count(1)


@dataclass
class Pair:
    run: CollectionRun
    seeker: Worker
    supporter: Worker
    conversation: Conversation

    def refresh(self) -> Pair:
        for row in (self.seeker, self.supporter, self.conversation):
            row.refresh_from_db()
        return self


def match(run: CollectionRun) -> int:
    """One poll of the matcher: how many conversations it started."""
    return matching.match_waiting_workers(run)


def make_pair(
    run: CollectionRun | None = None,
    *,
    seeker: Actor = ALICE,
    supporter: Actor = BOB,
    seeker_client: Client | None = None,
    supporter_client: Client | None = None,
    pre_chat: Mapping[str, Any] | None = None,
    **run_settings: Any,
) -> Pair:
    """Alice (or `seeker`) fills the pre-chat survey, Bob (or `supporter`) passes the training,
    and the matcher pairs them.

    Without `run`, a run of their own is made with `run_settings` (the model's defaults
    otherwise). With clients, both arrive through the pages in those browsers.
    """
    if run is None:
        run = make_run(**run_settings)
    elif run_settings:
        raise ValueError("run settings are for a new run; this run already exists")
    seeker_worker = waiting_seeker(seeker, run, client=seeker_client, **(pre_chat or {}))
    supporter_worker = trained_supporter(supporter, run, client=supporter_client)
    assert match(run) == 1
    conversation = Conversation.objects.select_related("run").get(seeker=seeker_worker)
    assert conversation.supporter_id == supporter_worker.pk, "someone else was waiting first"
    pair = Pair(run, seeker_worker, supporter_worker, conversation)
    return pair.refresh()


def _conversation_id(target: Pair | Conversation) -> int:
    return target.conversation.pk if isinstance(target, Pair) else target.pk


def say(
    target: Pair | Conversation,
    worker: Worker,
    text: str,
    *,
    strategy: str | None = None,
    client_id: str | None = None,
) -> MessageResult:
    """One message from the worker, through the message service (a supporter names a strategy)."""
    if worker.is_supporter and strategy is None:
        strategy = "Question"
    return messages.post_message(
        _conversation_id(target),
        worker.pk,
        client_id=client_id or f"m-{next(_message_ids)}",
        text=text,
        strategy=strategy,
    )


def rate(target: Pair | Conversation, seeker: Worker, score: int) -> dict[str, Any]:
    """The seeker answers the open feedback prompt; the score goes on her next utterance."""
    conversation = Conversation.objects.get(pk=_conversation_id(target))
    prompt = conversation.pending_feedback_prompt
    if prompt is None:
        raise ValueError(
            "no feedback prompt is open here: the run asks after every "
            f"{conversation.run.feedback_every} supporter message(s)"
        )
    return messages.answer_feedback(conversation.pk, seeker.pk, prompt=prompt, score=score)


def words(n: int) -> str:
    return " ".join(["word"] * n)


def talk(pair: Pair, count: int, *, strategy: str = "Question") -> None:
    """`count` messages taking turns, the seeker first: "message 0", "message 1", ..."""
    for i in range(count):
        worker = pair.seeker if i % 2 == 0 else pair.supporter
        say(pair, worker, f"message {i}", strategy=strategy if worker.is_supporter else None)


def converse(
    pair: Pair,
    *,
    seeker_words: Sequence[int],
    supporter_words: Sequence[int],
    strategy: str | Sequence[str] = "Question",
    feedback: Mapping[int, int] | None = None,
    supporter_texts: Mapping[int, str] | None = None,
) -> None:
    """Alternate seeker and supporter, the seeker first, until both lists are used up.

    Seeker line i has seeker_words[i] words and a newline, as typed; supporter line j has
    supporter_words[j] words (or supporter_texts[j]) and `strategy` (or strategy[j]).
    feedback[i] is the score the seeker gives on the prompt open before her line i, so it is
    stored on that line.
    """
    feedback = feedback or {}
    supporter_texts = supporter_texts or {}
    strategies = [strategy] * len(supporter_words) if isinstance(strategy, str) else strategy
    if len(seeker_words) - len(supporter_words) not in (0, 1):
        raise ValueError("the seeker starts and they take turns: one more seeker line at most")
    if len(strategies) != len(supporter_words):
        raise ValueError("one strategy per supporter line")
    for i in range(len(seeker_words)):
        if i in feedback:
            rate(pair, pair.seeker, feedback[i])
        say(pair, pair.seeker, words(seeker_words[i]) + "\n")
        if i < len(supporter_words):
            text = supporter_texts.get(i, words(supporter_words[i]))
            say(pair, pair.supporter, text, strategy=strategies[i])


# An end reason → who asks for it, and how (chat.endings.REQUESTABLE).
END_REQUESTS: dict[str, tuple[str, str]] = {
    Conversation.EndReason.FINISHED: (vocabulary.SEEKER, "finished"),
    Conversation.EndReason.SEEKER_LEFT: (vocabulary.SEEKER, "leave"),
    Conversation.EndReason.SUPPORTER_LEFT: (vocabulary.SUPPORTER, "leave"),
    # The seeker reports that her supporter went silent.
    Conversation.EndReason.PARTNER_UNRESPONSIVE: (vocabulary.SEEKER, "partner_unresponsive"),
}


def end(target: Pair | Conversation, worker: Worker, reason: str) -> dict[str, Any]:
    """The worker ends the chat as the end frame asks (finished, leave, partner_unresponsive)."""
    return endings.end_conversation(_conversation_id(target), worker.pk, reason=reason)


def end_as(pair: Pair, end_reason: str) -> None:
    """End the chat so that it gets this end reason, the way the live chat gives it."""
    if end_reason == Conversation.EndReason.ABANDONED:
        # Nobody wrote for the run's abandon limit: moved back in time, then the periodic sweep.
        silent = timezone.now() - timedelta(seconds=pair.run.abandon_after_seconds + 60)
        moments = {"started_at": silent}
        for field in ("seeker_last_message_at", "supporter_last_message_at"):
            if getattr(pair.conversation, field) is not None:
                moments[field] = silent
        set_times(pair.conversation, **moments)
        assert endings.end_abandoned_conversations() >= 1
    else:
        role, reason = END_REQUESTS[end_reason]
        end(pair, pair.seeker if role == vocabulary.SEEKER else pair.supporter, reason)
    pair.refresh()
    assert pair.conversation.end_reason == end_reason


def post_chat_surveys(
    pair: Pair,
    *,
    seeker: Mapping[str, Any] | None = None,
    supporter: Mapping[str, Any] | None = None,
) -> None:
    """Each worker the ending sent to the post-chat survey answers it (None: they skip it)."""
    pair.refresh()
    for worker, answers in ((pair.seeker, seeker), (pair.supporter, supporter)):
        if answers is not None and worker.stage != Worker.Stage.POST_SURVEY:
            raise ValueError(
                f"the {worker.role} is not asked a post-chat survey after "
                f"{pair.conversation.end_reason!r}"
            )
    if seeker is not None:
        submit_seeker_post_chat(pair.seeker, **seeker)
    if supporter is not None:
        submit_supporter_post_chat(pair.supporter, **supporter)
    pair.refresh()


def set_times(conversation: Conversation, **moments: datetime | None) -> None:
    """Move a conversation's clock (started_at, ended_at, *_last_message_at) after building it.

    Not a service: the only way a test gets a chat twenty minutes long, or a silent partner,
    without waiting for it. Only the named timestamps change.
    """
    allowed = {"started_at", "ended_at", "seeker_last_message_at", "supporter_last_message_at"}
    if not set(moments) <= allowed:
        raise ValueError(f"only {sorted(allowed)} can be moved")
    Conversation.objects.filter(pk=conversation.pk).update(**moments)
    conversation.refresh_from_db()
