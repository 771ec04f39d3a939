from __future__ import annotations

from tests.named_clients import alice_client, bob_client, carol_client, dave_client  # noqa: F401
