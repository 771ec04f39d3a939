"""`make run`'s demo admin: created once, printed, refused in production."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import override_settings

pytestmark = pytest.mark.django_db


@override_settings(DEBUG=True)  # pytest-django runs tests with DEBUG off, like production
def test_it_creates_a_staff_account_once_and_prints_how_to_sign_in() -> None:
    out = StringIO()
    call_command("ensure_demo_admin", "--base-url", "http://127.0.0.1:8123", stdout=out)
    assert "http://127.0.0.1:8123/admin/" in out.getvalue()
    assert "username: admin" in out.getvalue()
    admin = authenticate(username="admin", password="esc-demo-admin")
    assert admin is not None and admin.is_staff and admin.is_superuser
    again = StringIO()
    call_command("ensure_demo_admin", stdout=again)
    assert "already exists" in again.getvalue()
    assert User.objects.count() == 1


@override_settings(DEBUG=False)
def test_it_refuses_to_create_the_demo_account_in_production() -> None:
    with pytest.raises(CommandError, match="local use only"):
        call_command("ensure_demo_admin")
    assert not User.objects.exists()
