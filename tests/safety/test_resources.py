"""A run's help resources: the line format and its errors, the default list, the run form's
check, and what the seeker's and supporter's chat pages carry before and after a flag."""

from __future__ import annotations

import pytest
from django.test import Client

from chat.models import Utterance
from safety import live, resources
from tests.chat.factories import make_pair
from tests.crowd.factories import make_run, session_key
from tests.crowd.test_run_admin import READY, _form

pytestmark = pytest.mark.django_db

LAB_LINES = """\
# our lab's list, checked 2026-11
Anywhere | Campus night line | https://example.org/night | every night
Germany | Telefonseelsorge | Call 0800 111 0 111
Germany | Emergency | Call 112
"""


def test_a_run_s_lines_are_read_in_order_with_optional_notes() -> None:
    parsed = resources.parse(LAB_LINES)
    assert [(r.country, r.name, r.reach, r.note) for r in parsed] == [
        ("Anywhere", "Campus night line", "https://example.org/night", "every night"),
        ("Germany", "Telefonseelsorge", "Call 0800 111 0 111", ""),
        ("Germany", "Emergency", "Call 112", ""),
    ]
    assert parsed[0].everywhere and parsed[0].link == "https://example.org/night"
    assert not parsed[1].everywhere and parsed[1].link == ""


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("Anywhere | Line | Call 1\nGermany | only two", 2, "2 part(s)"),
        ("France |  | Call 3114", 1, "the name is empty"),
        ("# nothing but a comment\n\n", 1, "no service is listed"),
        ("\nAnywhere | Bad | javascript:alert(1)", 2, "script address"),
        ("Anywhere | " + "x" * 201 + " | Call 1", 1, "longer than 200"),
    ],
)
def test_a_line_that_cannot_be_shown_is_named(text: str, line: int, words: str) -> None:
    with pytest.raises(resources.ResourceError) as caught:
        resources.parse(text)
    assert caught.value.line == line
    assert str(caught.value).startswith(f"Line {line}: ") and words in str(caught.value)


def test_the_default_list_puts_emergency_and_the_directory_first() -> None:
    shown = resources.help_for(make_run())
    assert not shown["custom"]
    assert [r.name for r in shown["everywhere"]] == [
        "Your local emergency number",
        "Find A Helpline",
    ]
    countries = [group["country"] for group in shown["countries"]]
    assert countries[0] == "United States" and "United Kingdom and Ireland" in countries


def test_a_run_with_its_own_lines_shows_only_them() -> None:
    shown = resources.help_for(make_run(help_resources=LAB_LINES))
    assert shown["custom"]
    assert [r.name for r in shown["everywhere"]] == ["Campus night line"]
    assert shown["countries"] == [
        {"country": "Germany", "services": resources.parse(LAB_LINES)[1:]}
    ]


def test_the_run_form_refuses_a_broken_line_and_names_it() -> None:
    form = _form(**{**READY, "help_resources": "Anywhere | Line | Call 1\nGermany | oops"})
    assert not form.is_valid()
    assert form.errors["help_resources"] == [
        "Line 2: has 2 part(s) separated by '|'; a service is 'Country | Name | How to reach' "
        "with an optional '| Note'."
    ]
    assert _form(**{**READY, "help_resources": LAB_LINES}).is_valid()


def _page(worker: object) -> str:
    client = Client()
    client.cookies["sessionid"] = session_key(worker)
    response = client.get("/chat/room/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_seeker_s_page_carries_the_run_s_help_hidden_until_a_flag() -> None:
    pair = make_pair(make_run(help_resources=LAB_LINES))
    seeker_page, supporter_page = _page(pair.seeker), _page(pair.supporter)
    assert "Telefonseelsorge" in seeker_page and "Samaritans" not in seeker_page
    assert 'data-testid="safety-help" aria-labelledby="safety-help-title" tabindex="-1" hidden' in (
        seeker_page
    )
    assert 'data-testid="safety-help-toggle"' in seeker_page
    assert "safety-guidance" not in seeker_page and "Telefonseelsorge" not in supporter_page
    assert resources.GUIDANCE["title"] in supporter_page

    text = "I took all my pills an hour ago"
    Utterance.objects.create(
        conversation=pair.conversation, position=1, speaker="seeker", text=text
    )
    assert live.screen_message(pair.conversation.pk, 1, "seeker", text) is not None
    # Reloaded after the flag, both pages open with the help and the guidance shown.
    assert 'tabindex="-1" hidden' not in _page(pair.seeker).split('id="safety-help"')[1][:200]
    assert (
        'tabindex="-1" hidden' not in _page(pair.supporter).split('id="safety-guidance"')[1][:200]
    )
