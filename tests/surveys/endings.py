"""The ways a chat ends that send a worker to the post-chat survey, built through the chat
services (tests/chat/factories.py), with what each ending's survey asks (docs/workers.md)."""

from __future__ import annotations

from dataclasses import dataclass

from django.test import Client

from crowd import vocabulary
from tests.chat.factories import Pair, end, make_pair, say
from tests.crowd.factories import quick_run

SEEKER, SUPPORTER = vocabulary.SEEKER, vocabulary.SUPPORTER
SILENT_SUPPORTER = "Your supporter did not write anything, so we do not ask you to rate them."
SILENT_SEEKER = "The help-seeker did not write anything, so we do not ask you to rate them."
# What the chat told each side (chat/frames.py), said again above the survey.
SUPPORTER_LEFT = "Your supporter left the conversation. This is not your fault"
SEEKER_LEFT = "The help-seeker left the conversation. This is not your fault"
REPORTED = "You told us your partner stopped responding, so the conversation has ended."


@dataclass(frozen=True)
class Ending:
    """One way a chat ends, seen by the worker it sends to the post-chat survey."""

    name: str
    seeker_wrote: bool
    supporter_wrote: bool
    ended_by: str  # who sends the end frame
    reason: str  # the end frame's reason
    answers: str  # the role whose survey this is
    asked: tuple[str, ...]  # the scored questions on that page
    notice: str  # how the ending is said on the page ("" after `finished`)

    def __str__(self) -> str:
        return self.name


ENDINGS = [
    Ending(
        "finished-seeker",
        True,
        True,
        SEEKER,
        "finished",
        SEEKER,
        ("ended_naturally", "final_emotion_intensity", "empathy", "relevance"),
        "",
    ),
    Ending("finished-supporter", True, True, SEEKER, "finished", SUPPORTER, ("seeker_detail",), ""),
    Ending(
        "finished-silent-supporter",
        True,
        False,
        SEEKER,
        "finished",
        SEEKER,
        ("ended_naturally", "final_emotion_intensity"),
        SILENT_SUPPORTER,
    ),
    Ending(
        "supporter-left",
        True,
        True,
        SUPPORTER,
        "leave",
        SEEKER,
        ("final_emotion_intensity", "empathy", "relevance"),
        SUPPORTER_LEFT,
    ),
    Ending(
        "supporter-left-before-writing",
        True,
        False,
        SUPPORTER,
        "leave",
        SEEKER,
        ("final_emotion_intensity",),
        SUPPORTER_LEFT,
    ),
    Ending("seeker-left", True, True, SEEKER, "leave", SUPPORTER, ("seeker_detail",), SEEKER_LEFT),
    Ending("seeker-left-before-writing", False, True, SEEKER, "leave", SUPPORTER, (), SEEKER_LEFT),
    Ending(
        "seeker-reports-supporter-silent",
        True,
        True,
        SEEKER,
        "partner_unresponsive",
        SEEKER,
        ("final_emotion_intensity", "empathy", "relevance"),
        REPORTED,
    ),
    Ending(
        "seeker-reports-supporter-who-never-wrote",
        True,
        False,
        SEEKER,
        "partner_unresponsive",
        SEEKER,
        ("final_emotion_intensity",),
        REPORTED,
    ),
    Ending(
        "supporter-reports-seeker-silent",
        True,
        True,
        SUPPORTER,
        "partner_unresponsive",
        SUPPORTER,
        ("seeker_detail",),
        REPORTED,
    ),
    Ending(
        "supporter-reports-seeker-who-never-wrote",
        False,
        True,
        SUPPORTER,
        "partner_unresponsive",
        SUPPORTER,
        (),
        REPORTED,
    ),
]
BY_NAME = {ending.name: ending for ending in ENDINGS}


def chat_that_ends(ending: Ending, alice_client: Client | None, bob_client: Client | None) -> Pair:
    """Alice and Bob (in these browsers, if given) write what the ending says; it ends so."""
    pair = make_pair(quick_run(), seeker_client=alice_client, supporter_client=bob_client)
    if ending.seeker_wrote:
        say(pair, pair.seeker, "I have been feeling very alone since I moved.")
    if ending.supporter_wrote:
        say(pair, pair.supporter, "Moving is hard. What do you miss most?")
    end(pair, pair.seeker if ending.ended_by == SEEKER else pair.supporter, ending.reason)
    return pair.refresh()
