"""The collection run's admin form: option lists as lines, every threshold explained, and the
settings checked together so that a bad combination is refused with a reason."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from crowd import consent
from crowd.models import DEMO_STUDY, CollectionRun, StatusCode
from safety import resources

# The survey and the conversation store the chosen option in 64 characters.
OPTION_MAX_CHARS = 64
OPTIONS_MAX = 50

# What each threshold does and its unit, shown under the field (docs/operations.md).
THRESHOLD_HELP = {
    "situation_min_words": (
        "Fewest words the seeker's description of their situation may have (words: "
        "runs of visible characters between spaces)."
    ),
    "situation_max_words": "Most words that description may have; at least the minimum.",
    "quiz_max_wrong": (
        "Wrong answers a supporter may give in one quiz attempt and still pass (answers; "
        "0 = every answer right)."
    ),
    "quiz_max_attempts": (
        "Quiz attempts a supporter gets before the training counts as failed (status 00); "
        "at least 1."
    ),
    "max_wait_seconds": (
        "Seconds a worker waits for a partner before being released (status 02, paid base × bonus)."
    ),
    "min_turns_to_end": (
        "Turns before the seeker may end the chat (a turn: the seeker's messages and the "
        "supporter's reply)."
    ),
    "min_seconds_to_end": "Seconds from the chat's start before the seeker may end it.",
    "partner_silence_seconds": (
        "Seconds of the partner's silence before a worker may report 'my partner stopped "
        "responding'."
    ),
    "abandon_after_seconds": (
        "Seconds in which neither side writes before the chat is ended as abandoned "
        "(both get status 01)."
    ),
    "feedback_every": (
        "The seeker rates the support after every this many supporter messages (messages; "
        "at least 1)."
    ),
    "max_message_chars": "Longest chat message, in characters; longer ones are refused.",
}


REJECTION_MIN_CHARS = 100


def settlement_policy_problem(policy: Any) -> str:
    """What is wrong with a settlement policy, or "" (docs/crowd-sites.md, "Settlement")."""
    codes = [code.value for code in StatusCode]
    example = '{"01": {"action": "reject"}, "03": {"bonus": "2.00"}}'
    if not isinstance(policy, dict) or not all(isinstance(v, dict) for v in policy.values()):
        return f"Give a JSON object from status code to what to do, e.g. {example}."
    for code, entry in policy.items():
        if code not in codes:
            return f"{code!r} is not a status code; they are {', '.join(codes)}."
        if set(entry) - {"action", "bonus"}:
            return f"{code}: give only 'action' and 'bonus'."
        if entry.get("action", "approve") not in ("approve", "reject"):
            return f"{code}: the action is 'approve' or 'reject'."
        if code == StatusCode.PARTNER_UNRESPONSIVE and entry.get("action") == "reject":
            return "02: a worker let down by their partner is never rejected."
        if "bonus" in entry:
            try:
                bonus = Decimal(str(entry["bonus"]))
            except InvalidOperation:
                bonus = Decimal(-1)
            if not bonus.is_finite() or bonus < 0 or bonus != bonus.quantize(Decimal("0.01")):
                return f'{code}: the bonus is an amount such as "2.00" (0 or more).'
    return ""


def _option_key(option: str) -> str:
    return " ".join(option.split()).casefold()


class OptionListField(forms.Field):
    """A list of option texts, edited as a textarea with one option per line.

    Blank lines are ignored; an empty list, a duplicate (letter case and spacing aside) or an
    option too long to store is refused with a message naming it.
    """

    widget = forms.Textarea(attrs={"rows": 8, "cols": 40, "class": "option-lines"})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            return "\n".join(str(option) for option in value)
        return value

    def to_python(self, value: Any) -> list[str]:
        if isinstance(value, (list, tuple)):
            lines = [str(option) for option in value]
        else:
            lines = str(value or "").splitlines()
        return [" ".join(line.split()) for line in lines if line.strip()]

    def validate(self, value: list[str]) -> None:
        if not value:
            raise ValidationError("Give at least one option, one per line.", code="required")
        if len(value) > OPTIONS_MAX:
            raise ValidationError(f"Give at most {OPTIONS_MAX} options.", code="too_many")
        too_long = [option for option in value if len(option) > OPTION_MAX_CHARS]
        if too_long:
            raise ValidationError(
                f"Options are at most {OPTION_MAX_CHARS} characters; too long: {too_long[0]!r}.",
                code="too_long",
            )
        seen: set[str] = set()
        for option in value:
            if _option_key(option) in seen:
                raise ValidationError(
                    f"{option!r} is listed twice; give each option once.", code="duplicate"
                )
            seen.add(_option_key(option))

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return self.to_python(initial) != self.to_python(data)
        except ValidationError:
            return True


class CollectionRunForm(forms.ModelForm):
    """Checks the run's settings together, so a bad combination is refused with a reason."""

    problem_options = OptionListField(
        help_text="The problems a seeker may choose from, one per line, in this order."
    )
    emotion_options = OptionListField(
        help_text="The emotions a seeker may choose from, one per line, in this order."
    )

    class Meta:
        model = CollectionRun
        fields = [f.name for f in CollectionRun._meta.get_fields() if f.concrete and f.editable]
        help_texts = THRESHOLD_HELP

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self._check_situation_words(data)
        self._check_bonus(data)
        self._check_completion(data)
        self._check_site_codes(data)
        self._check_codes_before_opening(data)
        self._check_consent(data)
        self._check_help_resources(data)
        self._check_demo(data)
        self._check_settlement(data)
        return data

    def _check_settlement(self, data: dict[str, Any]) -> None:
        policy = data.get("settlement_policy")
        if policy is None:
            return
        problem = settlement_policy_problem(policy)
        if problem:
            self.add_error("settlement_policy", problem)
            return
        rejects = any(entry.get("action") == "reject" for entry in policy.values())
        if rejects and len((data.get("rejection_message") or "").strip()) < REJECTION_MIN_CHARS:
            self.add_error(
                "rejection_message",
                f"A policy that rejects needs a message of at least {REJECTION_MIN_CHARS} "
                "characters: it is what the worker reads, and Prolific refuses shorter ones.",
            )
        if rejects and not data.get("rejection_category"):
            self.add_error("rejection_category", "A policy that rejects needs a category.")

    def _check_demo(self, data: dict[str, Any]) -> None:
        """Workers are never moved between paid and unpaid: a run with workers keeps its kind."""
        if not self.instance.pk or data.get("is_demo") is None:
            return
        if data["is_demo"] and not self.instance.is_demo:
            workers = self.instance.workers.count()
            if workers:
                self.add_error(
                    "is_demo",
                    f"This run already has {workers} worker(s): as a demo run they would never "
                    "be paid. Make a new run for trying the platform.",
                )
        elif not data["is_demo"] and self.instance.is_demo:
            self._check_leaving_demo(data)

    def _check_leaving_demo(self, data: dict[str, Any]) -> None:
        """A demo run becomes a real one only with a study of its own and no test workers."""
        study = data.get("study") or ""
        if not study or study == DEMO_STUDY:
            self.add_error(
                "study",
                "Give the run its study (a name of your own, not 'demo') before turning demo off.",
            )
        tried = self.instance.workers.count()
        if tried:
            self.add_error(
                "is_demo",
                f"This demo run already has {tried} worker(s) who tried it: as a real run their "
                "chats would be released and paid. Make a new run for the collection instead "
                "(and untick 'active' here).",
            )

    def _check_consent(self, data: dict[str, Any]) -> None:
        unknown = consent.unknown_placeholders(data.get("consent_text") or "")
        if unknown:
            known = ", ".join("{" + name + "}" for name in consent.PLACEHOLDERS)
            self.add_error(
                "consent_text",
                f"Nothing fills {', '.join('{' + n + '}' for n in unknown)}; known: {known}.",
            )
        if data.get("is_active") and not (
            data.get("researcher_name") and data.get("researcher_contact")
        ):
            self.add_error(
                "researcher_contact",
                "An active run names the researcher and a contact on its consent page.",
            )

    def _check_help_resources(self, data: dict[str, Any]) -> None:
        text = (data.get("help_resources") or "").strip()
        if not text:
            return
        try:
            resources.parse(text)
        except resources.ResourceError as error:
            self.add_error("help_resources", str(error))

    def _check_situation_words(self, data: dict[str, Any]) -> None:
        low, high = data.get("situation_min_words"), data.get("situation_max_words")
        if low is not None and high is not None and low > high:
            self.add_error("situation_max_words", "Must be at least the minimum word count.")

    def _check_bonus(self, data: dict[str, Any]) -> None:
        bonus = data.get("bonus")
        if bonus is not None and bonus < 1:
            # Below 1, a seeker whose partner stopped responding (base x bonus) would earn less
            # than one who left early (base).
            self.add_error("bonus", "The bonus multiplier must be at least 1.")

    def _check_completion(self, data: dict[str, Any]) -> None:
        url = data.get("prolific_completion_url") or ""
        if url and "{code}" not in url:
            self.add_error(
                "prolific_completion_url",
                'A Prolific completion URL must contain "{code}", e.g. '
                "https://app.prolific.com/submissions/complete?cc={code}",
            )
        other = data.get("other_return_url") or ""
        if other and "{code}" not in other:
            self.add_error(
                "other_return_url", 'A return URL must contain "{code}" (the completion code).'
            )
        if not any(data.get(f"accepts_{site}") for site in ("prolific", "mturk", "other")):
            self.add_error("accepts_prolific", "A run must take workers from at least one site.")

    def _check_codes_before_opening(self, data: dict[str, Any]) -> None:
        """Prolific recognises only its study's codes: an open run must map every status.

        A demo run is not a study on Prolific, so it may stay open without them.
        """
        codes = data.get("site_completion_codes")
        if data.get("is_demo") or not (data.get("is_active") and data.get("accepts_prolific")):
            return
        missing = [code.value for code in StatusCode if not (codes or {}).get(code.value)]
        if isinstance(codes, dict) and missing:
            self.add_error(
                "site_completion_codes",
                "An active run that takes Prolific workers needs a Prolific completion code for "
                f"every status; missing: {', '.join(missing)}. Copy them from the study's "
                "completion codes on Prolific, or make the run inactive until you have them.",
            )

    def _check_site_codes(self, data: dict[str, Any]) -> None:
        codes = data.get("site_completion_codes")
        valid = {code.value for code in StatusCode}
        if codes and (not isinstance(codes, dict) or not set(codes) <= valid):
            self.add_error(
                "site_completion_codes",
                'Give a JSON object from status code to site code, e.g. {"03": "C1A2B3C4"}.',
            )
