"""A run's target of approved conversations (docs/crowd-sites.md, "Recruitment under
control"): once reached, entry closes for good and the study is paused on each crowd site, so
nobody new starts a task the platform no longer needs."""

from __future__ import annotations

import logging

from django.db.models import Q
from django.utils import timezone

from chat.models import Conversation
from crowd.models import CollectionRun, Worker
from crowd.providers.base import ProviderError
from settlement.services import SITES, SiteFactory, default_site
from staff import audit

logger = logging.getLogger(__name__)


def studies_of(run: CollectionRun) -> list[tuple[str, str]]:
    """(site, study) of every task the run's workers came from: Prolific studies, MTurk HITs."""
    rows = (
        Worker.objects.filter(run=run, provider__in=SITES)
        .exclude(Q(provider="prolific", study_id="") | Q(provider="mturk", hit_id=""))
        .values_list("provider", "study_id", "hit_id")
        .distinct()
    )
    found = {(site, hit if site == "mturk" else study) for site, study, hit in rows}
    return sorted(found)


def check_targets(sites: SiteFactory = default_site) -> list[str]:
    """Close the entry of every active run that reached its target; the names of those closed."""
    closed = []
    runs = CollectionRun.objects.filter(
        is_active=True, is_demo=False, target_approved__isnull=False, entry_closed_at__isnull=True
    )
    for run in runs:
        approved = (
            Conversation.objects.filter(run=run, quality_status=Conversation.QualityStatus.APPROVED)
            .exclude(seeker__simulated=True)  # a rehearsal's chats count towards nothing
            .count()
        )
        assert run.target_approved is not None
        if approved < run.target_approved:
            continue
        claimed = CollectionRun.objects.filter(pk=run.pk, entry_closed_at__isnull=True).update(
            entry_closed_at=timezone.now()
        )
        if not claimed:
            continue  # another job closed it at the same moment
        paused, failed = [], []
        for site, study in studies_of(run):
            try:
                sites(site, run).pause_study(study)
                paused.append(f"{site}:{study}")
            except ProviderError as error:
                logger.warning("run %s: could not pause a %s study: %s", run.name, site, error)
                failed.append({"site": site, "study": study, "error": str(error)[:300]})
        audit.record(
            "target_reached",
            run=run.name,
            approved=approved,
            target=run.target_approved,
            paused=paused,
            failed=failed,
        )
        closed.append(run.name)
    return closed
