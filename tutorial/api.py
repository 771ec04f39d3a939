"""Tutorial API for the worker's own browser session (DRF; in the OpenAPI schema).

Workers are not Django users, so DRF's SessionAuthentication would treat them as anonymous and
skip its CSRF check. `WorkerSessionAuthentication` identifies the worker from the session and
enforces CSRF for them, so a POST from another site cannot answer on a worker's behalf.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crowd.models import Worker
from crowd.selectors import current_worker
from esc_platform.ratelimits import limit_tutorial_answers
from tutorial import selectors, services
from tutorial.urls import MAX_PART_NUMBER


class WorkerSessionAuthentication(SessionAuthentication):
    """The crowdworker bound to this session is `request.auth`; CSRF is enforced for them."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        worker = current_worker(request._request)
        if worker is None:
            return None
        self.enforce_csrf(request)
        return (AnonymousUser(), worker)


class WorkerSessionScheme(OpenApiAuthenticationExtension):
    """Documents the worker's session cookie (set by the study entry link) in the schema."""

    target_class = "tutorial.api.WorkerSessionAuthentication"
    name = "workerSession"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}


class IsSupporterInTraining(BasePermission):
    message = "Only a supporter in the training stage may use this (open your study link first)."

    def has_permission(self, request: Request, view: Any) -> bool:
        worker = request.auth
        return (
            isinstance(worker, Worker)
            and worker.is_supporter
            and worker.stage == Worker.Stage.TUTORIAL
        )


class ExampleSerializer(serializers.Serializer):
    seeker = serializers.CharField()
    supporter = serializers.CharField()


class RecordedAnswerSerializer(serializers.Serializer):
    option = serializers.IntegerField(help_text="The option the worker chose (0-based).")


class SubTaskSerializer(serializers.Serializer):
    number = serializers.IntegerField(help_text="1-based position, as in /tutorial/<number>/.")
    key = serializers.CharField(help_text="Stage key or strategy name (crowd.vocabulary).")
    kind = serializers.ChoiceField(choices=["stage", "strategy"])
    title = serializers.CharField()
    definition = serializers.CharField()
    example = ExampleSerializer()
    question = serializers.CharField()
    options = serializers.ListField(child=serializers.CharField())
    answer = RecordedAnswerSerializer(
        allow_null=True,
        help_text="Null until the worker answers in this attempt, then the option they chose. "
        "Never the correct option, the grade or the explanation: the key stays on the server.",
    )


class ProgressSerializer(serializers.Serializer):
    attempt = serializers.IntegerField(help_text="Number of the open attempt.")
    attempts_allowed = serializers.IntegerField()
    max_wrong = serializers.IntegerField()
    answered = serializers.IntegerField()
    total = serializers.IntegerField()


class TutorialSerializer(serializers.Serializer):
    progress = ProgressSerializer()
    subtasks = SubTaskSerializer(many=True)


class AnswerInputSerializer(serializers.Serializer):
    option = serializers.IntegerField(min_value=0, help_text="0-based index of the chosen option.")


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class TutorialView(APIView):
    authentication_classes = [WorkerSessionAuthentication]
    permission_classes = [IsSupporterInTraining]

    @extend_schema(
        operation_id="tutorial_list",
        summary="The tutorial's sub-tasks for the current worker, with their own answers",
        responses={
            200: TutorialSerializer,
            403: OpenApiResponse(ErrorSerializer, description="No worker, or not in training."),
            409: OpenApiResponse(ErrorSerializer, description="The attempt was submitted."),
        },
    )
    def get(self, request: Request) -> Response:
        worker: Worker = request.auth  # type: ignore[assignment]  # set by the permission
        try:
            services.open_first_attempt(worker)
        except services.AttemptClosed as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        progress = selectors.progress(worker)
        assert progress.attempt is not None
        body = {
            "progress": {
                "attempt": progress.attempt.number,
                "attempts_allowed": progress.attempts_allowed,
                "max_wrong": progress.max_wrong,
                "answered": progress.answered,
                "total": progress.total,
            },
            "subtasks": [item.as_dict() for item in progress.items],
        }
        return Response(TutorialSerializer(body).data)


class AnswerView(APIView):
    authentication_classes = [WorkerSessionAuthentication]
    permission_classes = [IsSupporterInTraining]

    @limit_tutorial_answers
    @extend_schema(
        operation_id="tutorial_answer",
        summary="Answer one question; graded on the server (not told), first answer counts",
        request=AnswerInputSerializer,
        responses={
            200: RecordedAnswerSerializer,
            400: OpenApiResponse(description="Missing or invalid option."),
            403: OpenApiResponse(ErrorSerializer, description="No worker, or not in training."),
            404: OpenApiResponse(ErrorSerializer, description="No such sub-task."),
            409: OpenApiResponse(
                ErrorSerializer, description="Already answered in this attempt, or submitted."
            ),
        },
    )
    def post(self, request: Request, number: int) -> Response:
        worker: Worker = request.auth  # type: ignore[assignment]  # set by the permission
        subtask = selectors.subtask_at(number) if number <= MAX_PART_NUMBER else None
        if subtask is None:
            return Response(
                {"detail": f"There is no sub-task {number}."}, status=status.HTTP_404_NOT_FOUND
            )
        payload = AnswerInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            answer = services.answer_question(worker, subtask, payload.validated_data["option"])
        except services.InvalidAnswer as exc:
            return Response({"option": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        except (services.AlreadyAnswered, services.AttemptClosed) as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(RecordedAnswerSerializer({"option": answer.option}).data)
