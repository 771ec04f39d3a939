"""Workers built through the crowd services: runs, the entry link, consent, a browser session.

A worker always arrives the way the crowd site sends them: `enter` opens their entry link
(`/start/?role=...&PROLIFIC_PID=...`), in a test client through the real view, or without one
through `crowd.services.enter_worker` on a request with a session (RequestFactory +
SessionMiddleware); then consent is given on the consent page or by `crowd.services.give_consent`.
The people are the cast's (tests/cast.py).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import Any

from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory

from crowd import consent as consent_texts
from crowd import devices, services
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


def device_of(params: dict[str, str]) -> str:
    """The device secret of the browser this person uses in the tests: one per person.

    Every entry through these factories comes from that same browser, as a real worker's
    does; a test that wants a stranger's browser uses another secret (or none).
    """
    person = params.get("PROLIFIC_PID") or params.get("workerId", "")
    return f"test-device-{person.casefold()}"


def address_of(params: dict[str, str]) -> str:
    """The network address this person's browser comes from: one of their own (IPv6
    documentation addresses), so no two people of the tests share a network."""
    person = (params.get("PROLIFIC_PID") or params.get("workerId", "")).casefold()
    digest = hashlib.sha256(person.encode()).hexdigest()
    return "2001:db8:" + ":".join(digest[i : i + 4] for i in range(0, 24, 4))


def use_device(client: Client, secret: str) -> Client:
    """Give a test client the device cookie of `secret` (the browser it stands for)."""
    client.cookies[devices.DEVICE_COOKIE] = devices.signed_device_cookie(secret)
    return client


def _request_with_session(params: dict[str, str]) -> HttpRequest:
    request = RequestFactory().get("/start/", params, REMOTE_ADDR=address_of(params))
    SessionMiddleware(lambda _request: HttpResponse()).process_request(request)
    request.COOKIES[devices.DEVICE_COOKIE] = devices.signed_device_cookie(device_of(params))
    return request


def _open_link(params: dict[str, str]) -> tuple[Worker, str]:
    """crowd.services.enter_worker on a fresh browser session; the worker and the session key."""
    request = _request_with_session(params)
    browser = services.Browser.of(request)
    worker = services.enter_worker(request, parse_entry_link(request.GET), browser)
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
        use_device(client, device_of(params))
        response = client.get("/start/", params, REMOTE_ADDR=address_of(params))
        assert response.status_code == 302, response.content[:500]
        if consent:
            response = agree_to_consent(client)
            assert response.status_code == 302, response.content[:500]
        worker_id = client.session[SESSION_KEY]
        return Worker.objects.select_related("run").get(pk=worker_id)
    worker, _ = _open_link(params)
    if not consent:
        return worker
    text = consent_texts.filled_text(worker.run, worker.role)
    return services.give_consent(worker, consent_texts.record(worker.run, worker.role, text))


def agree_to_consent(client: Client, *, agree: bool = True) -> HttpResponse:
    """Read the consent page in `client` and post it (ticked, or not), as a worker does."""
    response = client.get("/consent/")
    if response.status_code == 302:  # consent was given before: the page sends them on
        return response
    page = response.content.decode()
    found = re.search(r'name="text" value="([0-9a-f]{64})"', page)
    assert found, page[:500]
    return client.post("/consent/", {"text": found[1], **({"agree": "yes"} if agree else {})})


def _own_link(worker: Worker) -> dict[str, str]:
    mturk = worker.provider == Worker.Provider.MTURK
    params = entry_params(worker.external_id, worker.role, worker.run, mturk=mturk)
    if mturk:
        params["assignmentId"] = worker.assignment_id
        params["hitId"] = worker.hit_id
    return params


def rejoin(client: Client, worker: Worker) -> Client:
    """Open the worker's own entry link again in `client`, a new session of the worker's own
    browser (its device cookie): it resumes them."""
    params = _own_link(worker)
    use_device(client, device_of(params))
    response = client.get("/start/", params, REMOTE_ADDR=address_of(params))
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
