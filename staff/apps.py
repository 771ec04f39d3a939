from __future__ import annotations

from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "staff"
    verbose_name = "Staff sign-in and audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib import admin

        from staff.logins import LockingAuthenticationForm

        # Every staff sign-in goes through the admin's login page: locked out after failures.
        admin.site.login_form = LockingAuthenticationForm
        admin.site.login_template = "staff/login.html"
