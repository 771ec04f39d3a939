"""Writes about workers: entry, consent, stage changes, and how a task ended (status and pay)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from urllib.parse import quote

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from crowd import devices, vocabulary
from crowd.entry import (
    Blocked,
    ComeBackLater,
    EntryLink,
    EntryLinkError,
    OpenInAnotherBrowser,
    TookPartAlready,
)
from crowd.models import (
    CollectionRun,
    ConsentVersion,
    DeviceSwitch,
    StatusCode,
    TaskOutcome,
    Worker,
    person_key_of,
)
from crowd.selectors import SESSION_KEY, run_named
from esc_platform.ratelimits import client_ip

_STATUS_OF_OUTCOME: dict[TaskOutcome, StatusCode] = {
    TaskOutcome.FAILED_TRAINING: StatusCode.FAILED_TRAINING,
    TaskOutcome.LEFT_EARLY: StatusCode.LEFT_EARLY,
    # Nobody came, the partner left, the partner went silent: not their fault (02).
    TaskOutcome.RELEASED_FROM_WAITING: StatusCode.PARTNER_UNRESPONSIVE,
    TaskOutcome.PARTNER_LEFT: StatusCode.PARTNER_UNRESPONSIVE,
    TaskOutcome.PARTNER_UNRESPONSIVE: StatusCode.PARTNER_UNRESPONSIVE,
    TaskOutcome.FINISHED: StatusCode.FINISHED,
}

# What each outcome pays, as a multiplier of base pay: (seeker, supporter); "bonus" and
# "10·bonus" are the run's bonus and ten times it.
_PAY_OF_OUTCOME: dict[TaskOutcome, tuple[str, str]] = {
    TaskOutcome.FAILED_TRAINING: ("", "1"),
    TaskOutcome.LEFT_EARLY: ("1", "1"),
    # The 10·bonus rate is for a supporter who supported; nobody came to be supported.
    TaskOutcome.RELEASED_FROM_WAITING: ("bonus", "bonus"),
    TaskOutcome.PARTNER_LEFT: ("bonus", "10·bonus"),
    TaskOutcome.PARTNER_UNRESPONSIVE: ("bonus", "10·bonus"),
    TaskOutcome.FINISHED: ("10·bonus", "10·bonus"),
}


def status_of(outcome: TaskOutcome) -> StatusCode:
    return _STATUS_OF_OUTCOME[outcome]


def pay_for(run: CollectionRun, role: str, outcome: TaskOutcome) -> Decimal:
    """Total pay of a worker with this outcome; base and bonus from the run (docs/quality.md).

    00 and 01 earn the base; released from waiting, base x bonus; partner left or stopped
    responding, base x bonus for a seeker and base x 10*bonus for a supporter; 03, base x
    10*bonus for both. Rounded to cents.
    """
    rate = _PAY_OF_OUTCOME[outcome][0 if role == vocabulary.SEEKER else 1]
    if not rate:
        raise ValueError("Only supporters take the training, so only they can fail it (00).")
    multiplier = {"1": Decimal(1), "bonus": run.bonus, "10·bonus": 10 * run.bonus}[rate]
    return (run.base_pay * multiplier).quantize(Decimal("0.01"))


def _open_run(name: str) -> CollectionRun:
    """The run an entry link names; no name means the default run."""
    if not name:
        return CollectionRun.get_default()
    run = run_named(name, active_only=True)
    if run is None:
        raise EntryLinkError("The link names a collection run that is not open.")
    return run


@dataclass(frozen=True)
class Browser:
    """The browser an entry link was opened in: its device secret and its network."""

    secret: str
    network_key: str

    @classmethod
    def of(cls, request: HttpRequest) -> Browser:
        """This browser's secret from its device cookie, or a new one when it has none."""
        secret = devices.device_secret(request) or devices.new_device_secret()
        return cls(secret, devices.network_key(client_ip(request)))

    @property
    def device_key(self) -> str:
        return devices.device_key(self.secret)


def enter_worker(request: HttpRequest, link: EntryLink, browser: Browser) -> Worker:
    """Find or create the worker of an entry link, held by this browser, and bind the session.

    The same person always resumes the same worker, in the browser that first opened the link;
    the id of someone who already took part (in this run, or anywhere in the study when the run
    says so) is refused, as is a second browser. docs/workers.md, "One browser, one person".
    """
    run = _open_run(link.run_name)
    if not run.accepts(link.provider):
        raise EntryLinkError(
            f"This collection does not take part through {Worker.Provider(link.provider).label}."
        )
    if link.role == vocabulary.SUPPORTER and run.is_evaluation:
        raise EntryLinkError(
            "This study compares computer supporters: it takes part as a help-seeker only. "
            "Please use the help-seeker link of the study."
        )
    _refuse_if_blocked(person_key_of(link.external_id), browser)
    worker = _find_or_create(run, link, browser)
    if worker.role != link.role:
        raise TookPartAlready(
            f"This worker id already takes part as a {worker.role}; "
            f"it cannot also be a {link.role}."
        )
    if worker.data_deleted_at is not None:
        raise EntryLinkError("This worker's data was deleted at their request.")
    worker = _hold(worker, browser)
    if request.session.get(SESSION_KEY) != worker.pk:
        request.session.cycle_key()
    request.session[SESSION_KEY] = worker.pk
    request.session[devices.DEVICE_SESSION_KEY] = worker.device_key
    return worker


def _refuse_if_blocked(person: str, browser: Browser) -> None:
    """A blocked person, under any id known for them or from a blocked worker's browser."""
    from settlement.models import Block, BlockedId  # settlement builds on this app

    blocked = BlockedId.objects.filter(person_key=person, block__lifted_at__isnull=True).exists()
    if not blocked and browser.device_key:
        blocked = Block.objects.filter(
            worker__device_key=browser.device_key, lifted_at__isnull=True
        ).exists()
    if blocked:
        raise Blocked(
            "You cannot take part in this lab's studies. If you think this is a mistake, "
            "please contact the researcher named on the study's page."
        )


def _find_or_create(run: CollectionRun, link: EntryLink, browser: Browser) -> Worker:
    person = person_key_of(link.external_id)
    try:
        with transaction.atomic():
            _lock_study(run)
            worker = Worker.objects.filter(run=run, person_key=person).first()
            if worker is None:
                _refuse_if_took_part_elsewhere(run, person)
                _refuse_if_no_place(run, link)
                return Worker.objects.create(
                    **_new_worker_fields(run, link, person),
                    simulated=_rehearsal_of(run, link),
                    device_key=browser.device_key,
                    network_key=browser.network_key,
                )
    except IntegrityError:
        # Two tabs arrived at once: the other one created the row.
        worker = Worker.objects.get(run=run, person_key=person)
    if worker.provider != link.provider or worker.external_id != link.external_id:
        raise TookPartAlready("This person already takes part in this collection under another id.")
    return worker


def _rehearsal_of(run: CollectionRun, link: EntryLink) -> bool:
    """Whether the new worker is simulated: only a live rehearsal token of the run says so."""
    if not link.rehearsal:
        return False
    from rehearsal import tokens  # rehearsal builds on this app

    token = tokens.live_token(run, link.rehearsal)
    if token is None:
        raise EntryLinkError("This rehearsal link is not valid for this run, or it has expired.")
    tokens.count_entry(token)
    return True


def _new_worker_fields(run: CollectionRun, link: EntryLink, person: str) -> dict[str, object]:
    return {
        "run": run,
        "provider": link.provider,
        "external_id": link.external_id,
        "person_key": person,
        "role": link.role,
        "study_id": link.study_id,
        "assignment_id": link.assignment_id,
        "hit_id": link.hit_id,
        "mturk_submit_to": link.mturk_submit_to,
        "qualification": (
            Worker.Qualification.NOT_STARTED
            if link.role == vocabulary.SUPPORTER
            else Worker.Qualification.NOT_APPLICABLE
        ),
    }


def _lock_study(run: CollectionRun) -> None:
    """Serialise entries of one study, so one person cannot slip into two of its runs at once."""
    runs = CollectionRun.objects.filter(pk=run.pk)
    if run.participation == CollectionRun.Participation.ONCE_PER_STUDY:
        runs = CollectionRun.objects.filter(study=run.study)
    list(runs.select_for_update().order_by("pk").values_list("pk", flat=True))


# How each site's worker leaves a task they cannot do now without it counting against them.
_COME_BACK = {
    "prolific": "Please return the study on Prolific (its Return button): you have not "
    "started, so returning does not count against you.",
    "mturk": "Please return the HIT on MTurk: you have not started, so this does not count "
    "against you.",
    "other": "Please close this page.",
}


def _refuse_if_no_place(run: CollectionRun, link: EntryLink) -> None:
    """Before anything is made: refuse a newcomer the run cannot match soon (or takes none)."""
    back = _COME_BACK.get(link.provider, _COME_BACK["other"])
    if run.paused or run.entry_closed_at is not None:
        raise ComeBackLater(f"This study is not taking new participants right now. {back}")
    if run.entry_balance is None or run.is_evaluation:
        return  # no balance asked for; or seekers who talk to models, with nobody to wait for
    other = vocabulary.SUPPORTER if link.role == vocabulary.SEEKER else vocabulary.SEEKER
    if on_their_way(run, link.role) - on_their_way(run, other) >= run.entry_balance:
        raise ComeBackLater(
            f"Too few {other}s are taking part at the moment for you to be matched with one "
            f"soon, and we do not want you to wait for nothing. {back} Please try again later."
        )


def on_their_way(run: CollectionRun, role: str) -> int:
    """Workers of the role in the waiting room, or started recently towards it."""
    recent = timezone.now() - timedelta(minutes=run.expected_minutes)
    return (
        Worker.objects.filter(run=run, role=role)
        .filter(
            Q(stage=Worker.Stage.WAITING)
            | Q(
                stage__in=[Worker.Stage.CONSENT, Worker.Stage.TUTORIAL, Worker.Stage.PRE_SURVEY],
                created_at__gte=recent,
            )
        )
        .count()
    )


def _refuse_if_took_part_elsewhere(run: CollectionRun, person: str) -> None:
    if run.participation != CollectionRun.Participation.ONCE_PER_STUDY:
        return
    if Worker.objects.filter(run__study=run.study, person_key=person).exclude(run=run).exists():
        raise TookPartAlready(
            "You have already taken part in this study, and each person takes part once."
        )


# A task may move to another browser only while no conversation of theirs is live.
_MOVABLE_STAGES = tuple(stage for stage in Worker.Stage if stage != Worker.Stage.CHATTING)


def _hold(worker: Worker, browser: Browser) -> Worker:
    """The worker, held by this browser: bound now if nobody held it, moved if the run allows."""
    key = browser.device_key
    if not worker.device_key:
        Worker.objects.filter(pk=worker.pk, device_key="").update(device_key=key)
        worker.refresh_from_db()
    if worker.device_key == key:
        return worker
    run = worker.run
    if not run.allow_device_switch or worker.stage not in _MOVABLE_STAGES:
        raise OpenInAnotherBrowser(
            "Please go on in the browser where you started this task. If you cannot use that "
            "browser any more, write to the researchers through the crowd site."
        )
    with transaction.atomic():
        moved = Worker.objects.filter(pk=worker.pk, device_key=worker.device_key).update(
            device_key=key
        )
        if moved:
            DeviceSwitch.objects.create(
                worker=worker,
                stage=worker.stage,
                from_device=worker.device_key[:12],
                to_device=key[:12],
                same_network=bool(browser.network_key)
                and browser.network_key == worker.network_key,
            )
    worker.refresh_from_db()
    if worker.device_key != key:  # another browser moved it at the same moment
        raise OpenInAnotherBrowser("This task was just opened in another browser.")
    return worker


def give_consent(worker: Worker, version: ConsentVersion | None = None) -> Worker:
    """Record consent (to `version`, the text they read) and move the worker to the first step
    of their role."""
    updated = Worker.objects.filter(pk=worker.pk, stage=Worker.Stage.CONSENT).update(
        consented_at=timezone.now(),
        consent_version=version,
        stage=Worker.Stage.TUTORIAL if worker.is_supporter else Worker.Stage.PRE_SURVEY,
    )
    worker.refresh_from_db()
    if updated and worker.is_supporter and worker.qualification == Worker.Qualification.NOT_STARTED:
        if _trained_earlier(worker):
            Worker.objects.filter(pk=worker.pk).update(
                qualification=Worker.Qualification.QUALIFIED,
                qualified_at=timezone.now(),
                qualified_earlier=True,
            )
            return enter_waiting_room(worker)
        Worker.objects.filter(pk=worker.pk).update(qualification=Worker.Qualification.IN_TRAINING)
        worker.refresh_from_db()
    return worker


def _trained_earlier(worker: Worker) -> bool:
    """Whether the run takes earlier training and this person passed it in another run."""
    if not worker.run.accept_earlier_training:
        return False
    return (
        Worker.objects.filter(
            person_key=worker.person_key,
            role=vocabulary.SUPPORTER,
            qualification=Worker.Qualification.QUALIFIED,
            run__is_demo=False,
        )
        .exclude(run=worker.run)
        .exists()
    )


def record_outcome(worker: Worker, outcome: TaskOutcome) -> Worker:
    """Give the worker the status code and pay of how their task ended. First outcome wins.

    Computed only from the outcome the server observed, never from what a browser claims. A
    second call (a retried request, both partners ending at once) changes nothing: the update
    only touches a worker with no status yet.
    """
    status = _STATUS_OF_OUTCOME[outcome]
    run = worker.run
    total = pay_for(run, worker.role, outcome)
    Worker.objects.filter(pk=worker.pk, status_code="").update(
        status_code=status,
        outcome=outcome,
        pay_base=run.base_pay,
        pay_total=total,
        finished_at=timezone.now(),
    )
    worker.refresh_from_db()
    return worker


def enter_waiting_room(worker: Worker) -> Worker:
    """Put a qualified supporter or a surveyed seeker in the matching queue (oldest first)."""
    Worker.objects.filter(pk=worker.pk).update(
        stage=Worker.Stage.WAITING, waiting_since=timezone.now()
    )
    worker.refresh_from_db()
    return worker


# Stages after the task has ended: a late or repeated finish never moves a worker back.
_ENDED_STAGES = (Worker.Stage.POST_SURVEY, Worker.Stage.DONE)


def finish_worker(worker: Worker, outcome: TaskOutcome, *, post_survey: bool) -> Worker:
    """Record how the task ended and move the worker to the post-chat survey or the status page.

    Safe to call twice: the first outcome is kept, and a worker already at the post-chat survey
    or done stays where they are.
    """
    with transaction.atomic():
        worker = record_outcome(worker, outcome)
        stage = Worker.Stage.POST_SURVEY if post_survey else Worker.Stage.DONE
        Worker.objects.filter(pk=worker.pk).exclude(stage__in=_ENDED_STAGES).update(stage=stage)
    worker.refresh_from_db()
    return worker


def complete_task(worker: Worker) -> Worker:
    """Move a worker whose task has ended (post-chat survey answered or not owed) to done."""
    Worker.objects.filter(pk=worker.pk, stage=Worker.Stage.POST_SURVEY).update(
        stage=Worker.Stage.DONE
    )
    worker.refresh_from_db()
    return worker


def completion_code_for(worker: Worker) -> str:
    """The code the worker gives the crowd site: for a Prolific worker the study's code for
    their status (set on the run), else the worker's own."""
    if worker.provider != Worker.Provider.PROLIFIC:
        return worker.completion_code
    codes = worker.run.site_completion_codes or {}
    site_code = codes.get(worker.status_code) if isinstance(codes, dict) else None
    return str(site_code) if site_code else worker.completion_code


def completion_url_for(worker: Worker) -> str:
    """The return link of a Prolific or generic-link worker ("{code}" and "{status}" filled
    in), or "" if the run has none for their site."""
    run = worker.run
    template = {
        Worker.Provider.PROLIFIC: run.prolific_completion_url,
        Worker.Provider.OTHER: run.other_return_url,
    }.get(Worker.Provider(worker.provider), "")
    if not template or not worker.status_code:
        return ""
    return template.replace("{code}", quote(completion_code_for(worker), safe="")).replace(
        "{status}", worker.status_code
    )


def mturk_submit_url_for(worker: Worker) -> str:
    """Where an MTurk worker's assignment is submitted: the host their HIT came from."""
    if worker.provider != Worker.Provider.MTURK or not worker.assignment_id:
        return ""
    host = worker.mturk_submit_to or (
        "https://workersandbox.mturk.com" if worker.run.mturk_sandbox else "https://www.mturk.com"
    )
    return f"{host}/mturk/externalSubmit"
