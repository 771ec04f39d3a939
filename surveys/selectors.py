"""Reads for the surveys: which conversation a worker's post-chat survey is about, and which
of its questions fit how that conversation went."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from chat.models import Conversation, Utterance
from crowd import vocabulary
from crowd.models import Worker

# The scored answers of each side's post-chat survey; the open answers are always asked.
SEEKER_SCORED = ("ended_naturally", "final_emotion_intensity", "empathy", "relevance")
SUPPORTER_SCORED = ("seeker_detail",)


def conversation_for_post_survey(worker: Worker) -> Conversation | None:
    """The worker's most recent ended conversation, or None.

    Always found from the session's own worker: no id from the browser is ever trusted, so a
    worker can only reach the survey of a conversation they took part in.
    """
    return (
        Conversation.objects.filter(Q(seeker=worker) | Q(supporter=worker))
        .filter(state=Conversation.State.ENDED)
        .order_by("-ended_at", "-pk")
        .first()
    )


@dataclass(frozen=True)
class PostChatQuestions:
    """What one side of an ended conversation is asked after it (docs/workers.md).

    Nobody rates a partner who wrote nothing, and the seeker is asked whether the chat ended
    naturally only when she ended it after the minimum (`finished`).
    """

    role: str
    end_reason: str
    partner_utterances: int

    @property
    def finished(self) -> bool:
        return self.end_reason == Conversation.EndReason.FINISHED

    @property
    def partner_wrote(self) -> bool:
        return self.partner_utterances > 0

    @property
    def asked(self) -> tuple[str, ...]:
        """The scored questions put to this side, in the order of the page."""
        if self.role == vocabulary.SUPPORTER:
            return SUPPORTER_SCORED if self.partner_wrote else ()
        names = ["final_emotion_intensity"]
        if self.finished:
            names.insert(0, "ended_naturally")
        if self.partner_wrote:
            names += ["empathy", "relevance"]
        return tuple(names)

    @property
    def not_asked(self) -> tuple[str, ...]:
        """The scored answers stored as null: the question did not fit this conversation."""
        scored = SUPPORTER_SCORED if self.role == vocabulary.SUPPORTER else SEEKER_SCORED
        return tuple(name for name in scored if name not in self.asked)


def post_chat_questions(conversation: Conversation, role: str) -> PostChatQuestions:
    """The questions for the seeker or the supporter of this conversation, from what was said."""
    if role not in (vocabulary.SEEKER, vocabulary.SUPPORTER):
        raise ValueError(f"a post-chat survey is for the seeker or the supporter, not {role!r}")
    partner = vocabulary.SUPPORTER if role == vocabulary.SEEKER else vocabulary.SEEKER
    written = Utterance.objects.filter(conversation=conversation, speaker=partner).count()
    return PostChatQuestions(role, conversation.end_reason, written)
