"""The quiz measures: what a worker is shown in attempt 1 does not help them pass attempt 2.

A scripted supporter answers attempt 1 at random through the API, as a browser would, and
keeps everything it is shown: which option texts were right or wrong, which place on the
page was right for each part, every question, and every string of every response (the
feedback's explanations included). In attempt 2 it answers from that memory: a text known to
be right if it sees one, never a text known to be wrong, the place that was right last time,
and any option the responses mentioned; else a random one.

If nothing carries over, each attempt-2 answer is right with probability exactly 1/4: the
items are new to the worker (banks of 3, fresh draws), no option text appears in two items
or in any explanation (tutorial/content.py), and the right option is in a uniformly random
place (shuffled per attempt), so the memory picks an option that is right 1 time in 4. The
number right per worker is then Binomial(11, 1/4), and the test asserts that what 200
simulated supporters achieve stays within what that predicts (bounds with a one-in-a-million
chance of failing by bad luck). A control shows the memory is not useless: applied to attempt
1's own items, as if they came back, it would be right more than four times in ten, far outside
the bounds, so a quiz that let knowledge transfer would fail this test (a quiz that showed the
same items in the same order in attempt 2 makes about 120 of some 145 second attempts pass).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from math import comb, exp, lgamma
from math import log as log_of
from typing import Any

import pytest
from django.test import Client

from crowd import vocabulary
from crowd.models import CollectionRun, Worker
from crowd.selectors import SESSION_KEY
from tests.cast import extra
from tests.crowd.factories import enter, make_run, session_key
from tutorial.content import DEFAULT_CONTENT_PATH, normal_form, read_content_file

pytestmark = pytest.mark.django_db

SEED = 20261202
SUPPORTERS = 200
PARTS = 11
OPTIONS = 4
# A lenient run for the simulation: at most 7 wrong, so 4 right of 11 pass. Chance alone then
# passes about 29% of attempts: common enough that a leak would show in the pass rate.
MAX_WRONG = 7
ALPHA = 1e-6
LESSON_FIELDS = {"key", "kind", "title", "definition", "example", "number"}


def binomial_pmf(n: int, p: float, k: int) -> float:
    """P(X = k) for X ~ Binomial(n, p), in log space (n may be in the thousands)."""
    log = lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1)
    return exp(log + k * log_of(p) + (n - k) * log_of(1 - p))


def binomial_bounds(n: int, p: float, alpha: float = ALPHA) -> tuple[int, int]:
    """(lo, hi) with P(X < lo) <= alpha and P(X > hi) <= alpha for X ~ Binomial(n, p)."""
    pmf = [binomial_pmf(n, p, k) for k in range(n + 1)]
    lo, below = 0, 0.0
    while below + pmf[lo] <= alpha:
        below += pmf[lo]
        lo += 1
    hi, above = n, 0.0
    while above + pmf[hi] <= alpha:
        above += pmf[hi]
        hi -= 1
    return lo, hi


def pass_chance(max_wrong: int) -> float:
    """P(a worker answering each part right with probability 1/4 passes)."""
    return sum(binomial_pmf(PARTS, 1 / OPTIONS, k) for k in range(PARTS - max_wrong, PARTS + 1))


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() if k not in LESSON_FIELDS for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


@dataclass
class Memory:
    """Everything a scripted supporter keeps from attempt 1."""

    right_texts: set[str] = field(default_factory=set)
    wrong_texts: set[str] = field(default_factory=set)
    right_places: dict[int, int] = field(default_factory=dict)
    wrong_places: dict[int, int] = field(default_factory=dict)
    questions: set[str] = field(default_factory=set)
    said: set[str] = field(default_factory=set)  # normal forms of every string in responses
    shown: list[dict[str, Any]] = field(default_factory=list)  # attempt 1's parts, as shown

    def hear(self, body: Any) -> None:
        self.said.update(normal_form(s) for s in _strings(body))

    def mentioned(self, option: str) -> bool:
        text = normal_form(option)
        return any(f" {text} " in f" {said} " for said in self.said)

    def choose(self, part: dict[str, Any], rng: random.Random) -> int:
        options = [normal_form(o) for o in part["options"]]
        known = [i for i, o in enumerate(options) if o in self.right_texts]
        if known:
            return known[0]
        allowed = [i for i, o in enumerate(options) if o not in self.wrong_texts] or list(
            range(len(options))
        )
        number = part["number"]
        if self.right_places.get(number) in allowed:
            return self.right_places[number]
        if len(allowed) > 1 and self.wrong_places.get(number) in allowed:
            allowed.remove(self.wrong_places[number])
        hinted = [i for i in allowed if self.mentioned(part["options"][i])]
        return rng.choice(hinted or allowed)


class ScriptedSupporter:
    def __init__(self, client: Client, rng: random.Random) -> None:
        self.client, self.rng, self.memory = client, rng, Memory()

    def _listing(self, *, learn: bool) -> list[dict[str, Any]]:
        response = self.client.get("/api/tutorial/")
        assert response.status_code == 200, response.content[:300]
        body = response.json()
        if learn:
            self.memory.hear(body)
        return body["subtasks"]

    def _answer(self, part: dict[str, Any], place: int, *, learn: bool) -> dict[str, Any]:
        response = self.client.post(
            f"/api/tutorial/{part['number']}/answer/",
            {"option": place, "item": part["item"]},
            content_type="application/json",
        )
        assert response.status_code == 200, response.content[:300]
        body = response.json()
        if learn:
            self.memory.hear(body)
        return body

    def _submit(self) -> Worker:
        assert self.client.post("/tutorial/submit/").status_code == 302
        return Worker.objects.get(pk=self.client.session[SESSION_KEY])

    def attempt_1(self) -> bool:
        """Answer at random and remember; True when this random attempt happened to pass."""
        memory = self.memory
        for part in self._listing(learn=True):
            place = self.rng.randrange(len(part["options"]))
            feedback = self._answer(part, place, learn=True)
            text = normal_form(part["options"][place])
            (memory.right_texts if feedback["correct"] else memory.wrong_texts).add(text)
            places = memory.right_places if feedback["correct"] else memory.wrong_places
            places[part["number"]] = place
            memory.questions.add(normal_form(part["question"]))
            memory.shown.append(part)
        self._listing(learn=True)  # the listing after answering: feedback of every part
        return self._submit().is_qualified

    def attempt_2(self) -> tuple[bool, int, int]:
        """(passed, answers right, questions seen before) from the memory of attempt 1."""
        assert self.client.post("/tutorial/retry/")["Location"] == "/tutorial/1/"
        right = repeated = 0
        for part in self._listing(learn=False):
            repeated += normal_form(part["question"]) in self.memory.questions
            place = self.memory.choose(part, self.rng)
            right += self._answer(part, place, learn=False)["correct"]
        return self._submit().is_qualified, right, repeated

    def replay(self, key: dict[str, str]) -> int:
        """Control: answers right if attempt 1's own items came back (same order)."""
        return sum(
            normal_form(part["options"][self.memory.choose(part, self.rng)])
            == normal_form(key[part["question"]])
            for part in self.memory.shown
        )


def _material() -> dict[str, str]:
    """What a trained supporter knows: for each question, the right option (the content file)."""
    data = read_content_file(DEFAULT_CONTENT_PATH)
    return {
        " ".join(item["question"].split()): item["options"][item["answer"]]
        for subtask in data["subtasks"]
        for item in subtask["items"]
    }


def _client_of(run: CollectionRun, number: int) -> Client:
    worker = enter(extra(vocabulary.SUPPORTER, number), run)
    client = Client()
    client.cookies["sessionid"] = session_key(worker)
    return client


def test_what_attempt_1_shows_does_not_help_anyone_pass_attempt_2(content) -> None:
    run = make_run("measure", quiz_max_wrong=MAX_WRONG, quiz_max_attempts=2)
    rng = random.Random(SEED)
    material = _material()
    passes = rights = repeats = replayed = takers = 0
    for number in range(SUPPORTERS):
        supporter = ScriptedSupporter(_client_of(run, number), rng)
        if supporter.attempt_1():
            continue  # passed by luck: no second attempt to measure
        passed, right, repeated = supporter.attempt_2()
        takers += 1
        passes += passed
        rights += right
        repeats += repeated
        replayed += supporter.replay(material)

    chance = pass_chance(MAX_WRONG)
    lo_pass, hi_pass = binomial_bounds(takers, chance)
    lo_right, hi_right = binomial_bounds(takers * PARTS, 1 / OPTIONS)
    report = (
        f"{takers} took attempt 2: {passes} passed (chance: {chance * takers:.1f}, "
        f"bounds {lo_pass}-{hi_pass}); {rights} of {takers * PARTS} answers right "
        f"(bounds {lo_right}-{hi_right}); replayed memory: {replayed} right"
    )
    assert takers >= 100, report  # about 71% of random first attempts fail
    assert repeats == 0, report  # no question came back
    assert lo_pass <= passes <= hi_pass, report
    assert lo_right <= rights <= hi_right, report
    # The control: the same memory on attempt 1's own items would beat chance by far.
    assert replayed > hi_right, report


def test_a_supporter_who_knows_the_material_passes(content) -> None:
    run = make_run("knowing")  # the default rule: every answer right, two attempts
    material = _material()
    for number in range(20):
        client = _client_of(run, number)
        for part in client.get("/api/tutorial/").json()["subtasks"]:
            place = part["options"].index(material[" ".join(part["question"].split())])
            client.post(
                f"/api/tutorial/{part['number']}/answer/",
                {"option": place, "item": part["item"]},
                content_type="application/json",
            )
        assert client.post("/tutorial/submit/")["Location"] == "/chat/waiting/"
    assert (
        Worker.objects.filter(run=run, qualification=Worker.Qualification.QUALIFIED).count() == 20
    )


def test_the_chance_arithmetic() -> None:
    # Binomial(11, 1/4): P(at least 4 right) = 1 - P(0..3 right).
    expected = 1 - sum(comb(11, k) * 3 ** (11 - k) for k in range(4)) / 4**11
    assert abs(pass_chance(7) - expected) < 1e-12
    assert 0.28 < pass_chance(7) < 0.29
    assert abs(pass_chance(0) - 0.25**11) < 1e-15
    lo, hi = binomial_bounds(100, 0.5)
    assert 25 < lo < 50 < hi < 75 and lo + hi == 100
