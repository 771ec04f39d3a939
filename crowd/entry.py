"""Parsing of the crowd-site entry link (Prolific or MTurk style)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from crowd import vocabulary
from crowd.models import Worker

_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,127}$")
_TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_\-]{16,64}$")
ASSIGNMENT_NOT_ACCEPTED = "ASSIGNMENT_ID_NOT_AVAILABLE"
# Where MTurk says a HIT returns (its turkSubmitTo parameter): production or the sandbox.
MTURK_HOSTS = ("https://www.mturk.com", "https://workersandbox.mturk.com")


class EntryLinkError(ValueError):
    """The entry link cannot identify a worker; the message is shown to the worker."""

    status = 400
    headline = "We could not start your task"


class TookPartAlready(EntryLinkError):
    """The person behind this id has a task in this run or study already (another id/role)."""

    status = 403
    headline = "You have already taken part"


class Blocked(EntryLinkError):
    """The person was blocked from the lab's studies by a reviewer (settlement.blocks)."""

    status = 403
    headline = "You cannot take part"


class ComeBackLater(EntryLinkError):
    """Nobody could be matched with this newcomer soon, or the run takes nobody now."""

    status = 503
    headline = "Please come back later"


class OpenInAnotherBrowser(EntryLinkError):
    """The task of this id is held by another browser (crowd/devices.py)."""

    status = 409
    headline = "This task is open in another browser"


@dataclass(frozen=True)
class EntryLink:
    role: str
    provider: str
    external_id: str
    study_id: str
    assignment_id: str
    hit_id: str
    run_name: str
    mturk_submit_to: str = ""
    # A rehearsal token (simulate_run's workers only; checked in crowd.services).
    rehearsal: str = ""


def _clean_id(params: Mapping[str, str], key: str, *, required: bool) -> str:
    value = params.get(key, "").strip()
    if not value:
        if required:
            raise EntryLinkError(f"The link is missing {key}.")
        return ""
    if not _ID_PATTERN.match(value):
        raise EntryLinkError(
            f"{key} in the link is not a valid id (letters, digits, '-' and '_' only, "
            "at most 128 characters)."
        )
    return value


def _submit_host(params: Mapping[str, str]) -> str:
    host = params.get("turkSubmitTo", "").strip().rstrip("/")
    if host and host not in MTURK_HOSTS:
        raise EntryLinkError("turkSubmitTo in the link is not an MTurk address.")
    return host


def parse_entry_link(params: Mapping[str, str]) -> EntryLink:
    """Read role and crowd-site ids from the query string; raise EntryLinkError if unusable."""
    link = _parse_ids(params)
    rehearsal = params.get("rehearsal", "").strip()
    if not rehearsal:
        return link
    if not _TOKEN_PATTERN.match(rehearsal):
        raise EntryLinkError("The rehearsal token in the link is not valid.")
    return replace(link, rehearsal=rehearsal)


def _parse_ids(params: Mapping[str, str]) -> EntryLink:
    role = params.get("role", "").strip().lower()
    if role not in (vocabulary.SEEKER, vocabulary.SUPPORTER):
        raise EntryLinkError("The link does not say whether you are a seeker or a supporter.")
    run_name = params.get("run", "").strip()
    if run_name and not re.match(r"^[-a-zA-Z0-9_]{1,64}$", run_name):
        raise EntryLinkError("The link names a collection run that cannot exist.")

    if "PROLIFIC_PID" in params:
        return EntryLink(
            role=role,
            provider=Worker.Provider.PROLIFIC,
            external_id=_clean_id(params, "PROLIFIC_PID", required=True),
            study_id=_clean_id(params, "STUDY_ID", required=False),
            assignment_id=_clean_id(params, "SESSION_ID", required=False),
            hit_id="",
            run_name=run_name,
        )
    if "workerId" in params:
        if params.get("assignmentId") == ASSIGNMENT_NOT_ACCEPTED:
            raise EntryLinkError("Please accept the HIT before starting the task.")
        return EntryLink(
            role=role,
            provider=Worker.Provider.MTURK,
            external_id=_clean_id(params, "workerId", required=True),
            study_id="",
            assignment_id=_clean_id(params, "assignmentId", required=False),
            hit_id=_clean_id(params, "hitId", required=False),
            run_name=run_name,
            mturk_submit_to=_submit_host(params),
        )
    if "participant" in params:
        # Any other site: its own id for the person, and optionally a study and a session.
        return EntryLink(
            role=role,
            provider=Worker.Provider.OTHER,
            external_id=_clean_id(params, "participant", required=True),
            study_id=_clean_id(params, "study", required=False),
            assignment_id=_clean_id(params, "session", required=False),
            hit_id="",
            run_name=run_name,
        )
    raise EntryLinkError(
        "The link carries no worker id (PROLIFIC_PID for Prolific, workerId for MTurk, "
        "participant for other sites)."
    )
