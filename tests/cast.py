"""The cast: the people of every test, each with one meaning in every package.

Crowdworkers arrive by an entry link carrying their name as crowd-site id
(`/start/?role=seeker&PROLIFIC_PID=alice`, or `workerId=WALICE1` on MTurk); the factories of
each app (tests/<app>/factories.py) take them through the real services. A test may meet a
worker at any stage of the journey their role describes (Alice before her pre-chat survey is
still Alice), but never in another role.

- Alice: a help-seeker. She fills the pre-chat survey and chats with Bob.
- Bob: a supporter who passes the training and chats with Alice.
- Carol: a help-seeker in another conversation, with Dave: an outsider to Alice and Bob's chat,
  who must be refused there.
- Dave: Carol's supporter (qualified), also an outsider to Alice and Bob's chat; the qualified
  supporter who re-labels conversations he did not take part in.
- Erin: a help-seeker who is never matched: she waits with nobody to chat with (or is still at
  the survey), and is released from the waiting room.
- Gus: a qualified supporter who is never matched: he waits with nobody to chat with.
- Sam: a supporter still in training (he has not passed the quiz): refused at every chat
  entrance.
- Frank: a supporter who fails the training (status 00).
- Mallory: a seeker who cheats: she opens other people's entry links in her own browser, and
  tries to take part twice (both partners, another run, another provider).

Users of the staff side (Django accounts, never workers):

- Rita: a reviewer, a staff user (review queue, dashboards, live chats, the funnel).
- Vera: a second reviewer, who meets Rita's claims.
- Ada: an administrator (superuser) of the Django admin.
- Otto: a logged-in user who is not staff: refused from every staff page.

Workers outside the story (the forty workers of a race, four re-labellers, one per conversation
in bulk) are `extra(role, number)`: "seeker-3", "supporter-7"; they play no part of the cast.

Fixtures (registered in tests/conftest.py): `alice_client` ... `frank_client` are browser-less
clients of the workers (empty until a factory or the test opens the entry link in them);
`rita_client`, `vera_client`, `ada_client` and `otto_client` are logged in.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.test import Client

from crowd import vocabulary

STAFF, ADMIN, USER = "staff", "admin", "user"


@dataclass(frozen=True)
class Actor:
    name: str
    role: str  # vocabulary.SEEKER or SUPPORTER for workers; STAFF, ADMIN or USER for accounts
    about: str

    @property
    def pid(self) -> str:
        """The Prolific id of a worker (PROLIFIC_PID) and the username of an account."""
        return self.name

    @property
    def mturk_id(self) -> str:
        """The MTurk workerId of the same person arriving from MTurk."""
        return f"W{self.name.upper().replace('-', '')}1"

    @property
    def password(self) -> str:
        return f"pw-{self.name}-123"

    @property
    def is_worker(self) -> bool:
        return self.role in (vocabulary.SEEKER, vocabulary.SUPPORTER)


ALICE = Actor("alice", vocabulary.SEEKER, "a help-seeker who chats with Bob")
BOB = Actor("bob", vocabulary.SUPPORTER, "a supporter who passes the training, chats with Alice")
CAROL = Actor("carol", vocabulary.SEEKER, "a seeker in another chat (with Dave): an outsider")
DAVE = Actor("dave", vocabulary.SUPPORTER, "Carol's qualified supporter; re-labels others' chats")
ERIN = Actor("erin", vocabulary.SEEKER, "a seeker who is never matched")
GUS = Actor("gus", vocabulary.SUPPORTER, "a qualified supporter who is never matched")
SAM = Actor("sam", vocabulary.SUPPORTER, "a supporter still in training")
FRANK = Actor("frank", vocabulary.SUPPORTER, "a supporter who fails the training (00)")
MALLORY = Actor("mallory", vocabulary.SEEKER, "a cheat: others' links, taking part twice")

RITA = Actor("rita", STAFF, "a reviewer (staff)")
VERA = Actor("vera", STAFF, "a second reviewer")
ADA = Actor("ada", ADMIN, "an administrator (superuser)")
OTTO = Actor("otto", USER, "a logged-in user who is not staff")

WORKERS = (ALICE, BOB, CAROL, DAVE, ERIN, GUS, SAM, FRANK, MALLORY)
ACCOUNTS = (RITA, VERA, ADA, OTTO)


def extra(role: str, number: int) -> Actor:
    """A worker outside the story: many of them race, or one per conversation in bulk."""
    return Actor(f"{role}-{number}", role, "a worker outside the story")


def account(actor: Actor) -> User:
    """The Django account of Rita, Vera, Ada or Otto (created on first use)."""
    if actor.is_worker:
        raise ValueError(f"{actor.name} is a crowdworker, not a user of the staff side")
    user = User.objects.filter(username=actor.name).first()
    if user is not None:
        return user
    if actor.role == ADMIN:
        return User.objects.create_superuser(
            actor.name, f"{actor.name}@example.org", actor.password
        )
    return User.objects.create_user(
        actor.name, f"{actor.name}@example.org", actor.password, is_staff=actor.role == STAFF
    )


def logged_in(actor: Actor) -> Client:
    client = Client()
    client.force_login(account(actor))
    return client


# Browser-less clients of the workers: a factory or the test opens the entry link in them.


@pytest.fixture
def alice_client() -> Client:
    return Client()


@pytest.fixture
def bob_client() -> Client:
    return Client()


@pytest.fixture
def carol_client() -> Client:
    return Client()


@pytest.fixture
def dave_client() -> Client:
    return Client()


@pytest.fixture
def erin_client() -> Client:
    return Client()


@pytest.fixture
def gus_client() -> Client:
    return Client()


@pytest.fixture
def sam_client() -> Client:
    return Client()


@pytest.fixture
def frank_client() -> Client:
    return Client()


@pytest.fixture
def mallory_client() -> Client:
    return Client()


# Logged-in clients of the staff side.


@pytest.fixture
def rita_client(db: None) -> Client:
    return logged_in(RITA)


@pytest.fixture
def vera_client(db: None) -> Client:
    return logged_in(VERA)


@pytest.fixture
def ada_client(db: None) -> Client:
    return logged_in(ADA)


@pytest.fixture
def otto_client(db: None) -> Client:
    return logged_in(OTTO)
