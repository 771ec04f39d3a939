"""Who may move money: settling needs its own permission and a session that has shown an
authenticator code; staff who may pay sign in with one once their app is set up."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from staff import totp
from staff.models import TOTPDevice
from tests.cast import RITA, VERA, account
from tests.crowd.factories import make_run

pytestmark = pytest.mark.django_db

PASSWORD = "a long and right password"


def _payer() -> User:
    """Vera, a reviewer who was also given the permission to settle runs."""
    user = account(VERA)
    user.set_password(PASSWORD)
    user.save()
    user.user_permissions.add(Permission.objects.get(codename="settle_run"))
    return User.objects.get(pk=user.pk)  # permissions are cached on the instance


def _code(user: User, later: int = 0) -> str:
    device = TOTPDevice.objects.get(user=user)
    return totp.code_at(device.secret, totp.current_step() + later)


def _set_up(client: Client, user: User) -> None:
    page = client.get("/staff/two-factor/").content.decode()
    assert 'data-testid="secret"' in page
    response = client.post("/staff/two-factor/", {"code": _code(user)})
    assert response.status_code == 302


def _settle_page(client: Client, run: Any) -> Any:
    return client.get(f"/admin/crowd/collectionrun/{run.pk}/settle/")


def test_a_reviewer_without_the_permission_may_not_settle() -> None:
    run = make_run(name="pilot")
    client = Client()
    client.force_login(account(RITA))
    assert _settle_page(client, run).status_code == 403
    assert client.post(f"/admin/crowd/collectionrun/{run.pk}/settle/").status_code == 403


def test_settling_waits_for_the_authenticator_code() -> None:
    run = make_run(name="pilot")
    vera = _payer()
    client = Client()
    client.force_login(vera)
    response = _settle_page(client, run)
    assert response.status_code == 302
    assert response["Location"].startswith("/staff/two-factor/?next=")
    assert client.post(f"/admin/crowd/collectionrun/{run.pk}/settle/").status_code == 302
    wrong = client.post("/staff/two-factor/", {"code": "000000"}).content.decode()
    assert "That code is not right" in wrong or _code(vera) == "000000"
    _set_up(client, vera)
    page = _settle_page(client, run)
    assert page.status_code == 200 and "Confirm: settle on the crowd sites" in page.content.decode()


def test_staff_who_may_pay_sign_in_with_their_code_once_set_up() -> None:
    vera = _payer()
    first = Client()
    first.force_login(vera)
    _set_up(first, vera)
    TOTPDevice.objects.filter(user=vera).update(last_step=0)  # the set-up code was this step's
    form = {"username": vera.username, "password": PASSWORD}
    without = Client().post("/admin/login/?next=/admin/", form)
    assert "Enter the current 6-digit code" in without.content.decode()
    signed_in = Client()
    code = _code(vera)
    assert signed_in.post("/admin/login/?next=/admin/", form | {"code": code}).status_code == 302
    # That session has shown its code: it may pay without asking again.
    assert _settle_page(signed_in, make_run(name="main")).status_code == 200
    again = Client().post("/admin/login/?next=/admin/", form | {"code": code})
    assert "Enter the current 6-digit code" in again.content.decode()  # a code works once


def test_staff_who_may_not_pay_sign_in_with_a_password_only() -> None:
    rita = account(RITA)
    rita.set_password(PASSWORD)
    rita.save()
    form = {"username": rita.username, "password": PASSWORD}
    assert Client().post("/admin/login/?next=/admin/", form).status_code == 302


def test_the_codes_are_rfc_6238_s() -> None:
    # RFC 6238, appendix B, SHA-1 key, truncated to 6 digits.
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    assert [totp.code_at(secret, t // 30) for t in (59, 1111111109, 2000000000)] == [
        "287082",
        "081804",
        "279037",
    ]
    assert totp.matching_step(secret, "287082", after=0, now=59) == 1
    assert totp.matching_step(secret, "287082", after=1, now=59) is None  # used
    assert totp.matching_step(secret, "28 70 82", after=0, now=89) == 1  # a step late, spaced
    assert totp.matching_step(secret, "287082", after=0, now=150) is None  # too late


def test_the_admin_lists_authenticators_without_their_keys(ada_client: Any) -> None:
    vera = _payer()
    client = Client()
    client.force_login(vera)
    _set_up(client, vera)
    device = TOTPDevice.objects.get(user=vera)
    listing = ada_client.get("/admin/staff/totpdevice/").content.decode()
    assert vera.username in listing and device.secret not in listing
    page = ada_client.get(f"/admin/staff/totpdevice/{device.pk}/change/").content.decode()
    assert device.secret not in page
    assert ada_client.post(f"/admin/staff/totpdevice/{device.pk}/delete/", {"post": "yes"})
    assert not TOTPDevice.objects.filter(user=vera).exists()
