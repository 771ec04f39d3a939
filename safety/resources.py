"""What a seeker in danger is shown, and what their supporter is told (docs/safety.md).

A run keeps its help resources as text a researcher edits on the run's page, one line per
service::

    Country | Name | How to reach it | Note (optional)

Blank lines and lines starting with ``#`` are ignored. The country ``Anywhere`` (or ``*``)
marks services for everyone, shown first. A run whose text is blank shows ``DEFAULT_TEXT``: the
emergency numbers and a few national lines we checked, and a directory of helplines by
country. Nothing here is a substitute for a lab checking the lines for the countries it
recruits from; the run page says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ANYWHERE = ("anywhere", "*")
MAX_LINES = 60
MAX_FIELD_CHARS = 200

DEFAULT_TEXT = """\
# Country | Name | How to reach it | Note
Anywhere | Your local emergency number | Call it now if you or someone else is in danger \
| For example 112 in the EU, 911 in the US and Canada, 999 in the UK, 000 in Australia
Anywhere | Find A Helpline | https://findahelpline.com \
| Free, confidential helplines listed by country
United States | 988 Suicide & Crisis Lifeline | Call or text 988 | 24 hours, free
Canada | 9-8-8 Suicide Crisis Helpline | Call or text 988 | 24 hours, free
United Kingdom and Ireland | Samaritans | Call 116 123 | 24 hours, free
Australia | Lifeline | Call 13 11 14 | 24 hours
"""


class ResourceError(ValueError):
    """A line of a run's help resources that cannot be shown, named by its number."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"Line {line}: {message}")
        self.line = line


@dataclass(frozen=True)
class Resource:
    country: str
    name: str
    reach: str
    note: str = ""

    @property
    def everywhere(self) -> bool:
        return self.country.lower() in ANYWHERE

    @property
    def link(self) -> str:
        """The web address to open, when the way to reach it is one."""
        return self.reach if self.reach.startswith(("https://", "http://")) else ""


def parse(text: str) -> list[Resource]:
    """The services in ``text``; the first line that is not a service raises ResourceError."""
    resources = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        resources.append(_parse_line(number, line))
    if not resources:
        raise ResourceError(1, "no service is listed (a line is 'Country | Name | How to reach').")
    if len(resources) > MAX_LINES:
        raise ResourceError(number, f"at most {MAX_LINES} services fit beside a chat.")
    return resources


def _parse_line(number: int, line: str) -> Resource:
    parts = [part.strip() for part in line.split("|")]
    if len(parts) not in (3, 4):
        raise ResourceError(
            number,
            f"has {len(parts)} part(s) separated by '|'; a service is "
            "'Country | Name | How to reach' with an optional '| Note'.",
        )
    for label, value in zip(("country", "name", "how to reach it"), parts, strict=False):
        if not value:
            raise ResourceError(number, f"the {label} is empty.")
    for value in parts:
        if len(value) > MAX_FIELD_CHARS:
            raise ResourceError(number, f"a part is longer than {MAX_FIELD_CHARS} characters.")
    if parts[2].lower().startswith(("javascript:", "data:")):
        raise ResourceError(number, "a way to reach a service cannot be a script address.")
    return Resource(*parts)


def resources_for(run: Any) -> list[Resource]:
    """The run's services, or the default ones when its text is blank (or was stored broken)."""
    text = (getattr(run, "help_resources", "") or "").strip()
    if text:
        try:
            return parse(text)
        except ResourceError:
            pass  # the run form refuses such text; a row written otherwise falls back
    return parse(DEFAULT_TEXT)


def help_for(run: Any) -> dict[str, Any]:
    """The seeker's help panel: services for everyone first, then by country in run order."""
    everywhere: list[Resource] = []
    by_country: dict[str, list[Resource]] = {}
    for resource in resources_for(run):
        if resource.everywhere:
            everywhere.append(resource)
        else:
            by_country.setdefault(resource.country, []).append(resource)
    return {
        "everywhere": everywhere,
        "countries": [{"country": c, "services": s} for c, s in by_country.items()],
        "custom": bool((getattr(run, "help_resources", "") or "").strip()),
    }


# The supporter's card. Short on purpose: it is read in the middle of a chat.
GUIDANCE: dict[str, Any] = {
    "title": "Your partner may be in danger",
    "lead": (
        "Something they wrote suggests they may be at risk. The research team has been alerted "
        "and may join the conversation. The help-seeker has been shown where to get help now."
    ),
    "do": [
        "Stay calm and keep listening. Thank them for telling you.",
        "Take what they say seriously and say that you are glad they are talking.",
        "Gently encourage them to use the help shown on their screen, or their local "
        "emergency number if they are in danger now.",
        "It is fine to ask directly whether they are safe right now.",
    ],
    "dont": [
        "Do not argue, judge or promise to keep it secret.",
        "Do not give medical advice or suggest any method or dose.",
        "Do not leave suddenly: if you must stop, say so kindly.",
    ],
}
