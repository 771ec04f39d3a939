"""Signals of the chat app, for apps that build on it without the chat importing them."""

from __future__ import annotations

from django.dispatch import Signal

# A chat whose supporter is a model (no supporter worker) has ended, inside the ending's
# transaction: `conversation` (ended, refreshed) and `end_reason`. The evaluation app moves its
# seeker on (evaluation.flow.leg_ended); chat.endings.close finishes no supporter for it.
model_chat_ended = Signal()
