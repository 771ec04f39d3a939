"""Re-inviting qualified supporters: put on the allow-list on their crowd site (local
servers), the blocked and the untrained left out; a later run that takes earlier training
lets them skip it."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from crowd import vocabulary
from crowd.models import Worker
from settlement import blocks
from staff.models import AuditEvent
from tests.cast import BOB, FRANK, SAM, Actor
from tests.chat.factories import make_pair
from tests.crowd.factories import (
    address_of,
    agree_to_consent,
    device_of,
    enter,
    entry_params,
    make_run,
    use_device,
)
from tests.providers.mturk_server import MTurkServer
from tests.providers.prolific_server import ProlificServer

pytestmark = pytest.mark.django_db
GROUP, QUALIFICATION = "esc-supporters", "QUAL-ESC"


@pytest.fixture
def sites(connected: tuple[ProlificServer, MTurkServer]) -> Any:
    connected[0].add_group(GROUP)
    connected[1].add_qualification_type(QUALIFICATION)
    return connected


def _qualified(name: str, run: Any, *, mturk: bool = False) -> Worker:
    worker = enter(Actor(name, vocabulary.SUPPORTER, ""), run, mturk=mturk)
    Worker.objects.filter(pk=worker.pk).update(qualification=Worker.Qualification.QUALIFIED)
    return Worker.objects.get(pk=worker.pk)


def _invite(*args: str) -> str:
    out = StringIO()
    call_command("invite_supporters", "--run", "pilot", *args, stdout=out)
    return out.getvalue()


def test_qualified_supporters_go_on_each_site_s_allow_list(sites: Any) -> None:
    prolific, mturk = sites
    pair = make_pair(make_run(name="pilot"))  # Bob passed the training
    run = pair.run
    on_mturk = _qualified("wturk7", run, mturk=True)
    blocked = _qualified("spammer", run)
    blocks.block(blocked, reason="pasted scripts")
    enter(SAM, run)  # still in training
    text = _invite("--prolific-group", GROUP, "--mturk-qualification", QUALIFICATION)
    assert prolific.members(GROUP) == {pair.supporter.external_id}
    assert mturk.calls("AssociateQualificationWithWorker") == [
        {
            "QualificationTypeId": QUALIFICATION,
            "WorkerId": on_mturk.external_id,
            "IntegerValue": 1,
            "SendNotification": False,
        }
    ]
    assert "run 'pilot': allowed 2" in text
    assert AuditEvent.objects.get(action="allow_list").detail["counts"] == {"allowed": 2}


def test_a_site_without_an_allow_list_is_skipped_and_a_dry_run_calls_nothing(sites: Any) -> None:
    prolific, mturk = sites
    run = make_run(name="pilot")
    _qualified("wturk8", run, mturk=True)
    _qualified("prolific9", run)
    text = _invite("--prolific-group", GROUP, "--dry-run")
    assert "(mturk): no allow-list given for their site" in text
    assert "(prolific): would allow" in text
    assert (
        prolific.members(GROUP) == set() and mturk.calls("AssociateQualificationWithWorker") == []
    )
    with pytest.raises(CommandError, match="give --prolific-group"):
        _invite()


def _arrive_and_consent(actor: Actor, run: Any) -> Worker:
    params = entry_params(actor, actor.role, run)
    client = use_device(Client(), device_of(params))
    assert client.get("/start/", params, REMOTE_ADDR=address_of(params)).status_code == 302
    assert agree_to_consent(client).status_code == 302
    return Worker.objects.get(run=run, person_key=actor.name.casefold())


def test_a_later_run_that_takes_earlier_training_lets_them_skip_it() -> None:
    make_pair(make_run(name="pilot", study="pilot-study"))  # Bob qualified in the pilot
    failed = enter(FRANK, make_run(name="other", study="other-study"))
    Worker.objects.filter(pk=failed.pk).update(qualification=Worker.Qualification.FAILED)
    main = make_run(name="main", study="main-study", accept_earlier_training=True)
    bob = _arrive_and_consent(BOB, main)
    assert (bob.stage, bob.qualification, bob.qualified_earlier) == ("waiting", "qualified", True)
    frank = _arrive_and_consent(FRANK, main)
    assert (frank.stage, frank.qualified_earlier) == ("tutorial", False)
    strict = make_run(name="strict", study="strict-study")
    again = _arrive_and_consent(BOB, strict)
    assert (again.stage, again.qualification) == ("tutorial", "in_training")
