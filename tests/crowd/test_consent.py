"""The consent page says what the run really does, and records the version each worker read."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from crowd.models import ConsentVersion, Worker
from tests.cast import ALICE, BOB, CAROL, RITA
from tests.crowd.factories import agree_to_consent, enter, make_run

pytestmark = pytest.mark.django_db


def _page(client: Client) -> str:
    return client.get("/consent/").content.decode()


def test_the_default_text_quotes_the_run_s_own_numbers(
    alice_client: Client, bob_client: Client
) -> None:
    run = make_run(
        min_seconds_to_end=60,
        base_pay=Decimal("2.00"),
        bonus=Decimal("1.50"),
        currency="EUR",
        expected_minutes=25,
        researcher_name="The Wellbeing Lab",
        researcher_contact="lab@example.org",
    )
    enter(ALICE, run, client=alice_client, consent=False)
    seeker_page = _page(alice_client)
    assert "at least 1 minute(s)" in seeker_page
    assert "15 minutes" not in seeker_page
    assert "about 25 minutes" in seeker_page
    assert "30.00 EUR if you finish" in seeker_page  # base x 10 x bonus
    assert "3.00 EUR if your partner leaves" in seeker_page
    assert "2.00 EUR if you leave early." in seeker_page
    assert "The Wellbeing Lab" in seeker_page and "lab@example.org" in seeker_page
    assert "To withdraw your data" in seeker_page

    enter(BOB, run, client=bob_client, consent=False)
    supporter_page = _page(bob_client)
    assert "<strong>supporter</strong>" in supporter_page
    assert "30.00 EUR if your partner leaves" in supporter_page  # base x 10 x bonus
    assert "or do not pass the training" in supporter_page


def test_a_run_s_own_text_is_escaped_and_its_placeholders_filled(alice_client: Client) -> None:
    run = make_run(
        consent_text="## About\nRun by {researcher} <script>x</script>\n\n- **Pay**: {base_pay}",
        researcher_name="Dr Who",
    )
    enter(ALICE, run, client=alice_client, consent=False)
    page = _page(alice_client)
    assert "<h2>About</h2>" in page
    assert "Run by Dr Who &lt;script&gt;x&lt;/script&gt;" in page
    assert "<li><strong>Pay</strong>: 1.00 GBP</li>" in page


def test_each_worker_records_the_version_they_read_and_the_dashboard_counts_them(
    alice_client: Client, carol_client: Client, rita_client: Client
) -> None:
    run = make_run(expected_minutes=30)
    enter(ALICE, run, client=alice_client, consent=False)
    assert agree_to_consent(alice_client).status_code == 302
    run.expected_minutes = 40  # the run changed: the next worker reads another text
    run.save()
    enter(CAROL, run, client=carol_client, consent=False)
    assert agree_to_consent(carol_client).status_code == 302

    alice = Worker.objects.get(external_id=ALICE.pid)
    carol = Worker.objects.get(external_id=CAROL.pid)
    assert (alice.consent_version.number, carol.consent_version.number) == (1, 2)
    assert "about 30 minutes" in alice.consent_version.text
    assert "about 40 minutes" in carol.consent_version.text
    assert ConsentVersion.objects.filter(run=run).count() == 2
    board = rita_client.get(f"/runs/{run.name}/dashboard/").content.decode()
    assert '<th scope="row">v1</th><td>seeker</td>' in board
    assert board.count('<td class="num">1</td></tr>') >= 2
    assert RITA.name  # the dashboard is staff-only (rita_client is a reviewer)


def test_agreeing_to_a_text_that_changed_meanwhile_asks_to_read_again(
    alice_client: Client,
) -> None:
    run = make_run()
    enter(ALICE, run, client=alice_client, consent=False)
    page = _page(alice_client)
    run.base_pay = Decimal("5.00")
    run.save()
    digest = page.split('name="text" value="')[1].split('"')[0]
    response = alice_client.post("/consent/", {"text": digest, "agree": "yes"})
    assert response.status_code == 400
    assert "updated since you opened the page" in response.content.decode()
    assert "10.00 GBP" not in page and "5.00 GBP" in response.content.decode()
    assert Worker.objects.get(external_id=ALICE.pid).stage == "consent"
