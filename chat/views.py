"""Chat pages: the waiting room, the chat room, and staff's live view. Parse → one call → render."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from chat import rules, selectors, staff, watch
from chat.models import Conversation
from crowd import vocabulary
from crowd.decorators import worker_required
from crowd.models import CollectionRun, Worker
from crowd.stages import stage_url
from evaluation.models import EvaluationLeg
from safety import live as safety_live
from safety import review as safety_review
from safety.resources import GUIDANCE, help_for


def duration_text(seconds: int) -> str:
    """'15 minutes', '90 seconds', '1 minute': thresholds as a worker reads them."""
    if seconds and seconds % 60 == 0:
        minutes = seconds // 60
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def _rule_texts(run: CollectionRun) -> dict[str, str]:
    return {
        "max_wait_text": duration_text(run.max_wait_seconds),
        "min_time_text": duration_text(run.min_seconds_to_end),
        "silence_text": duration_text(run.partner_silence_seconds),
    }


def _model_chat(conversation: Conversation) -> dict[str, int] | None:
    """Which of the seeker's two chats with a model this is, and its length (evaluations)."""
    leg = (
        EvaluationLeg.objects.filter(conversation_id=conversation.pk)
        .values("order", "session__evaluation__turns")
        .first()
    )
    if leg is None:
        return None
    return {"order": leg["order"], "of": 2, "turns": leg["session__evaluation__turns"]}


def _not_allowed(request: HttpRequest) -> HttpResponse:
    return render(request, "chat/not_allowed.html", status=403)


def _run_settings(run: CollectionRun) -> dict[str, int | str]:
    return {
        "max_wait_seconds": run.max_wait_seconds,
        "min_turns_to_end": run.min_turns_to_end,
        "min_seconds_to_end": run.min_seconds_to_end,
        "partner_silence_seconds": run.partner_silence_seconds,
        "max_message_chars": run.max_message_chars,
        "heartbeat_seconds": settings.CHAT_HEARTBEAT_SECONDS,
        "paste_policy": run.paste_policy,
        "paste_max_chars": run.paste_max_chars,
    }


@worker_required
def waiting(request: HttpRequest, worker: Worker) -> HttpResponse:
    if selectors.chat_refused(worker):
        return _not_allowed(request)
    if worker.stage != Worker.Stage.WAITING:
        return redirect(stage_url(worker))
    return render(
        request,
        "chat/waiting.html",
        {
            "worker": worker,
            **_rule_texts(worker.run),
            "config": {
                "pollUrl": reverse("chat-api-match"),
                "waitingSince": worker.waiting_since.isoformat() if worker.waiting_since else None,
                "maxWaitSeconds": worker.run.max_wait_seconds,
            },
        },
    )


@worker_required
def room(request: HttpRequest, worker: Worker) -> HttpResponse:
    if selectors.chat_refused(worker):
        return _not_allowed(request)
    conversation = selectors.current_conversation(worker)
    if worker.stage != Worker.Stage.CHATTING or conversation is None:
        return redirect(stage_url(worker))
    role = rules.role_in(conversation, worker.pk)
    return render(
        request,
        "chat/room.html",
        {
            "conversation": conversation,
            "role": role,
            # The help and the guidance stay open once shown, on every reload (docs/safety.md).
            "help": help_for(conversation.run),
            "guidance": GUIDANCE,
            "safety_open": safety_live.open_safety(conversation)["crisis"],
            "staff_messages": staff.staff_messages(conversation),
            "model_chat": _model_chat(conversation),
            **_rule_texts(conversation.run),
            "guide": selectors.strategy_guide() if worker.is_supporter else [],
            "config": {
                "conversation": conversation.pk,
                "role": role,
                "wsPath": f"/ws/chat/{conversation.pk}/",
                "readOnly": False,
                **_run_settings(conversation.run),
            },
        },
    )


def _staff_json(view: Callable[..., JsonResponse]) -> Callable[..., JsonResponse]:
    """A JSON endpoint of the live view: staff only, refused with JSON (a page polls it)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        user = request.user
        if not (user.is_authenticated and user.is_active and user.is_staff):
            return JsonResponse({"error": "Staff only: sign in at /admin/."}, status=403)
        return view(request, *args, **kwargs)

    return wrapper


def _watched(conversation_id: int) -> Conversation:
    conversation = Conversation.objects.select_related("run").filter(pk=conversation_id).first()
    if conversation is None:
        raise Http404("No such conversation.")
    return conversation


@staff_member_required
def live(request: HttpRequest) -> HttpResponse:
    """The chats in progress with their ratings and flags (the page polls live_feed)."""
    return render(
        request,
        "chat/live.html",
        {
            "feed": watch.live_feed(),
            "feed_url": reverse("chat:live_feed"),
            "alerts": safety_review.open_alerts(),
        },
    )


@require_GET
@_staff_json
def live_feed(request: HttpRequest) -> JsonResponse:
    return JsonResponse(watch.live_feed())


@staff_member_required
def live_detail(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _watched(conversation_id)
    run = conversation.run
    return render(
        request,
        "chat/watch.html",
        {
            "conversation": conversation,
            "role": vocabulary.STAFF,
            **_rule_texts(run),
            "guide": [],
            "staff_messages": staff.staff_messages(conversation),
            "staff_max_chars": staff.MAX_STAFF_MESSAGE_CHARS,
            "signals": watch.conversation_signals(conversation),
            "signals_url": reverse("chat:live_signals", args=[conversation.pk]),
            "config": {
                "conversation": conversation.pk,
                "role": vocabulary.STAFF,
                "wsPath": f"/ws/chat/{conversation.pk}/watch/",
                "readOnly": True,
                **_run_settings(run),
            },
        },
    )


@require_GET
@_staff_json
def live_signals(request: HttpRequest, conversation_id: int) -> JsonResponse:
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is None:
        return JsonResponse({"error": "No such conversation."}, status=404)
    return JsonResponse(watch.conversation_signals(conversation))
