"""Item banks: each sub-task's single question becomes item 1 of its bank.

Existing attempts keep what they showed: every attempt gets, for each sub-task, item 1 with
the options in their written order, and every answer points at that item. Reversible: going
back copies item 1 into the sub-task again.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.utils.text import slugify


def _first_item_key(subtask_key):
    return f"{slugify(subtask_key)}-1"


def split_questions_into_items(apps, schema_editor):
    SubTask = apps.get_model("tutorial", "SubTask")
    QuizItem = apps.get_model("tutorial", "QuizItem")
    QuizAttempt = apps.get_model("tutorial", "QuizAttempt")
    AttemptItem = apps.get_model("tutorial", "AttemptItem")
    QuizAnswer = apps.get_model("tutorial", "QuizAnswer")
    first_items = {}
    for subtask in SubTask.objects.all():
        first_items[subtask.pk] = QuizItem.objects.create(
            subtask=subtask,
            key=_first_item_key(subtask.key),
            position=1,
            question=subtask.question,
            options=subtask.options,
            correct_option=subtask.correct_option,
            explanation=subtask.explanation,
        )
    for attempt in QuizAttempt.objects.all():
        AttemptItem.objects.bulk_create(
            AttemptItem(
                attempt=attempt,
                subtask_id=subtask_pk,
                item=item,
                option_order=list(range(len(item.options))),
            )
            for subtask_pk, item in first_items.items()
        )
    for subtask_pk, item in first_items.items():
        QuizAnswer.objects.filter(subtask_id=subtask_pk).update(item=item)


def copy_first_items_back(apps, schema_editor):
    SubTask = apps.get_model("tutorial", "SubTask")
    QuizItem = apps.get_model("tutorial", "QuizItem")
    for subtask in SubTask.objects.all():
        item = QuizItem.objects.filter(subtask=subtask).order_by("position", "pk").first()
        if item is None:
            continue
        SubTask.objects.filter(pk=subtask.pk).update(
            question=item.question,
            options=item.options,
            correct_option=item.correct_option,
            explanation=item.explanation,
        )


class Migration(migrations.Migration):

    dependencies = [
        ("tutorial", "0002_tutorialintro_quizattempt_quizanswer_and_more"),
    ]

    operations = [
        migrations.CreateModel(
            name="QuizItem",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("key", models.SlugField(max_length=80, unique=True)),
                ("position", models.PositiveSmallIntegerField(default=1)),
                ("question", models.TextField()),
                ("options", models.JSONField()),
                ("correct_option", models.PositiveSmallIntegerField()),
                ("explanation", models.TextField()),
                ("is_active", models.BooleanField(default=True)),
                ("subtask", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="items", to="tutorial.subtask")),
            ],
            options={
                "verbose_name": "quiz item",
                "ordering": ["subtask__order", "position", "pk"],
            },
        ),
        migrations.CreateModel(
            name="AttemptItem",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("option_order", models.JSONField()),
                ("attempt", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="drawn", to="tutorial.quizattempt")),
                ("item", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="draws", to="tutorial.quizitem")),
                ("subtask", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+", to="tutorial.subtask")),
            ],
            options={
                "ordering": ["attempt", "subtask__order"],
            },
        ),
        migrations.AddConstraint(
            model_name="attemptitem",
            constraint=models.UniqueConstraint(fields=("attempt", "subtask"), name="attempt_item_once"),
        ),
        migrations.AddField(
            model_name="quizanswer",
            name="item",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name="answers", to="tutorial.quizitem"),
        ),
        # Defaults only so that going back can re-add the columns to existing rows.
        migrations.AlterField(
            model_name="subtask", name="question", field=models.TextField(default=""),
        ),
        migrations.AlterField(
            model_name="subtask", name="options", field=models.JSONField(default=list),
        ),
        migrations.AlterField(
            model_name="subtask",
            name="correct_option",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AlterField(
            model_name="subtask", name="explanation", field=models.TextField(default=""),
        ),
        migrations.RunPython(split_questions_into_items, copy_first_items_back),
    ]
