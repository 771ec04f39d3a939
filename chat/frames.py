"""Every frame of the chat protocol, each built by one function (docs/protocol.md).

Frames are what a websocket sends; events are what the services put on a conversation's group
for each consumer to turn into its recipient's frames. Both are plain JSON-safe dicts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils import timezone

from chat import rules
from chat.models import Conversation, Utterance
from crowd import vocabulary
from crowd.stages import stage_url

# --- Frames: server → client -------------------------------------------------------------


def message_frame(
    *, seq: int, client_id: str, speaker: str, text: str, sent_at: datetime, strategy: str | None
) -> dict[str, Any]:
    """The full frame of a message, strategy included; `frame_for` strips it for the seeker."""
    frame: dict[str, Any] = {
        "type": "message",
        "seq": seq,
        "id": client_id,
        "speaker": speaker,
        "text": text,
        "sent_at": sent_at.isoformat(),
    }
    if strategy:
        frame["strategy"] = strategy
    return frame


def utterance_frame(utterance: Utterance) -> dict[str, Any]:
    """The message frame of a stored utterance (replay); imported ones have no client id."""
    return message_frame(
        seq=utterance.position,
        client_id=utterance.client_message_id or f"seq-{utterance.position}",
        speaker=utterance.speaker,
        text=utterance.text,
        sent_at=utterance.sent_at or timezone.now(),
        strategy=utterance.strategy,
    )


def frame_for(role: str, frame: dict[str, Any]) -> dict[str, Any]:
    """What one recipient may see of a message frame: the seeker never sees strategies."""
    if role == vocabulary.SEEKER and "strategy" in frame:
        return {k: v for k, v in frame.items() if k != "strategy"}
    return frame


def status_fields(conversation: Conversation, role: str, now: datetime) -> dict[str, Any]:
    """Where the conversation stands for one role: in the hello and in every message frame."""
    return {
        "turns": conversation.turns,
        "elapsed_s": rules.elapsed_seconds(conversation, now),
        "can_end": rules.can_end(conversation, role, now),
        "can_report_unresponsive": rules.can_report_unresponsive(conversation, role, now),
    }


def status_by_role(conversation: Conversation, now: datetime) -> dict[str, dict[str, Any]]:
    """The status of each role that may be watching the conversation."""
    return {role: status_fields(conversation, role, now) for role in vocabulary.CHAT_ROLES}


def delivered_frame(role: str, event: dict[str, Any]) -> dict[str, Any]:
    """The frame one recipient gets for a message event: the message and its status after it.

    One frame rather than a message frame and a status frame: every frame costs the server a
    write to the socket, and this is the hot path (docs/performance.md).
    """
    return {**frame_for(role, event["message"]), "status": event["status"][role]}


def hello_frame(conversation: Conversation, role: str, now: datetime) -> dict[str, Any]:
    """The first frame of a connection: who you are and where the conversation stands."""
    status = status_fields(conversation, role, now)
    return {
        "type": "hello",
        "conversation": conversation.pk,
        "role": role,
        "last_seq": conversation.last_seq,
        "state": conversation.state,
        "turns": status["turns"],
        "elapsed_s": status["elapsed_s"],
        "can_end": status["can_end"],
        "can_report_unresponsive": status["can_report_unresponsive"],
        "pending_feedback_prompt": pending_prompt_for(conversation, role),
    }


def pending_prompt_for(conversation: Conversation, role: str) -> int | None:
    """The open feedback prompt this role must answer: only the seeker answers prompts."""
    return conversation.pending_feedback_prompt if role == vocabulary.SEEKER else None


def feedback_request_frame(prompt: int) -> dict[str, Any]:
    return {"type": "feedback_request", "prompt": prompt, "question": vocabulary.FEEDBACK_QUESTION}


def ack_frame(client_id: str, seq: int) -> dict[str, Any]:
    """The message with this id is stored at this seq (also the answer to a resend)."""
    return {"type": "ack", "id": client_id, "seq": seq}


def feedback_ack_frame(prompt: int, score: int) -> dict[str, Any]:
    return {"type": "feedback_ack", "prompt": prompt, "score": score}


def copied_example_warning() -> dict[str, Any]:
    return {
        "type": "warning",
        "code": "copied_example",
        "message": (
            "Please write in your own words: this message copies an example from the training."
        ),
    }


CONDUCT_WARNING = (
    "Please keep to supportive, respectful words: this message was flagged for staff to read. "
    "Messages that are abusive, sexual or demeaning break the task's rules."
)


def safety_frame(role: str, event: dict[str, Any]) -> dict[str, Any] | None:
    """What one recipient is shown of new safety flags (safety.live), or nothing.

    The seeker in crisis is shown the run's help; the supporter the guidance on what to do
    (a crisis) or a warning (their own conduct); watching staff the flags themselves.
    """
    if role == vocabulary.STAFF:
        return {"type": "safety", "show": "alert", "flags": event["flags"]}
    if event["crisis"]:
        return {"type": "safety", "show": "help" if role == vocabulary.SEEKER else "guidance"}
    if role == vocabulary.SUPPORTER and event["conduct"]:
        return {"type": "warning", "code": "conduct", "message": CONDUCT_WARNING}
    return None


def error_frame(code: str, message: str, ref: Any = None) -> dict[str, Any]:
    """A refused frame: `ref` echoes the refused frame's id when it had a string one."""
    frame: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if isinstance(ref, str):
        frame["ref"] = ref
    return frame


def typing_frame(speaker: str) -> dict[str, Any]:
    return {"type": "typing", "speaker": speaker}


def next_url_for(conversation: Conversation, role: str) -> str:
    """Where a participant goes when the chat ends: the page of their stage now."""
    if role == vocabulary.STAFF:
        return reverse("chat:live")
    worker = conversation.seeker if role == vocabulary.SEEKER else conversation.supporter
    if worker is None:
        return reverse("landing")
    worker.refresh_from_db(fields=["stage"])
    return stage_url(worker)


# What happened, in plain words, for the ender ("self") and for the other side ("other").
_ENDED_WORDS: dict[str, dict[str, str]] = {
    "finished": {
        "self": "You ended the conversation. Thank you for talking.",
        "other": "The help-seeker ended the conversation. Thank you for your support.",
    },
    "seeker_left": {
        "self": "You left the conversation.",
        "other": "The help-seeker left the conversation. This is not your fault, and you are "
        "paid for your time.",
    },
    "supporter_left": {
        "self": "You left the conversation.",
        "other": "Your supporter left the conversation. This is not your fault, and you are "
        "paid for your time.",
    },
    "partner_unresponsive": {
        "self": "You told us your partner stopped responding, so the conversation has ended. "
        "This is not your fault.",
        "other": "Your partner told us you stopped responding, so the conversation has ended.",
    },
    "abandoned": {
        "self": "Nobody wrote for a long time, so the conversation was closed.",
        "other": "Nobody wrote for a long time, so the conversation was closed.",
    },
    "staff_ended": {
        "self": "The research team ended the conversation.",
        "other": "The research team ended the conversation. This is not your fault, and you "
        "are paid in full.",
    },
    # Chats with a model (docs/evaluation.md): "Continue" leads to the next chat or the
    # comparison.
    "evaluated": {
        "self": "This conversation is over. Thank you for talking.",
        "other": "This conversation is over. Thank you for talking.",
    },
    "backend_failed": {
        "self": "Your supporter could not reply, so the conversation has ended. This is not "
        "your fault, and you are paid for your time.",
        "other": "Your supporter could not reply, so the conversation has ended. This is not "
        "your fault, and you are paid for your time.",
    },
}


def ended_words(conversation: Conversation, role: str) -> str:
    """The sentence that tells this side how the chat ended (staff: the end reason)."""
    words = _ENDED_WORDS.get(conversation.end_reason)
    if words is None or role == vocabulary.STAFF:
        return f"The conversation has ended: {conversation.get_end_reason_display().lower()}."
    return words["self" if role == conversation.ended_by else "other"]


def ended_frame(conversation: Conversation, role: str) -> dict[str, Any]:
    return {
        "type": "ended",
        "reason": conversation.end_reason,
        "by": conversation.ended_by,
        "message": ended_words(conversation, role),
        "next_url": next_url_for(conversation, role),
    }


# --- Events: services → each consumer of the conversation's group ------------------------


def message_event(
    message: dict[str, Any], conversation: Conversation, now: datetime, prompt: int | None
) -> dict[str, Any]:
    """A stored message, the status after it, and the feedback prompt it opened (if any)."""
    return {
        "kind": "message",
        "message": message,
        "status": status_by_role(conversation, now),
        "feedback_request": feedback_request_frame(prompt) if prompt else None,
    }


def ended_event(conversation: Conversation) -> dict[str, Any]:
    """The chat ended: each role's own ended frame (their next page differs)."""
    return {
        "kind": "ended",
        "frames": {role: ended_frame(conversation, role) for role in vocabulary.CHAT_ROLES},
    }


def presence_frame(role: str, online: bool) -> dict[str, Any]:
    """The partner's connection came back (`online`) or dropped."""
    return {"type": "presence", "role": role, "online": online}


def presence_event(role: str, online: bool, announce: bool) -> dict[str, Any]:
    """A participant's socket opened or closed; `announce` asks the others to say they are here."""
    return {"kind": "presence", "role": role, "online": online, "announce": announce}


def typing_event(speaker: str) -> dict[str, Any]:
    return {"kind": "typing", "speaker": speaker}
