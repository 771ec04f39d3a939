"""Chaos bench: chat pairs through four injected faults, on a stack of the bench's own.

    .venv/bin/python bench/chaos.py --pairs 50 --json

It starts everything it needs on free ports of 127.0.0.1 and stops it all afterwards (also on
Ctrl-C or an error): its own redis-server, a fresh PostgreSQL database esc_chaos_<random> on
the machine's server (migrated, the tutorial loaded, an ESConv-shaped file imported for
judging; dropped at the end), two uvicorn processes and a real Celery worker. P pairs then chat
at about a message per second per side through clients that behave like the chat page, while
in turn: a no-fault baseline (every side reconnects once), `kill -9` of one uvicorn, a Redis
restart, every database backend terminated, and the Celery worker killed in the middle of
quality control. Per phase it prints what was sent, stored and shown to the partner, the
reconnect times and the servers' tracebacks, beside the baseline's.

The code is in bench/chaoslib/ (see its __init__ for the parts); docs/development.md ("Chaos
bench") says what the figures mean. Exit status: 0 when nothing was lost from view or
duplicated on screen, every fault happened and quality control held; 1 otherwise; 2 when the
bench could not set itself up; 130 when interrupted.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script from anywhere: the project's packages (and bench.chaoslib) must be importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.chaoslib.main import main

if __name__ == "__main__":
    sys.exit(main())
