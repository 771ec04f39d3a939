"""Chat load benchmark: P seeker–supporter pairs chatting through the real websocket protocol.

    .venv/bin/python bench/chat_load.py --pairs 100 --json

It starts everything it needs and removes it afterwards: a fresh PostgreSQL database (migrated),
P active conversations with their workers and sessions, the real ASGI server (uvicorn) on a
free port of 127.0.0.1, and, for comparison, a bare `websockets` relay (bench/relay.py) that
carries the same load with no Django and no database. Latency is measured in this one process
from just before the sender's send() to the partner receiving the relayed message frame.
Every message sent is then checked against the database (stored exactly once, with its client
id, in its conversation) and against what the partner received (exactly once).

The code is in bench/chatload/ (see its __init__ for the parts); this script is its command
line. See README.md ("Chat load benchmark") for what the figures mean. Exit status: 0 when every
message arrived exactly once and no pair failed, 1 otherwise, 2 when the bench could not set
itself up.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script from anywhere: the project's packages (and bench.chatload) must be importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.chatload.main import main

if __name__ == "__main__":
    sys.exit(main())
