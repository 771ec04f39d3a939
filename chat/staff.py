"""Staff stepping into a live chat: writing to both workers, and ending it fairly.

Used from the watch socket (chat.consumers.WatchConsumer) when a safety alert calls for it
(docs/safety.md, "Stepping in"). A staff message is not an utterance: it is stored apart
(chat.models.StaffMessage) and never exported. Ending a chat as staff pays both workers as
finished (chat.endings.ENDINGS), since neither of them chose to stop.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from chat import endings, events, frames
from chat.errors import ChatError
from chat.messages import MAX_CLIENT_ID_CHARS
from chat.models import Conversation, StaffMessage
from crowd import vocabulary

# Long enough for a few sentences of care and a link; a staff note is not an essay.
MAX_STAFF_MESSAGE_CHARS = 1000


def staff_message_frame(message: StaffMessage) -> dict[str, Any]:
    """The frame every socket of the chat is sent (and the page renders on load)."""
    return {
        "type": "staff_message",
        "id": message.client_id,
        "text": message.text,
        "after_seq": message.after_seq,
        "sent_at": message.sent_at.isoformat(),
    }


def _check(client_id: Any, text: Any) -> str:
    if not isinstance(client_id, str) or not client_id or len(client_id) > MAX_CLIENT_ID_CHARS:
        raise ChatError(
            "bad_id", f"A message needs an id of 1 to {MAX_CLIENT_ID_CHARS} characters."
        )
    if not isinstance(text, str) or not text.strip():
        raise ChatError("empty", "Write something to send.")
    if len(text) > MAX_STAFF_MESSAGE_CHARS:
        raise ChatError("too_long", f"At most {MAX_STAFF_MESSAGE_CHARS} characters.")
    return text.strip()


def _live(conversation_id: int) -> Conversation:
    conversation = Conversation.objects.select_for_update().filter(pk=conversation_id).first()
    if conversation is None:
        raise ChatError("not_found", "No such conversation.")
    if conversation.state != Conversation.State.ACTIVE:
        raise ChatError("ended", "This conversation has ended.")
    return conversation


def post_staff_message(
    conversation_id: int, author_id: int, *, client_id: Any, text: Any
) -> dict[str, Any]:
    """Store a staff message for a live chat and relay it after commit; its frame.

    A resend of an id already stored returns the stored message's frame, relayed again.
    """
    text = _check(client_id, text)
    with transaction.atomic():
        conversation = _live(conversation_id)
        stored = StaffMessage.objects.filter(conversation=conversation, client_id=client_id).first()
        if stored is None:
            try:
                with transaction.atomic():
                    stored = StaffMessage.objects.create(
                        conversation=conversation,
                        author_id=author_id,
                        client_id=client_id,
                        text=text,
                        after_seq=conversation.last_seq,
                    )
            except IntegrityError:  # pragma: no cover - the row lock rules the race out
                stored = StaffMessage.objects.get(conversation=conversation, client_id=client_id)
        frame = staff_message_frame(stored)
        events.send_after_commit(conversation.pk, {"kind": "staff_message", "frame": frame})
    return frame


def end_as_staff(conversation_id: int) -> dict[str, Any]:
    """End a live chat for both workers, both paid as finished; the staff's ended frame."""
    with transaction.atomic():
        conversation = _live(conversation_id)
        now = timezone.now()
        if not endings.close(
            conversation, Conversation.EndReason.STAFF_ENDED, vocabulary.STAFF, now
        ):
            raise ChatError("ended", "This conversation has ended.")
    return frames.ended_frame(conversation, vocabulary.STAFF)


def staff_messages(conversation: Conversation) -> list[dict[str, Any]]:
    """Every staff message of the chat, oldest first, as frames (the room page shows them)."""
    return [staff_message_frame(m) for m in conversation.staff_messages.all()]
