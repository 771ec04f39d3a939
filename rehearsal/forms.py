"""Read the first POST form of a worker page and fill it in as a person would.

The simulator sees the pages a browser is served, not their templates, so it answers what
the page asks: hidden fields are sent back, a radio group gets one of its options, a
required checkbox is ticked, a text box with a word range (`data-word-min`,
`data-word-max`) gets a text of that many words, other text boxes stay empty.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from html.parser import HTMLParser

from rehearsal import script


@dataclass
class Form:
    action: str
    hidden: dict[str, str] = field(default_factory=dict)
    radios: dict[str, list[str]] = field(default_factory=dict)
    checkboxes: dict[str, str] = field(default_factory=dict)
    word_ranges: dict[str, tuple[int, int]] = field(default_factory=dict)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._open: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form" and a.get("method", "get").lower() == "post":
            self._open = Form(action=a.get("action", ""))
            self.forms.append(self._open)
            return
        form = self._open
        if form is None or not a.get("name"):
            return
        name = a["name"]
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind == "hidden":
                form.hidden[name] = a.get("value", "")
            elif kind == "radio":
                form.radios.setdefault(name, []).append(a.get("value", "on"))
            elif kind == "checkbox":
                form.checkboxes[name] = a.get("value", "on")
        elif tag == "textarea" and "data-word-min" in a:
            low = int(a["data-word-min"] or 0)
            high = int(a.get("data-word-max") or low or 1)
            form.word_ranges[name] = (low, max(low, high))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = None


def first_post_form(html: str) -> Form | None:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms[0] if parser.forms else None


def words_between(low: int, high: int) -> str:
    """The survey's situation, cut or repeated to a word count in [low, high]."""
    words = script.SITUATION.split()
    wanted = max(low, min(high, len(words)))
    while len(words) < wanted:
        words += script.SITUATION.split()
    return " ".join(words[:wanted])


def fill(form: Form, rng: random.Random) -> dict[str, str]:
    """What a person would post: every radio group answered, boxes ticked, texts written."""
    data = dict(form.hidden)
    for name, values in form.radios.items():
        data[name] = rng.choice(values)
    data.update(form.checkboxes)
    for name, (low, high) in form.word_ranges.items():
        data[name] = words_between(low, high)
    return data
