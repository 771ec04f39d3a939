#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "esc_platform.settings")
    from django.core.management import execute_from_command_line

    from esc_platform import preflight

    if preflight.command_needs_database(sys.argv):
        import django

        django.setup()
        problem = preflight.database_problem()
        if problem is not None:
            # One line with the cause, not the pool's traceback (esc_platform/preflight.py).
            print(f"ESC Platform: {problem}", file=sys.stderr)
            sys.exit(1)
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
