"""Conversations for the quality tests, built through the services in the live chat's shapes.

`make_conversation` takes a seeker and a supporter through the real journey (entry link, consent,
pre-chat survey, the training quiz, matching: tests/chat/factories.py), then they write through
`chat.messages` alternately, the seeker first: seeker line i has `seeker_words[i]` words and
supporter line j `supporter_words[j]` words, so a test can put an average exactly at, just below
or just above a threshold. `feedback` scores are given on the prompts before the last seeker
lines (`chat.messages.answer_feedback`: each lands on the next seeker utterance), the chat ends
through `chat.endings` with `end_reason`, and whoever the ending sends to the post-chat survey
answers it through the survey services (a worker sent straight to the status page answers none).

Shapes only an import makes (`end_reason="imported"`: no workers, a missing intensity or survey
score, a status set by the import) go through `chat.dataset.importing.import_esconv_file`
with a one-record ESConv file of the same dialog.

Workers are outside the story unless a test names them (`seeker=CAROL, supporter=DAVE`).
"""

from __future__ import annotations

import itertools
import json
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from django.db import transaction

from chat.dataset.importing import import_esconv_file
from chat.models import Conversation
from crowd import vocabulary
from crowd.models import CollectionRun, Worker
from tests.cast import Actor, extra
from tests.chat.factories import converse, end_as, make_pair, post_chat_surveys, words
from tests.crowd.factories import quick_run
from tests.surveys.factories import SITUATION
from tests.tutorial.factories import load_content

_ids = itertools.count(1)


def quality_run(name: str = "quality") -> CollectionRun:
    """The run of these conversations: chats may end at once, and every supporter message asks
    for feedback (so a score can sit on any seeker line but the first)."""
    return CollectionRun.objects.filter(name=name).first() or quick_run(name, feedback_every=1)


def _lengths(value: Sequence[int] | int, count: int, who: str) -> list[int]:
    lengths = [value] * count if isinstance(value, int) else list(value)
    if len(lengths) != count:
        raise ValueError(f"{count} {who} utterances need {count} lengths, not {len(lengths)}")
    return lengths


def _strategies(strategy: Sequence[str] | str, count: int) -> list[str]:
    return [strategy] * count if isinstance(strategy, str) else list(strategy)


def make_conversation(**kwargs: Any) -> Conversation:
    """A conversation alternating seeker and supporter, the seeker first (see _build).

    Built in one transaction: the services' own transactions become savepoints, so a test
    with committed data (transaction=True) pays one commit per conversation, not fifty.
    """
    with transaction.atomic():
        return _build(**kwargs)


def _build(
    *,
    utterances: int = 16,
    seeker_words: Sequence[int] | int = 6,
    supporter_words: Sequence[int] | int = 8,
    end_reason: str = Conversation.EndReason.FINISHED,
    state: str = Conversation.State.ENDED,
    initial: int | None = 4,
    final: int | None = 3,
    empathy: int | None = 3,
    relevance: int | None = 4,
    seeker_survey: bool = True,
    seeker_detail: int | None = 4,
    feedback: Sequence[int] = (),
    strategy: Sequence[str] | str = "Question",
    status: str = Conversation.QualityStatus.PENDING,
    copies_example: bool = False,
    run: CollectionRun | None = None,
    seeker: Actor | None = None,
    supporter: Actor | None = None,
) -> Conversation:
    """A conversation alternating seeker and supporter, the seeker first. `feedback` scores go
    on the last seeker utterances, in order; `copies_example`: the last supporter line copies a
    tutorial example (the chat flags it). With the defaults every approval criterion is exactly
    at its threshold."""
    n_seeker, n_supporter = (utterances + 1) // 2, utterances // 2
    seeker_lengths = _lengths(seeker_words, n_seeker, "seeker")
    supporter_lengths = _lengths(supporter_words, n_supporter, "supporter")
    strategies = _strategies(strategy, n_supporter)
    scores = dict(enumerate(feedback, start=n_seeker - len(feedback)))
    if end_reason == Conversation.EndReason.IMPORTED:
        if copies_example or seeker or supporter or state != Conversation.State.ENDED:
            raise ValueError("an imported conversation has no workers, flags or live state")
        return _imported(
            seeker_lengths,
            supporter_lengths,
            strategies,
            scores,
            scores_of_seeker={
                "initial_emotion_intensity": initial,
                **(
                    {"empathy": empathy, "relevance": relevance, "final_emotion_intensity": final}
                    if seeker_survey
                    else {}
                ),
            },
            seeker_detail=seeker_detail,
            status=status,
            run=run,
        )
    live_only = {"initial": initial} | (
        {"final": final, "empathy": empathy, "relevance": relevance} if seeker_survey else {}
    )
    if None in live_only.values():
        missing = [name for name, value in live_only.items() if value is None]
        raise ValueError(f"the live forms require {missing}: only imports lack them")
    if status != Conversation.QualityStatus.PENDING:
        raise ValueError("a live conversation starts pending; judge or review it to change that")
    number = next(_ids)
    pair = make_pair(
        run or quality_run(),
        seeker=seeker or extra(vocabulary.SEEKER, number),
        supporter=supporter or extra(vocabulary.SUPPORTER, number),
        pre_chat={"initial_emotion_intensity": initial},
    )
    copied = {n_supporter - 1: _a_tutorial_example()} if copies_example else {}
    converse(
        pair,
        seeker_words=seeker_lengths,
        supporter_words=supporter_lengths,
        strategy=strategies,
        feedback=scores,
        supporter_texts=copied,
    )
    if state == Conversation.State.ACTIVE:
        if end_reason:
            raise ValueError("an active conversation has no end reason yet")
        return pair.conversation
    end_as(pair, end_reason)
    pair.refresh()
    seeker_answers = (
        {"final_emotion_intensity": final, "empathy": empathy, "relevance": relevance}
        if seeker_survey
        else None
    )
    supporter_answers = {"seeker_detail": seeker_detail} if seeker_detail is not None else None
    post_chat_surveys(
        pair,
        seeker=seeker_answers if pair.seeker.stage == Worker.Stage.POST_SURVEY else None,
        supporter=supporter_answers if pair.supporter.stage == Worker.Stage.POST_SURVEY else None,
    )
    pair.conversation.refresh_from_db()
    return pair.conversation


def _a_tutorial_example() -> str:
    """A supporter example of the tutorial the supporter was trained on, word for word."""
    longest = max(load_content(), key=lambda subtask: len(subtask.example_supporter.split()))
    return longest.example_supporter


def _imported(
    seeker_lengths: list[int],
    supporter_lengths: list[int],
    strategies: list[str],
    scores: dict[int, int],
    *,
    scores_of_seeker: dict[str, int | None],
    seeker_detail: int | None,
    status: str,
    run: CollectionRun | None,
) -> Conversation:
    """The same dialog as a one-record raw ESConv file, imported like a released dataset."""
    # A unique situation: the import skips a record it already holds (same fingerprint).
    situation = f"{SITUATION} (record {next(_ids)})"
    record = esconv_record(
        situation,
        seeker_lengths=seeker_lengths,
        supporter_lengths=supporter_lengths,
        strategies=strategies,
        feedback=scores,
        seeker_scores=scores_of_seeker,
        seeker_detail=seeker_detail,
    )
    import_records([record], status=status, run_name=run.name if run else None)
    return Conversation.objects.get(situation=situation)


# Every auto-approval criterion exactly at its threshold (docs/quality.md), as _build's defaults.
AT_THRESHOLDS: dict[str, int | None] = {
    "initial_emotion_intensity": 4,
    "empathy": 3,
    "relevance": 4,
    "final_emotion_intensity": 3,
}


def esconv_record(
    situation: str,
    *,
    seeker_lengths: Sequence[int] = (6,) * 8,
    supporter_lengths: Sequence[int] = (8,) * 8,
    strategies: Sequence[str] = ("Question",) * 8,
    feedback: Mapping[int, int] | None = None,
    seeker_scores: Mapping[str, int | None] = AT_THRESHOLDS,
    seeker_detail: int | None = 4,
) -> dict[str, Any]:
    """A raw ESConv record (docs/dataset.md), seeker first, lines of the given word counts.

    `feedback` maps a seeker line's index to the score it carries; a score that is None is left
    out, as a survey never answered is. The defaults are at every approval threshold.
    """
    scores = feedback or {}
    dialog: list[dict[str, Any]] = []
    for i, length in enumerate(seeker_lengths):
        annotation = {"feedback": str(scores[i])} if i in scores else {}
        dialog.append(
            {"speaker": "seeker", "annotation": annotation, "content": words(length) + "\n"}
        )
        if i < len(supporter_lengths):
            dialog.append(
                {
                    "speaker": "supporter",
                    "annotation": {"strategy": strategies[i]},
                    "content": words(supporter_lengths[i]),
                }
            )
    return {
        "experience_type": "Current Experience",
        "emotion_type": "anxiety",
        "problem_type": "job crisis",
        "situation": situation,
        "survey_score": {
            "seeker": {
                key: str(value) for key, value in seeker_scores.items() if value is not None
            },
            "supporter": {"relevance": str(seeker_detail)} if seeker_detail is not None else {},
        },
        "dialog": dialog,
        "seeker_question1": "",
        "seeker_question2": "",
        "supporter_question1": "",
        "supporter_question2": "",
    }


def import_records(
    records: list[dict[str, Any]], *, status: str, run_name: str | None = None
) -> None:
    """Import raw ESConv records in one file, as a released dataset is; each must be imported."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "records.json"
        path.write_text(json.dumps(records), encoding="utf-8")
        result = import_esconv_file(path, status=status, run_name=run_name)
    assert result.imported == len(records), result


def averaging(target_total: int, count: int) -> list[int]:
    """`count` lengths summing to `target_total`, as even as possible."""
    base, extra_words = divmod(target_total, count)
    return [base + 1] * extra_words + [base] * (count - extra_words)
