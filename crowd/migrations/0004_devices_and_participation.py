"""One browser and one person per task: device and network hashes, the person key, a run's
participation rule and device switches (docs/workers.md, "One browser, one person")."""

import django.db.models.deletion
from django.db import migrations, models


def fill_person_keys(apps, schema_editor):
    Worker = apps.get_model("crowd", "Worker")
    for worker in Worker.objects.only("pk", "external_id").iterator():
        Worker.objects.filter(pk=worker.pk).update(person_key=worker.external_id.casefold())


class Migration(migrations.Migration):
    dependencies = [("crowd", "0003_abandoned_chats")]

    operations = [
        migrations.AddField(
            model_name="collectionrun",
            name="study",
            field=models.SlugField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="collectionrun",
            name="participation",
            field=models.CharField(
                choices=[
                    ("once_per_study", "Once in the whole study, in one role"),
                    ("once_per_run", "Once in this run, in one role"),
                ],
                default="once_per_study",
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="collectionrun",
            name="allow_device_switch",
            field=models.BooleanField(
                default=False,
                help_text=(
                    "Let a worker move their task to another browser (one whose cookie was "
                    "lost), only while no conversation of theirs is live. Every move is recorded."
                ),
            ),
        ),
        migrations.AddField(
            model_name="worker",
            name="person_key",
            field=models.CharField(db_index=True, default="", max_length=128),
            preserve_default=False,
        ),
        migrations.RunPython(fill_person_keys, migrations.RunPython.noop),
        migrations.AddField(
            model_name="worker",
            name="device_key",
            field=models.CharField(blank=True, db_index=True, max_length=64),
        ),
        migrations.AddField(
            model_name="worker",
            name="network_key",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddConstraint(
            model_name="worker",
            constraint=models.UniqueConstraint(
                fields=("run", "person_key"), name="worker_one_person_per_run"
            ),
        ),
        migrations.CreateModel(
            name="DeviceSwitch",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("switched_at", models.DateTimeField(auto_now_add=True)),
                (
                    "stage",
                    models.CharField(
                        choices=[
                            ("consent", "Reading the consent page"),
                            ("tutorial", "In the training tutorial"),
                            ("pre_survey", "Filling the pre-chat survey"),
                            ("waiting", "In the waiting room"),
                            ("chatting", "Chatting"),
                            ("post_survey", "Filling the post-chat survey"),
                            ("done", "Done"),
                        ],
                        max_length=16,
                    ),
                ),
                ("from_device", models.CharField(max_length=12)),
                ("to_device", models.CharField(max_length=12)),
                ("same_network", models.BooleanField()),
                (
                    "worker",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="device_switches",
                        to="crowd.worker",
                    ),
                ),
            ],
            options={"ordering": ["-switched_at"]},
        ),
    ]
