"""The chat load benchmark (bench/chat_load.py), in parts.

- options: the command line (with bench/common.py: its checks, the printed lines, the run's
  signals, exit status and JSON line, shared with bench/chaoslib);
- processes: open-file limit, CPU accounting, the ESC server and the bare relay (via
  devtools.server, the helper the browser tests use too);
- database: the environment, the migration, Redis clean-up (its fresh PostgreSQL database
  comes from bench/scratch.py);
- population: the P conversations with their workers and sessions, and what got stored;
- clients: one websocket client per side and the chat each pair holds;
- load: every pair at once, connect then chat, timed;
- report: checks (exactly once), figures and the printed summary;
- phases: the ESC chat phase, the bare relay baseline and the JSON outcome;
- main: the run from start to clean-up.
"""
