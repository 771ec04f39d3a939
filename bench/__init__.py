"""Benchmarks. Each top-level script runs on its own: `.venv/bin/python bench/<name>.py --help`.

They never write into the development database: each uses a throwaway one (a temporary SQLite
file, or a fresh PostgreSQL database it creates and drops) unless given `--database-url`.
"""
