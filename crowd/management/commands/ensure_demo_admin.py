"""Create (once) the demo staff account that `make run` prints, for trying the platform locally."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

DEMO_USERNAME = "admin"
DEMO_PASSWORD = "esc-demo-admin"  # a local demo account; the command refuses to run in production


class Command(BaseCommand):
    help = "Create the demo admin account used by `make run` (refused when DEBUG is off)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--base-url", default="http://127.0.0.1:8000", help="where the platform is served"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("The demo admin is for local use only; DJANGO_DEBUG is False.")
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(
            username=DEMO_USERNAME, defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        state = "created" if created else "already exists (password unchanged)"
        self.stdout.write(
            f"Demo admin {state}: {options['base_url'].rstrip('/')}/admin/  "
            f"username: {DEMO_USERNAME}  password: {DEMO_PASSWORD}"
        )
