"""The chaos bench (bench/chaos.py), in parts.

- options: the command line (its checks, the printed lines and the run's frame of signals,
  exit status and JSON line are bench/common.py's, shared with bench/chatload);
- stack: the bench's own services: Redis, the PostgreSQL database, two uvicorn processes and a
  Celery worker (servers started through devtools.server), and their clean-up;
- ledger: every message the clients composed and what became of it, and per-phase counters;
- client: one websocket client per side that behaves like the chat page (static/chat/room.js);
- faults: the no-fault baseline and the three chat faults (ASGI kill, Redis restart, database
  backends terminated);
- quality: the ESConv-shaped file, the judging task and the worker killed in the middle of it;
- logs: tracebacks in the server logs, by phase;
- phases: each phase from its start to the quiet settling time after it;
- report: the figures from the database and the clients, printed and as JSON;
- main: the run from start to clean-up.
"""
