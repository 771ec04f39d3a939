"""Keeping up with the crowd site (docs/crowd-sites.md, "Returned and timed-out
submissions"): a worker whose submission was returned or timed out on the site has left, so
they leave the platform's task at once with a fair status, and a partner waiting for them is
told and finished fairly, as when a worker leaves the chat themselves.

Prolific tells by webhook (settlement.webhooks), and a periodic poll catches what a webhook
missed. MTurk lists only submitted assignments, so it has nothing to poll for this.
"""

from __future__ import annotations

from collections import Counter

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from chat import endings
from chat.errors import ChatError
from chat.models import Conversation
from crowd.models import Worker
from crowd.providers import base
from crowd.services import TaskOutcome, finish_worker
from settlement.services import SiteFactory, default_site

GONE = (base.RETURNED, base.TIMED_OUT)
# Stages after which leaving on the site changes nothing here.
_OVER = (Worker.Stage.POST_SURVEY, Worker.Stage.DONE)


def left_on_site(worker: Worker) -> str:
    """The worker gave the task back on the site: end their part here. What happened."""
    with transaction.atomic():
        locked = Worker.objects.select_for_update().select_related("run").get(pk=worker.pk)
        if locked.stage in _OVER:
            return "already finished here"
        if locked.stage != Worker.Stage.CHATTING:
            finish_worker(locked, TaskOutcome.LEFT_EARLY, post_survey=False)
            return "left before the chat"
    chat = Conversation.objects.filter(
        Q(seeker=worker) | Q(supporter=worker), state=Conversation.State.ACTIVE
    ).first()
    if chat is None:
        return "already finished here"
    try:
        # As if they had pressed "leave": they get 01, the partner 02 and is told at once.
        endings.end_conversation(chat.pk, worker.pk, reason="leave")
    except ChatError:
        return "the chat had just ended"
    return "left the chat"


def submission_changed(provider: str, submission_id: str, participant_id: str, state: str) -> str:
    """One submission's new state on the site (a webhook, or the poll): what it did here."""
    worker = (
        Worker.objects.filter(provider=provider, assignment_id=submission_id)
        .select_related("run")
        .first()
    )
    if worker is None:
        return "no such submission here"
    if participant_id and worker.external_id != participant_id:
        return "the participant does not match the submission"
    if state not in GONE:
        return "nothing to do"
    return left_on_site(worker)


def poll(sites: SiteFactory = default_site) -> Counter[str]:
    """Read the submissions of every Prolific study with workers still in their task."""
    done: Counter[str] = Counter()
    if not settings.PROLIFIC_API_TOKEN:
        return done  # not connected to Prolific
    studies = (
        Worker.objects.filter(provider="prolific", run__is_active=True, run__is_demo=False)
        .exclude(stage__in=_OVER)
        .exclude(study_id="")
        .values_list("study_id", "run_id")
        .distinct()
    )
    clients: dict[int, base.CrowdSite] = {}
    for study, run_id in studies:
        if run_id not in clients:
            run = Worker.objects.filter(run_id=run_id).select_related("run").first()
            assert run is not None
            clients[run_id] = sites("prolific", run.run)
        try:
            submissions = clients[run_id].submissions(study)
        except base.ProviderError:
            done["study not read"] += 1
            continue
        for submission in submissions:
            if submission.state in GONE:
                result = submission_changed(
                    "prolific", submission.id, submission.worker_id, submission.state
                )
                done[result] += 1
    return done
