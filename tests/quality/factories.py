"""Hand-made conversations for the quality tests, built directly with the ORM models.

Every seeker utterance has `seeker_words[i]` words and every supporter utterance
`supporter_words[i]` words, so a test can put an average exactly at, just below or just
above a threshold.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from django.contrib.auth.models import User

from chat.models import Conversation, Utterance
from crowd import vocabulary
from crowd.models import CollectionRun, Worker
from surveys.models import SeekerPostChatSurvey, SupporterPostChatSurvey

_ids = itertools.count(1)

SURVEY = object()  # sentinel: "the default full survey"


def words(n: int) -> str:
    return " ".join(["word"] * n)


def make_worker(role: str, *, qualified: bool = False, name: str = "") -> Worker:
    return Worker.objects.create(
        run=CollectionRun.get_default(),
        role=role,
        provider=Worker.Provider.PROLIFIC,
        external_id=name or f"w{next(_ids)}",
        qualification=(
            Worker.Qualification.QUALIFIED if qualified else Worker.Qualification.NOT_APPLICABLE
        ),
    )


def make_staff(name: str) -> User:
    return User.objects.create_user(name, password="pw-" + name, is_staff=True)


def make_conversation(
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
    strategy: str = "Question",
    status: str = Conversation.QualityStatus.PENDING,
) -> Conversation:
    """A conversation alternating seeker, supporter (seeker first). `feedback` scores go on the
    last seeker utterances, in order."""
    conversation = Conversation.objects.create(
        run=CollectionRun.get_default(),
        experience_type="Current Experience",
        emotion_type="anxiety",
        problem_type="job crisis",
        situation="I am afraid of losing my job.",
        initial_emotion_intensity=initial,
        state=state,
        end_reason=end_reason,
        quality_status=status,
    )
    n_seeker = (utterances + 1) // 2
    n_supporter = utterances // 2
    seeker_lengths = (
        [seeker_words] * n_seeker if isinstance(seeker_words, int) else list(seeker_words)
    )
    supporter_lengths = (
        [supporter_words] * n_supporter
        if isinstance(supporter_words, int)
        else list(supporter_words)
    )
    assert len(seeker_lengths) == n_seeker and len(supporter_lengths) == n_supporter
    scores: list[int | None] = [None] * (n_seeker - len(feedback)) + list(feedback)
    rows = []
    for position in range(utterances):
        if position % 2 == 0:
            i = position // 2
            rows.append(
                Utterance(
                    conversation=conversation,
                    position=position,
                    speaker=vocabulary.SEEKER,
                    text=words(seeker_lengths[i]) + "\n",
                    feedback=scores[i],
                )
            )
        else:
            rows.append(
                Utterance(
                    conversation=conversation,
                    position=position,
                    speaker=vocabulary.SUPPORTER,
                    text=words(supporter_lengths[position // 2]),
                    strategy=strategy,
                )
            )
    Utterance.objects.bulk_create(rows)
    if seeker_survey:
        SeekerPostChatSurvey.objects.create(
            conversation=conversation,
            final_emotion_intensity=final,
            empathy=empathy,
            relevance=relevance,
        )
    if seeker_detail is not None:
        SupporterPostChatSurvey.objects.create(
            conversation=conversation, seeker_detail=seeker_detail
        )
    return conversation


def averaging(target_total: int, count: int) -> list[int]:
    """`count` lengths summing to `target_total`, as even as possible."""
    base, extra = divmod(target_total, count)
    return [base + 1] * extra + [base] * (count - extra)
