"""Workers built through the crowd services: runs, the entry link, consent, a browser session.

A worker always arrives the way the crowd site sends them: `enter` opens their entry link
(`/start/?role=...&PROLIFIC_PID=...`), in a test client through the real view, or without one
through `crowd.services.enter_worker` on a request with a session (RequestFactory +
SessionMiddleware); then consent is given on the consent page or by `crowd.services.give_consent`.
The people are the cast's (tests/cast.py).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory

from crowd import services
from crowd.entry import parse_entry_link
from crowd.models import CollectionRun, Worker
from crowd.selectors import SESSION_KEY
from tests.cast import Actor

# A run whose chats may end at once: no minimum turns or time, no silence to wait for.
QUICK_ENDINGS: dict[str, Any] = {
    "min_turns_to_end": 0,
    "min_seconds_to_end": 0,
    "partner_silence_seconds": 0,
}


def make_run(name: str | None = None, **settings: Any) -> CollectionRun:
    """A collection run with the model's defaults (what staff get in the admin) but `settings`.

    Runs are configuration staff create in the admin; no service makes them.
    """
    return CollectionRun.objects.create(name=name or f"run-{uuid.uuid4().hex[:8]}", **settings)


def quick_run(name: str = "study", **settings: Any) -> CollectionRun:
    """A run whose chats may end at once (see QUICK_ENDINGS), for tests about what follows."""
    return make_run(name, **{**QUICK_ENDINGS, **settings})


def entry_params(
    actor: Actor | str, role: str, run: CollectionRun | None, *, mturk: bool = False
) -> dict[str, str]:
    """The query string the crowd site puts on the entry link of this person."""
    name = actor.name if isinstance(actor, Actor) else actor
    params = {"role": role}
    if mturk:
        worker_id = actor.mturk_id if isinstance(actor, Actor) else name
        params.update(workerId=worker_id, assignmentId=f"A-{worker_id}", hitId="H1")
    else:
        params.update(PROLIFIC_PID=name, STUDY_ID="study-1", SESSION_ID=f"s-{name}")
    if run is not None:
        params["run"] = run.name
    return params


def _request_with_session(params: dict[str, str]) -> HttpRequest:
    request = RequestFactory().get("/start/", params)
    SessionMiddleware(lambda _request: HttpResponse()).process_request(request)
    return request


def _open_link(params: dict[str, str]) -> tuple[Worker, str]:
    """crowd.services.enter_worker on a fresh browser session; the worker and the session key."""
    request = _request_with_session(params)
    worker = services.enter_worker(request, parse_entry_link(request.GET))
    request.session.save()
    assert request.session.session_key is not None
    return worker, request.session.session_key


def enter(
    actor: Actor,
    run: CollectionRun | None = None,
    *,
    client: Client | None = None,
    mturk: bool = False,
    consent: bool = True,
) -> Worker:
    """The actor opens their entry link (in `client`, through the pages) and gives consent.

    Without a run the link names none, so the worker joins the default run.
    """
    params = entry_params(actor, actor.role, run, mturk=mturk)
    if client is not None:
        response = client.get("/start/", params)
        assert response.status_code == 302, response.content[:500]
        if consent:
            response = client.post("/consent/", {"agree": "yes"})
            assert response.status_code == 302, response.content[:500]
        worker_id = client.session[SESSION_KEY]
        return Worker.objects.select_related("run").get(pk=worker_id)
    worker, _ = _open_link(params)
    return services.give_consent(worker) if consent else worker


def _own_link(worker: Worker) -> dict[str, str]:
    mturk = worker.provider == Worker.Provider.MTURK
    params = entry_params(worker.external_id, worker.role, worker.run, mturk=mturk)
    if mturk:
        params["assignmentId"] = worker.assignment_id
        params["hitId"] = worker.hit_id
    return params


def rejoin(client: Client, worker: Worker) -> Client:
    """Open the worker's own entry link again in `client` (a new browser): it resumes them."""
    response = client.get("/start/", _own_link(worker))
    assert response.status_code == 302, response.content[:500]
    assert client.session[SESSION_KEY] == worker.pk
    return client


def session_key(worker: Worker) -> str:
    """The session a new browser gets from the worker's own entry link (crowd.services)."""
    resumed, key = _open_link(_own_link(worker))
    assert resumed.pk == worker.pk
    return key


def session_cookie(worker: Worker) -> str:
    return f"sessionid={session_key(worker)}"
