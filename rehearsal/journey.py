"""The whole journey of one simulated pair, step by step, timed (docs/rehearsal.md).

Each worker has its own browser (rehearsal.browser) and goes where the server sends it: the
entry link, consent, the training and its quiz (supporters) or the pre-chat survey (seekers),
the waiting room, the chat, the post-chat survey and the status page with its completion
code. A step that does not end where a worker's would fails the journey with what happened.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async

from crowd.models import CollectionRun
from rehearsal import answers
from rehearsal.browser import Browser, Page, StepFailed
from rehearsal.chat import ChatSide

MATCH_POLL_SECONDS = 2.0


@dataclass
class Step:
    worker: str
    name: str
    ok: bool
    seconds: float
    detail: str = ""


@dataclass
class Settings:
    base_url: str
    run: CollectionRun
    token: str
    prefix: str
    chars_per_second: float
    max_wait_seconds: float
    partner_wait_seconds: float


@dataclass
class Journey:
    """One simulated worker: its id, role, browser and the steps it took."""

    settings: Settings
    role: str
    number: int
    steps: list[Step] = field(default_factory=list)
    completion_code: str = ""
    page: Page | None = None
    on_step: Callable[[Step], None] | None = None

    def __post_init__(self) -> None:
        self.external_id = f"{self.settings.prefix}-{self.role}-{self.number}"
        self.label = f"{self.role} {self.number}"
        self.rng = random.Random(self.external_id)
        self.browser = Browser(self.settings.base_url)

    async def step(self, name: str, action: Callable[[], Awaitable[str]]) -> None:
        started = time.monotonic()
        try:
            detail = await action()
        except Exception as exc:
            text = str(exc) if isinstance(exc, StepFailed) else f"{type(exc).__name__}: {exc}"
            self._record(Step(self.label, name, False, time.monotonic() - started, text))
            raise StepFailed(text) from exc
        self._record(Step(self.label, name, True, time.monotonic() - started, detail))

    def _record(self, step: Step) -> None:
        self.steps.append(step)
        if self.on_step is not None:
            self.on_step(step)

    def _expect(self, page: Page, path: str, what: str) -> Page:
        if page.status >= 400 or not page.path.startswith(path):
            raise StepFailed(
                f"{what}: expected {path}, the server answered {page.status} at {page.path}"
            )
        self.page = page
        return page

    # --- the steps ---------------------------------------------------------------------------

    def entry_params(self) -> dict[str, str]:
        run = self.settings.run
        params = {"role": self.role, "run": run.name, "rehearsal": self.settings.token}
        session = f"{self.external_id}-session"
        if run.accepts_prolific:
            params |= {
                "PROLIFIC_PID": self.external_id,
                "STUDY_ID": "rehearsal",
                "SESSION_ID": session,
            }
        elif run.accepts_mturk:
            params |= {"workerId": self.external_id, "assignmentId": session, "hitId": "rehearsal"}
        else:
            params |= {"participant": self.external_id, "study": "rehearsal", "session": session}
        return params

    async def enter(self) -> str:
        page = await self.browser.get("/start/", self.entry_params())
        self._expect(page, "/consent/", "the entry link")
        return "at the consent page"

    async def consent(self) -> str:
        assert self.page is not None
        page = await self.browser.submit_first_form(self.page, self.rng)
        expected = "/tutorial/" if self.role == "supporter" else "/surveys/pre-chat/"
        self._expect(page, expected, "agreeing to the consent text")
        return f"agreed; sent to {page.path}"

    async def training(self) -> str:
        response = await self.browser.get_json("/api/tutorial/")
        if response.status_code != 200:
            raise StepFailed(f"the tutorial API answered {response.status_code}")
        parts = response.json()["subtasks"]
        places = await sync_to_async(answers.right_places)(self.settings.run, self.external_id)
        for part in parts:
            await asyncio.sleep(self.rng.uniform(0.2, 0.6))  # reading the part
            body = {"option": places[part["item"]], "item": part["item"]}
            answer = await self.browser.post_json(f"/api/tutorial/{part['number']}/answer/", body)
            if answer.status_code != 200 or not answer.json().get("correct"):
                raise StepFailed(
                    f"part {part['number']}: the answer was not taken ({answer.status_code})"
                )
        page = await self.browser.get("/tutorial/submit/")
        page = await self.browser.submit_first_form(page, self.rng)
        self._expect(page, "/chat/waiting/", "submitting the quiz")
        return f"passed the quiz ({len(parts)} parts)"

    async def pre_survey(self) -> str:
        assert self.page is not None
        page = await self.browser.submit_first_form(self.page, self.rng)
        self._expect(page, "/chat/waiting/", "the pre-chat survey")
        return "answered"

    async def wait_for_partner(self) -> str:
        started = time.monotonic()
        while time.monotonic() - started < self.settings.max_wait_seconds:
            response = await self.browser.post_json("/api/chat/match/")
            if response.status_code != 200:
                raise StepFailed(
                    f"the match endpoint answered {response.status_code}: {response.text[:200]}"
                )
            state: dict[str, Any] = response.json()
            if state["state"] == "matched":
                self._expect(await self.browser.get(state["next_url"]), "/chat/room/", "the match")
                return f"matched after {time.monotonic() - started:.1f} s"
            if state["state"] != "waiting":
                raise StepFailed(
                    f"left the waiting room: {state['state']} → {state.get('next_url')}"
                )
            await asyncio.sleep(MATCH_POLL_SECONDS)
        raise StepFailed(f"no partner within {self.settings.max_wait_seconds:.0f} s")

    async def chat(self) -> str:
        assert self.page is not None
        config = Browser.chat_config(self.page)
        side = ChatSide(
            self.browser,
            self.role,
            str(config["wsPath"]),
            seed=self.external_id,
            chars_per_second=self.settings.chars_per_second,
            partner_wait_seconds=self.settings.partner_wait_seconds,
        )
        outcome = await side.run()
        if outcome.end_reason != "finished":
            raise StepFailed(f"the chat ended as {outcome.end_reason!r}, not finished")
        self.page = await self.browser.get(outcome.next_url)
        detail = f"{outcome.sent} messages"
        if self.role == "seeker":
            detail += f", {outcome.ratings} ratings"
        if outcome.warnings:
            detail += f", warnings: {', '.join(outcome.warnings)}"
        return detail

    async def post_survey(self) -> str:
        assert self.page is not None
        self._expect(self.page, "/surveys/post-chat/", "the end of the chat")
        page = await self.browser.submit_first_form(self.page, self.rng)
        self._expect(page, "/done/", "the post-chat survey")
        return "answered"

    async def done(self) -> str:
        assert self.page is not None
        worker = await sync_to_async(_worker_code)(self.settings.run, self.external_id)
        code, status = worker
        if code not in self.page.text:
            raise StepFailed("the status page does not show the completion code")
        self.completion_code = code
        return f"status {status}, completion code shown"

    async def walk(self) -> None:
        try:
            await self.step("entry link", self.enter)
            await self.step("consent", self.consent)
            if self.role == "supporter":
                await self.step("training and quiz", self.training)
            else:
                await self.step("pre-chat survey", self.pre_survey)
            await self.step("waiting room", self.wait_for_partner)
            await self.step("chat", self.chat)
            await self.step("post-chat survey", self.post_survey)
            await self.step("completion", self.done)
        finally:
            await self.browser.close()


def _worker_code(run: CollectionRun, external_id: str) -> tuple[str, str]:
    from crowd.models import Worker
    from crowd.services import completion_code_for

    worker = Worker.objects.get(run=run, external_id=external_id)
    return completion_code_for(worker), worker.status_code
