"""Staff sign-in is locked out after repeated failures: 60 wrong passwords in a row do not
end with the right one getting in, a guesser trying many names from one address is stopped,
and nothing about the password is kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from staff.logins import MAX_ADDRESS_FAILURES, MAX_FAILURES, WINDOW
from staff.models import LoginAttempt
from tests.cast import ADA, RITA, account

pytestmark = pytest.mark.django_db

PASSWORD = "a long and right password"
LOCKED = "Too many failed sign-ins"


def _staff(actor: object) -> str:
    user = account(actor)  # type: ignore[arg-type]
    user.set_password(PASSWORD)
    user.save()
    return user.username


def _sign_in(client: Client, username: str, password: str, ip: str = "203.0.113.7") -> str:
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
    )
    if response.status_code == 302:
        return "in"
    page = response.content.decode()
    return "locked" if LOCKED in page else "refused"


def test_sixty_wrong_passwords_do_not_end_with_the_right_one_getting_in() -> None:
    name = _staff(RITA)
    client = Client()
    answers = [_sign_in(client, name, f"guess {n}") for n in range(60)]
    assert answers[:MAX_FAILURES] == ["refused"] * MAX_FAILURES
    assert set(answers[MAX_FAILURES:]) == {"locked"}
    assert _sign_in(client, name, PASSWORD) == "locked"
    # Locked tries are recorded but do not extend the lock; the password is never stored.
    assert LoginAttempt.objects.filter(username=name, locked=False).count() == MAX_FAILURES
    assert not LoginAttempt.objects.filter(username__contains="guess").exists()
    assert {f.name for f in LoginAttempt._meta.fields} == {
        "id",
        "username",
        "ip",
        "at",
        "succeeded",
        "locked",
    }


def test_the_lock_ends_after_the_window_and_a_success_starts_the_count_again() -> None:
    name = _staff(RITA)
    client = Client()
    for n in range(MAX_FAILURES):
        _sign_in(client, name, f"guess {n}")
    assert _sign_in(client, name, PASSWORD) == "locked"
    LoginAttempt.objects.update(at=timezone.now() - WINDOW - timedelta(seconds=1))
    assert _sign_in(Client(), name, PASSWORD) == "in"
    for n in range(MAX_FAILURES - 1):
        assert _sign_in(Client(), name, f"again {n}") == "refused"
    assert _sign_in(Client(), name, PASSWORD) == "in"  # four failures since the last success


def test_a_name_is_locked_whatever_its_letter_case_or_address() -> None:
    name = _staff(RITA)
    for n in range(MAX_FAILURES):
        _sign_in(Client(), name.upper(), f"guess {n}", ip=f"198.51.100.{n}")
    assert _sign_in(Client(), name, PASSWORD, ip="192.0.2.99") == "locked"


def test_one_address_guessing_many_names_is_locked_out() -> None:
    ada = _staff(ADA)
    for n in range(MAX_ADDRESS_FAILURES):
        assert _sign_in(Client(), f"someone{n}", "guess") == "refused"
    assert _sign_in(Client(), ada, PASSWORD) == "locked"
    assert _sign_in(Client(), ada, PASSWORD, ip="192.0.2.1") == "in"  # from elsewhere
