"""Where each stage of a worker's journey is served: the one map from stage to page."""

from __future__ import annotations

from django.urls import reverse

from crowd.models import Worker

# Every app provides the URL name of the stage it serves.
STAGE_URL_NAMES: dict[str, str] = {
    Worker.Stage.CONSENT: "crowd:consent",
    Worker.Stage.TUTORIAL: "tutorial:index",
    Worker.Stage.PRE_SURVEY: "surveys:pre_chat",
    Worker.Stage.WAITING: "chat:waiting",
    Worker.Stage.CHATTING: "chat:room",
    Worker.Stage.POST_SURVEY: "surveys:post_chat",
    Worker.Stage.DONE: "crowd:status",
}


def stage_url(worker: Worker) -> str:
    """The page a worker belongs on now."""
    if worker.stage == Worker.Stage.POST_SURVEY and worker.run.is_evaluation:
        # After two chats with models, the seeker compares them (docs/evaluation.md).
        return reverse("evaluate:compare")
    return reverse(STAGE_URL_NAMES[worker.stage])
