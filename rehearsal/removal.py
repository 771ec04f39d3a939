"""Remove what a rehearsal made: simulated workers and everything that hangs on them.

One transaction: the simulated workers' conversations (with their messages, flags,
decisions and signatures), then the ledger rows a sandbox settlement may have written for
them, their blocks, then the workers (with their quiz attempts, surveys, device switches).
Real workers and their conversations are never touched: matching pairs simulated workers
only with each other (chat.matching), so every conversation with a simulated worker in it
is the rehearsal's.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q

from chat.models import Conversation
from crowd.models import CollectionRun, Worker
from settlement.models import Block, LedgerEntry


@dataclass(frozen=True)
class Removed:
    workers: int
    conversations: int


def remove_simulated(run: CollectionRun, *, dry_run: bool = False) -> Removed:
    simulated = Worker.objects.filter(run=run, simulated=True)
    conversations = Conversation.objects.filter(
        Q(seeker__in=simulated) | Q(supporter__in=simulated)
    )
    counts = Removed(workers=simulated.count(), conversations=conversations.count())
    if dry_run:
        return counts
    with transaction.atomic():
        ids = list(simulated.select_for_update().values_list("pk", flat=True))
        Conversation.objects.filter(Q(seeker_id__in=ids) | Q(supporter_id__in=ids)).delete()
        LedgerEntry.objects.filter(worker_id__in=ids).delete()
        Block.objects.filter(worker_id__in=ids).delete()
        Worker.objects.filter(pk__in=ids).delete()
    return counts
