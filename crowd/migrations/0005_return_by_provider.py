"""Each worker returns by their own provider: the run says which providers it takes, the
Prolific URL is Prolific's alone, and MTurk workers keep the host their HIT came from."""

from django.db import migrations, models


def carry_completion_mode(apps, schema_editor):
    """A run that returned everyone to MTurk keeps its host; one that showed only the code
    keeps doing so for Prolific workers."""
    CollectionRun = apps.get_model("crowd", "CollectionRun")
    for run in CollectionRun.objects.all():
        url = run.prolific_completion_url
        if run.completion_mode == "mturk":
            run.mturk_sandbox = "workersandbox" in url
            run.prolific_completion_url = ""
        elif run.completion_mode == "none":
            run.prolific_completion_url = ""
        run.save(update_fields=["mturk_sandbox", "prolific_completion_url"])


class Migration(migrations.Migration):
    dependencies = [("crowd", "0004_devices_and_participation")]

    operations = [
        migrations.RenameField(
            model_name="collectionrun",
            old_name="completion_url_template",
            new_name="prolific_completion_url",
        ),
        migrations.AddField(
            model_name="collectionrun",
            name="mturk_sandbox",
            field=models.BooleanField(
                default=False,
                help_text="Without turkSubmitTo in the link, return to the MTurk sandbox.",
            ),
        ),
        migrations.RunPython(carry_completion_mode, migrations.RunPython.noop),
        migrations.RemoveField(model_name="collectionrun", name="completion_mode"),
        migrations.AddField(
            model_name="collectionrun",
            name="accepts_prolific",
            field=models.BooleanField(default=True),
        ),
        migrations.AddField(
            model_name="collectionrun",
            name="accepts_mturk",
            field=models.BooleanField(default=True),
        ),
        migrations.AddField(
            model_name="worker",
            name="mturk_submit_to",
            field=models.CharField(blank=True, max_length=64),
        ),
    ]
