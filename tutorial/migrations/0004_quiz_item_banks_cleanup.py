"""Item banks, second step: every answer has its item; the sub-task's own question goes.

A migration of its own so that PostgreSQL runs these ALTERs in a new transaction, after the
rows written by 0003 (no ALTER on a table with pending trigger events).
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("tutorial", "0003_quiz_item_banks"),
    ]

    operations = [
        migrations.AlterField(
            model_name="quizanswer",
            name="item",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="answers", to="tutorial.quizitem"),
        ),
        migrations.RemoveField(model_name="subtask", name="question"),
        migrations.RemoveField(model_name="subtask", name="options"),
        migrations.RemoveField(model_name="subtask", name="correct_option"),
        migrations.RemoveField(model_name="subtask", name="explanation"),
    ]
