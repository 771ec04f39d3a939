from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class ChatConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "chat"

    def ready(self) -> None:
        # Imported here, not at the top: models may not be imported before the app registry
        # is ready, and chat.copies imports tutorial.models.
        from chat.copies import forget_tutorial_examples
        from tutorial.models import SubTask

        # The copied-example check caches the tutorial examples per process.
        post_save.connect(forget_tutorial_examples, sender=SubTask, dispatch_uid="chat-examples")
        post_delete.connect(forget_tutorial_examples, sender=SubTask, dispatch_uid="chat-examples")
