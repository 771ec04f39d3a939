"""The demo run: there after migrate, the default of links naming no run, marked on every
worker page, and never paid (its chats are never judged or released: tests/quality)."""

from __future__ import annotations

import importlib
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.test import Client

from crowd import payments
from crowd.models import DEMO_RUN_NAME, DEMO_STUDY, CollectionRun
from crowd.services import TaskOutcome, finish_worker
from tests.cast import ALICE, BOB, FRANK
from tests.crowd.factories import enter, make_run

pytestmark = pytest.mark.django_db

BANNER = 'data-testid="demo-banner"'
migration = importlib.import_module("crowd.migrations.0008_demo_run")


def test_a_migrated_database_has_the_demo_run_and_links_without_a_run_join_it() -> None:
    # The database as the migrations left it: pytest-django runs tests like this one, in a
    # transaction rolled back after each, before any test that commits and empties tables.
    demo = CollectionRun.objects.get()
    assert (demo.name, demo.is_demo, demo.is_active, demo.study) == ("demo", True, True, "demo")
    assert demo.researcher_name and demo.researcher_contact  # its consent page names someone
    assert CollectionRun.get_default() == demo
    assert enter(ALICE).run == demo


def test_the_migration_adds_a_demo_run_only_to_an_install_without_runs() -> None:
    CollectionRun.objects.all().delete()
    make_run("pilot", is_active=False)
    migration.create_demo_run(apps, None)
    assert list(CollectionRun.objects.values_list("name", flat=True)) == ["pilot"]

    CollectionRun.objects.all().delete()
    migration.create_demo_run(apps, None)
    migration.create_demo_run(apps, None)
    demo = CollectionRun.objects.get()
    assert demo.name == DEMO_RUN_NAME and demo.is_demo


def test_going_back_removes_an_untouched_demo_run_and_closes_a_used_one() -> None:
    CollectionRun.objects.all().delete()
    migration.create_demo_run(apps, None)
    migration.remove_demo_run(apps, None)
    assert not CollectionRun.objects.exists()

    migration.create_demo_run(apps, None)
    enter(ALICE)
    migration.remove_demo_run(apps, None)
    assert CollectionRun.objects.get(name=DEMO_RUN_NAME).is_active is False


def test_the_default_run_is_the_oldest_active_run_and_the_demo_is_made_when_missing() -> None:
    CollectionRun.objects.all().delete()
    # Missing (a test database emptied, an install whose runs were all deleted): made again.
    demo = CollectionRun.get_default()
    assert (demo.name, demo.is_demo, demo.study) == (DEMO_RUN_NAME, True, DEMO_STUDY)
    pilot = make_run("pilot")
    second = make_run("second")
    assert CollectionRun.get_default() == demo  # the oldest, until staff close it
    demo.is_active = False
    demo.save()
    assert CollectionRun.get_default() == pilot
    assert enter(ALICE).run == pilot
    CollectionRun.objects.filter(pk=pilot.pk).update(is_active=False)
    assert CollectionRun.get_default() == second


def test_every_page_of_a_demo_worker_says_demo(alice_client: Client, frank_client: Client) -> None:
    CollectionRun.objects.filter(is_demo=False).delete()
    enter(ALICE, client=alice_client, consent=False)
    consent_page = alice_client.get("/consent/")
    assert consent_page.status_code == 200 and BANNER in consent_page.content.decode()
    assert "demo run for trying the platform" in consent_page.content.decode()
    enter(ALICE, client=alice_client)
    survey = alice_client.get("/surveys/pre-chat/")
    assert survey.status_code == 200 and BANNER in survey.content.decode()

    enter(FRANK, make_run("pilot"), client=frank_client)  # a real run: no banner
    body = frank_client.get("/tutorial/", follow=True).content.decode()
    assert "ESC" in body and BANNER not in body
    # Nor on pages of nobody's session.
    assert BANNER not in Client().get("/").content.decode()


def test_demo_workers_are_never_exported_for_payment(
    alice_client: Client, bob_client: Client, tmp_path: Path
) -> None:
    demo = CollectionRun.get_default()
    assert demo.is_demo
    alice = finish_worker(
        enter(ALICE, client=alice_client), TaskOutcome.FINISHED, post_survey=False
    )
    assert alice.pay_total is not None and alice.pay_total > Decimal("0")  # the page shows pay
    assert not payments.payable_workers(demo, include_paid=True).exists()

    output = tmp_path / "payments.csv"
    with pytest.raises(CommandError, match="is a demo run"):
        call_command("export_payments", "--run", demo.name, "--output", str(output))
    assert not output.exists() and not list(tmp_path.iterdir())
    with pytest.raises(payments.PaymentError, match="never paid"):
        payments.export_payments_to_string(demo)
    alice.refresh_from_db()
    assert alice.paid_at is None

    # A real run beside it pays as before.
    pilot = make_run("pilot")
    finish_worker(enter(BOB, pilot, client=bob_client), TaskOutcome.FINISHED, post_survey=False)
    content, result = payments.export_payments_to_string(pilot)
    assert result.newly_paid == 1 and "bob" in content and "alice" not in content


def test_the_admin_actions_say_why_a_demo_run_is_not_paid(
    ada_client: Client, alice_client: Client
) -> None:
    demo = CollectionRun.get_default()
    alice = finish_worker(
        enter(ALICE, client=alice_client), TaskOutcome.FINISHED, post_survey=False
    )
    response = ada_client.post(
        "/admin/crowd/collectionrun/",
        {"action": "download_unpaid_payments", "_selected_action": [demo.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "is a demo run: its workers only tried the platform" in response.content.decode()
    response = ada_client.post(
        "/admin/crowd/worker/",
        {"action": "download_payments", "_selected_action": [alice.pk]},
        follow=True,
    )
    assert "is a demo run" in response.content.decode()
    alice.refresh_from_db()
    assert alice.paid_at is None
