"""A rehearsal's workers and chats are never data, never paid, never counted towards the
target, and never matched with real workers; one command removes them (docs/rehearsal.md)."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from chat.dataset.exporting import exportable_conversations
from chat.models import Conversation, Utterance
from crowd import payments
from crowd.models import CollectionRun, Worker
from quality.models import Flag
from settlement import recruitment
from tests.cast import Actor
from tests.chat.factories import Pair, converse, end_as, make_pair, match
from tests.crowd.factories import quick_run
from tests.surveys.factories import waiting_seeker
from tests.tutorial.factories import trained_supporter

pytestmark = pytest.mark.django_db


def _finished_pair(run: CollectionRun, seeker: str, supporter: str, *, simulated: bool) -> Pair:
    pair = make_pair(
        run, seeker=Actor(seeker, "seeker", ""), supporter=Actor(supporter, "supporter", "")
    )
    if simulated:  # as if both had entered with a rehearsal token
        Worker.objects.filter(pk__in=[pair.seeker.pk, pair.supporter.pk]).update(simulated=True)
    converse(pair, seeker_words=[12, 12], supporter_words=[12, 12])
    end_as(pair, Conversation.EndReason.FINISHED)
    Conversation.objects.filter(pk=pair.conversation.pk).update(quality_status="approved")
    Flag.objects.create(conversation=pair.conversation, kind=Flag.Kind.SAME_NETWORK)
    return pair.refresh()


def test_no_export_holds_a_rehearsal_s_conversation() -> None:
    run = quick_run("pilot")
    real = _finished_pair(run, "alice", "bob", simulated=False)
    sim = _finished_pair(run, "sim-1-seeker-1", "sim-1-supporter-1", simulated=True)
    for status in ("approved", "all"):
        ids = set(exportable_conversations(status=status).values_list("pk", flat=True))
        assert real.conversation.pk in ids and sim.conversation.pk not in ids


def test_the_research_export_leaves_a_rehearsal_out(tmp_path: Path) -> None:
    run = quick_run("pilot")
    real = _finished_pair(run, "alice", "bob", simulated=False)
    _finished_pair(run, "sim-1-seeker-1", "sim-1-supporter-1", simulated=True)
    output = tmp_path / "composition.jsonl"
    call_command("export_composition", "--run", "pilot", "--output", str(output), stdout=StringIO())
    lines = [json.loads(line) for line in output.read_text().splitlines()]
    assert len(lines) == 4 and {line["conversation"] for line in lines} == {real.conversation.pk}


def test_no_payments_file_lists_simulated_workers() -> None:
    run = quick_run("pilot")
    real = _finished_pair(run, "alice", "bob", simulated=False)
    _finished_pair(run, "sim-1-seeker-1", "sim-1-supporter-1", simulated=True)
    payable = set(payments.payable_workers(run, include_paid=True))
    assert payable == {real.seeker, real.supporter}
    everyone = payments.payable_workers(run, include_paid=True, include_simulated=True)
    assert everyone.count() == 4


def test_the_target_of_approved_conversations_does_not_count_a_rehearsal() -> None:
    run = quick_run("pilot", target_approved=2)
    _finished_pair(run, "alice", "bob", simulated=False)
    _finished_pair(run, "sim-1-seeker-1", "sim-1-supporter-1", simulated=True)
    recruitment.check_targets()
    run.refresh_from_db()
    assert run.entry_closed_at is None  # one real approved conversation of two


def test_simulated_workers_are_matched_only_with_each_other() -> None:
    run = quick_run("pilot")
    real_seeker = waiting_seeker(Actor("alice", "seeker", ""), run)
    sim_seeker = waiting_seeker(Actor("sim-1-seeker-1", "seeker", ""), run)
    Worker.objects.filter(pk=sim_seeker.pk).update(simulated=True)
    sim_supporter = trained_supporter(Actor("sim-1-supporter-1", "supporter", ""), run)
    Worker.objects.filter(pk=sim_supporter.pk).update(simulated=True)
    # The real seeker waited first, but the only supporter waiting is simulated.
    assert match(run) == 1
    conversation = Conversation.objects.get()
    assert (conversation.seeker_id, conversation.supporter_id) == (sim_seeker.pk, sim_supporter.pk)
    real_supporter = trained_supporter(Actor("bob", "supporter", ""), run)
    assert match(run) == 1
    assert Conversation.objects.get(seeker=real_seeker).supporter_id == real_supporter.pk


def test_remove_simulated_deletes_the_rehearsal_and_nothing_else() -> None:
    run = quick_run("pilot")
    real = _finished_pair(run, "alice", "bob", simulated=False)
    sim = _finished_pair(run, "sim-1-seeker-1", "sim-1-supporter-1", simulated=True)
    out = StringIO()
    call_command("remove_simulated", "--run", "pilot", "--dry-run", stdout=out)
    assert "would remove 2 simulated workers and 1 conversations" in out.getvalue()
    assert Worker.objects.filter(simulated=True).count() == 2
    call_command("remove_simulated", "--run", "pilot", stdout=out)
    assert "removed 2 simulated workers and 1 conversations" in out.getvalue()
    assert not Worker.objects.filter(simulated=True).exists()
    assert not Conversation.objects.filter(pk=sim.conversation.pk).exists()
    assert not Utterance.objects.filter(conversation_id=sim.conversation.pk).exists()
    assert not Flag.objects.filter(conversation_id=sim.conversation.pk).exists()
    assert Worker.objects.filter(pk__in=[real.seeker.pk, real.supporter.pk]).count() == 2
    assert Utterance.objects.filter(conversation=real.conversation).count() == 4


def test_remove_simulated_names_an_unknown_run() -> None:
    with pytest.raises(CommandError, match="--run: no collection run is named 'nowhere'"):
        call_command("remove_simulated", "--run", "nowhere")
