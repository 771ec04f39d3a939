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


class IsDecidedSupporter(BasePermission):
    message = "The right answers are shown once you have passed or used your last attempt."

    def has_permission(self, request: Request, view: Any) -> bool:
        worker = request.auth
        return isinstance(worker, Worker) and selectors.may_review(worker)


class ExampleSerializer(serializers.Serializer):
    seeker = serializers.CharField()
    supporter = serializers.CharField()


class FeedbackSerializer(serializers.Serializer):
    option = serializers.IntegerField(help_text="The place of the chosen option (0-based).")
    correct = serializers.BooleanField(help_text="Whether the chosen option is the right one.")
    explanation = serializers.CharField(
        help_text="The concept the question checks. It never names the right option."
    )


class SubTaskSerializer(serializers.Serializer):
    number = serializers.IntegerField(help_text="1-based position, as in /tutorial/<number>/.")
    key = serializers.CharField(help_text="Stage key or strategy name (crowd.vocabulary).")
    kind = serializers.ChoiceField(choices=["stage", "strategy"])
    title = serializers.CharField()
    definition = serializers.CharField()
    example = ExampleSerializer()
    item = serializers.CharField(help_text="Key of the quiz item this attempt drew.")
    question = serializers.CharField()
    options = serializers.ListField(
        child=serializers.CharField(), help_text="In this attempt's own (shuffled) order."
    )
    answer = FeedbackSerializer(
        allow_null=True,
        help_text="Null until the worker answers in this attempt; then their choice, whether it "
        "was right and the explanation. Never the right option while an attempt can be used.",
    )


class ProgressSerializer(serializers.Serializer):
    attempt = serializers.IntegerField(help_text="Number of the open attempt.")
    attempts_allowed = serializers.IntegerField()
    max_wrong = serializers.IntegerField()
    answered = serializers.IntegerField()
    wrong = serializers.IntegerField(help_text="Answers of this attempt that were not right.")
    total = serializers.IntegerField()


class TutorialSerializer(serializers.Serializer):
    progress = ProgressSerializer()
    subtasks = SubTaskSerializer(many=True)


class AnswerInputSerializer(serializers.Serializer):
    option = serializers.IntegerField(
        min_value=0, help_text="0-based place of the chosen option in the shown list."
    )
    item = serializers.CharField(
        required=False,
        max_length=80,
        help_text="Key of the item the page shows; a different one (an old page) gets a 409.",
    )


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class ReviewedItemSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    title = serializers.CharField()
    question = serializers.CharField()
    options = serializers.ListField(child=serializers.CharField())
    chosen = serializers.IntegerField(allow_null=True)
    correct_option = serializers.IntegerField()
    correct = serializers.BooleanField()
    explanation = serializers.CharField()


class ReviewedAttemptSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    passed = serializers.BooleanField(allow_null=True)
    wrong_count = serializers.IntegerField(allow_null=True)
    items = ReviewedItemSerializer(many=True)


class ReviewSerializer(serializers.Serializer):
    attempts = ReviewedAttemptSerializer(many=True)


def _conflict(exc: Exception) -> Response:
    return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)


class TutorialView(APIView):
    authentication_classes = [WorkerSessionAuthentication]
    permission_classes = [IsSupporterInTraining]

    @extend_schema(
        operation_id="tutorial_list",
        summary="The open attempt's questions for the current worker, with their feedback",
        responses={
            200: TutorialSerializer,
            403: OpenApiResponse(ErrorSerializer, description="No worker, or not in training."),
            409: OpenApiResponse(ErrorSerializer, description="The attempt was submitted."),
            503: OpenApiResponse(ErrorSerializer, description="No content loaded yet."),
        },
    )
    def get(self, request: Request) -> Response:
        worker: Worker = request.auth  # type: ignore[assignment]  # set by the permission
        try:
            services.open_first_attempt(worker)
        except services.AttemptClosed as exc:
            return _conflict(exc)
        except services.TutorialUnavailable as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        progress = selectors.progress(worker)
        assert progress.attempt is not None
        body = {
            "progress": {
                "attempt": progress.attempt.number,
                "attempts_allowed": progress.attempts_allowed,
                "max_wrong": progress.max_wrong,
                "answered": progress.answered,
                "wrong": progress.wrong,
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
        summary="Answer one question: graded on the server, first answer counts",
        request=AnswerInputSerializer,
        responses={
            200: FeedbackSerializer,
            400: OpenApiResponse(description="Missing or invalid option."),
            403: OpenApiResponse(ErrorSerializer, description="No worker, or not in training."),
            404: OpenApiResponse(ErrorSerializer, description="No such sub-task."),
            409: OpenApiResponse(
                ErrorSerializer,
                description="Already answered in this attempt, submitted, or an old page's item.",
            ),
            503: OpenApiResponse(ErrorSerializer, description="No content loaded yet."),
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
        data = payload.validated_data
        try:
            answer = services.answer_question(
                worker, subtask, data["option"], item_key=data.get("item")
            )
        except services.InvalidAnswer as exc:
            return Response({"option": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        except (services.AlreadyAnswered, services.AttemptClosed, services.StaleQuestion) as exc:
            return _conflict(exc)
        except services.TutorialUnavailable as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        drawn = answer.attempt.drawn.select_related("item").get(subtask=subtask)
        return Response(FeedbackSerializer(selectors.feedback(drawn, answer).as_dict()).data)


class ReviewView(APIView):
    authentication_classes = [WorkerSessionAuthentication]
    permission_classes = [IsDecidedSupporter]

    @extend_schema(
        operation_id="tutorial_review",
        summary="Every item of the worker's attempts with the right answers (training over)",
        responses={
            200: ReviewSerializer,
            403: OpenApiResponse(
                ErrorSerializer, description="No worker, or their training is not over."
            ),
        },
    )
    def get(self, request: Request) -> Response:
        worker: Worker = request.auth  # type: ignore[assignment]  # set by the permission
        attempts = [
            {
                "number": attempt.number,
                "passed": attempt.passed,
                "wrong_count": attempt.wrong_count,
                "items": [item.as_dict() for item in attempt.items],
            }
            for attempt in selectors.review(worker)
        ]
        return Response(ReviewSerializer({"attempts": attempts}).data)
