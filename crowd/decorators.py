"""View decorators for crowdworker pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from crowd.models import Worker
from crowd.selectors import current_worker

P = ParamSpec("P")
WorkerView = Callable[Concatenate[HttpRequest, Worker, P], HttpResponse]


def worker_required(view: WorkerView[P]) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
    """Pages for crowdworkers: the view gets the session's worker as its second argument.

    A browser bound to no worker gets the 'use your task link' page instead.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        worker = current_worker(request)
        if worker is None:
            return render(request, "crowd/no_session.html", status=403)
        return view(request, worker, *args, **kwargs)

    return wrapper
