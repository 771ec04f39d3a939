"""A flood of entry links from one address is refused with a 429 page, writing nothing; worker
posts are limited per session; the limit never breaks entry when the cache is down."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.test import Client, override_settings

from crowd.models import Worker
from tests.cast import ALICE, SAM, extra
from tests.crowd.factories import enter, entry_params
from tests.services_probe import require_redis
from tutorial.models import SubTask

pytestmark = pytest.mark.django_db

# Rates are per hour: django-ratelimit counts in fixed windows, and a window that ended during a
# test would start the count again (an hour's window makes that practically impossible).


@pytest.fixture
def content(db: None) -> list[SubTask]:
    call_command("load_tutorial", verbosity=0)
    return list(SubTask.objects.order_by("order"))


def _link(number: int) -> dict[str, str]:
    return entry_params(extra("seeker", number), "seeker", None)


def _rows() -> tuple[int, int]:
    return Worker.objects.count(), Session.objects.count()


@override_settings(ENTRY_RATE_PER_IP="3/h")
def test_entry_links_past_the_rate_get_a_429_page_and_write_nothing() -> None:
    for number in range(3):  # three browsers behind one address
        assert Client(REMOTE_ADDR="198.51.100.7").get("/start/", _link(number)).status_code == 302
    before = _rows()

    refused = Client(REMOTE_ADDR="198.51.100.7").get("/start/", _link(99))

    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert "Too many requests" in refused.content.decode()
    assert refused.templates[0].name == "rate_limited.html"
    assert _rows() == before
    assert not Worker.objects.filter(external_id="seeker-99").exists()
    # Another address is not held up by the first one's flood.
    other = Client(REMOTE_ADDR="203.0.113.9").get("/start/", _link(98))
    assert other.status_code == 302


@override_settings(ENTRY_RATE_PER_IP="2/h")
def test_a_client_cannot_escape_the_limit_with_a_forged_forwarded_for() -> None:
    for number in range(3):
        response = Client(REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR=f"10.0.0.{number}").get(
            "/start/", _link(number)
        )
    assert response.status_code == 429


@override_settings(ENTRY_RATE_PER_IP="2/h", BEHIND_PROXY=True)
def test_behind_the_proxy_the_address_it_saw_is_counted() -> None:
    proxy = "192.0.2.1"

    def through_proxy(client_address: str, number: int) -> int:
        # The proxy appends the address it saw; whatever came before is the client's own text.
        forwarded = f"203.0.113.200, {client_address}"
        client = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=forwarded)
        return client.get("/start/", _link(number)).status_code

    assert [through_proxy("198.51.100.1", n) for n in range(3)] == [302, 302, 429]
    assert through_proxy("198.51.100.2", 10) == 302  # a second client behind the same proxy


@override_settings(ENTRY_RATE_PER_IP="1/h")
def test_a_worker_reopening_the_link_is_counted_like_anyone(alice_client: Client) -> None:
    link = entry_params(ALICE, "seeker", None)
    assert alice_client.get("/start/", link, REMOTE_ADDR="198.51.100.9").status_code == 302
    assert alice_client.get("/start/", link, REMOTE_ADDR="198.51.100.9").status_code == 429


@override_settings(
    ENTRY_RATE_PER_IP="1/h",
    CACHES={
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    },
)
def test_entry_still_works_when_the_cache_is_unreachable() -> None:
    for number in range(2):
        assert Client().get("/start/", _link(number)).status_code == 302
    assert Worker.objects.filter(external_id__in=["seeker-0", "seeker-1"]).count() == 2


@pytest.mark.redis
def test_the_counts_live_in_redis_when_the_cache_is_redis() -> None:
    url = require_redis().rstrip("/")
    base = url.rsplit("/", 1)[0] if url.count("/") > 2 else url
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"{base}/13",
            "KEY_PREFIX": f"esc-rate-test-{uuid.uuid4().hex[:8]}",
        }
    }
    with override_settings(CACHES=caches, ENTRY_RATE_PER_IP="2/h"):
        statuses = [
            Client(REMOTE_ADDR="198.51.100.40").get("/start/", _link(n)).status_code
            for n in range(3)
        ]
        from django.core.cache import cache

        keys = cache._cache.get_client().keys(f"{caches['default']['KEY_PREFIX']}:*")
        cache.clear()
    assert statuses == [302, 302, 429]
    assert keys, "the counter was not stored in Redis"


@override_settings(WORKER_POST_RATE_PER_SESSION="2/h")
def test_tutorial_answers_past_the_rate_get_a_json_429(
    sam_client: Client, content: list[SubTask]
) -> None:
    enter(SAM, client=sam_client)
    statuses = []
    for number in (1, 2, 3):
        response = sam_client.post(
            f"/api/tutorial/{number}/answer/",
            {"option": 0},
            content_type="application/json",
        )
        statuses.append(response.status_code)
    assert statuses == [200, 200, 429]
    assert "Too many requests" in response.json()["detail"]
    # Reading is not limited.
    assert sam_client.get("/api/tutorial/").status_code == 200


@override_settings(WORKER_POST_RATE_PER_SESSION="1/h")
def test_survey_posts_past_the_rate_are_refused_per_session(alice_client: Client) -> None:
    enter(ALICE, client=alice_client)
    assert alice_client.post("/surveys/pre-chat/", {}).status_code == 400  # counted, invalid
    refused = alice_client.post("/surveys/pre-chat/", {})
    assert refused.status_code == 429
    assert alice_client.get("/surveys/pre-chat/").status_code == 200  # reading is not limited


@override_settings(ENTRY_RATE_PER_IP="100/h", ENTRY_BURST_PER_IP="3/h")
def test_a_burst_is_cut_before_the_hourly_allowance_is_used() -> None:
    statuses = [Client().get("/start/", _link(number)).status_code for number in range(5)]
    assert statuses == [302, 302, 302, 429, 429]
