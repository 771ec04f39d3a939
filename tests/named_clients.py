"""Browser-less clients of the named workers of the crowd and surveys tests."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.fixture
def alice_client() -> Client:
    """Alice, a help-seeker."""
    return Client()


@pytest.fixture
def bob_client() -> Client:
    """Bob, a supporter who chats with Alice."""
    return Client()


@pytest.fixture
def carol_client() -> Client:
    """Carol, a seeker in another conversation: an outsider to Alice and Bob's chat."""
    return Client()


@pytest.fixture
def dave_client() -> Client:
    """Dave, Carol's supporter."""
    return Client()
