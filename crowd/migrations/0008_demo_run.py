"""The demo run: a fresh install has a run to try the platform with (docs/operations.md).

An install that already has collection runs keeps them as they are: its default run is
already the oldest active one, and no demo run is added to it.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations, models

# The values of crowd.models.DEMO_RUN_NAME and demo_run_fields() when this was written; a
# migration keeps its own copy, so that later changes to the code do not change what it did.
DEMO_RUN: dict[str, Any] = {
    "name": "demo",
    "title": "Demo run",
    "is_demo": True,
    "study": "demo",
    "researcher_name": "The ESC Platform demo",
    "researcher_contact": "the staff who set up this installation",
}


def create_demo_run(apps: Any, schema_editor: Any) -> None:
    CollectionRun = apps.get_model("crowd", "CollectionRun")
    if not CollectionRun.objects.exists():
        CollectionRun.objects.create(**DEMO_RUN)


def remove_demo_run(apps: Any, schema_editor: Any) -> None:
    """Going back: an untouched demo run goes; one that was used is closed instead."""
    CollectionRun = apps.get_model("crowd", "CollectionRun")
    for run in CollectionRun.objects.filter(name=DEMO_RUN["name"], is_demo=True):
        if run.workers.exists() or run.conversations.exists():
            run.is_active = False
            run.save(update_fields=["is_active"])
        else:
            run.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("crowd", "0007_consent_versions_and_review_rule"),
        ("chat", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="collectionrun",
            name="is_demo",
            field=models.BooleanField(
                default=False,
                help_text=(
                    "A run for trying the platform: every worker page says 'demo', and its "
                    "chats are never judged, released or paid. To collect in it for real "
                    "before anyone tried it, give it a study and untick."
                ),
            ),
        ),
        migrations.RunPython(create_demo_run, remove_demo_run),
    ]
