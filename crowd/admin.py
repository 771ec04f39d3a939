"""Admin of collection runs, workers and data deletions, with the payment and privacy actions."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from crowd import payments, privacy
from crowd.models import CollectionRun, ConsentVersion, DataDeletion, DeviceSwitch, Worker
from crowd.run_form import CollectionRunForm
from settlement.admin_views import settle_view
from staff import audit

# The ids each crowd site fills into a study's link: Prolific's URL placeholders, and MTurk's
# parameters (it appends assignmentId, hitId, turkSubmitTo and workerId to an ExternalQuestion).
_SITE_PARAMETERS = {
    "prolific": (
        "PROLIFIC_PID={{%PROLIFIC_PID%}}&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}"
    ),
    "mturk": "",
    "other": "participant=<ID>",
}


def entry_links(start_url: str, run: CollectionRun) -> list[tuple[str, str, str]]:
    """(site, role, link) for every site the run takes and both roles, ready to copy."""
    links = []
    for provider in Worker.Provider:
        if not run.accepts(provider):
            continue
        for role in ("supporter", "seeker"):
            query = f"role={role}&run={run.name}"
            if _SITE_PARAMETERS[provider]:
                query += "&" + _SITE_PARAMETERS[provider]
            links.append((str(provider.label), role, f"{start_url}?{query}"))
    return links


def _csv_response(content: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@admin.register(CollectionRun)
class CollectionRunAdmin(admin.ModelAdmin):
    form = CollectionRunForm
    list_display = (
        "name",
        "title",
        "is_active",
        "is_demo",
        "base_pay",
        "bonus",
        "currency",
        "dashboard",
        "entry_links_link",
        "settle_link",
    )
    list_filter = ("is_active", "is_demo")
    search_fields = ("name", "title")
    actions = ["download_unpaid_payments"]
    fieldsets = (
        (None, {"fields": ("name", "title", "is_active", "is_demo")}),
        (
            "Who may take part",
            {
                "fields": (
                    "study",
                    "participation",
                    "allow_device_switch",
                    "same_network_needs_review",
                ),
                "description": (
                    "A person takes part once, in one role: in this run, or in every run of "
                    "the same study (runs with a blank study form one). A task stays in the "
                    "browser that opened it unless moves are allowed (docs/workers.md)."
                ),
            },
        ),
        (
            "Consent",
            {
                "fields": (
                    ("researcher_name", "researcher_contact"),
                    "expected_minutes",
                    "consent_text",
                ),
                "description": (
                    "What every worker reads and agrees to before starting. Leave the text "
                    "blank for the default one; numbers in it come from this run's settings, "
                    "and every text workers agreed to is kept as a numbered version."
                ),
            },
        ),
        (
            "Pre-chat survey (seekers)",
            {
                "fields": (
                    "problem_options",
                    "emotion_options",
                    ("situation_min_words", "situation_max_words"),
                )
            },
        ),
        (
            "Training (supporters)",
            {"fields": (("quiz_max_wrong", "quiz_max_attempts"), "accept_earlier_training")},
        ),
        (
            "Recruitment",
            {
                "fields": ("paused", "target_approved", "entry_balance"),
                "description": (
                    "Who is let in (docs/crowd-sites.md): a paused run, or one whose target of "
                    "approved conversations was reached, asks newcomers to come back later, as "
                    "does one whose newcomers of a role could not be matched soon."
                ),
            },
        ),
        (
            "Matching and chat",
            {
                "fields": (
                    "max_wait_seconds",
                    ("min_turns_to_end", "min_seconds_to_end"),
                    "partner_silence_seconds",
                    "abandon_after_seconds",
                    "feedback_every",
                    "max_message_chars",
                    ("paste_policy", "paste_max_chars"),
                )
            },
        ),
        (
            "Safety",
            {
                "fields": ("help_resources",),
                "description": (
                    "Where a seeker whose message suggests danger is pointed (docs/safety.md, "
                    "'Help resources'). Blank shows the default list; check the lines for the "
                    "countries you recruit from."
                ),
            },
        ),
        (
            "Pay",
            {
                "fields": (("base_pay", "bonus", "currency"),),
                "description": (
                    "00 and 01 earn the base; 02 earns base × bonus (seeker) or base × 10·bonus "
                    "(supporter); 03 earns base × 10·bonus."
                ),
            },
        ),
        (
            "Return to the crowd site",
            {
                "fields": (
                    ("accepts_prolific", "accepts_mturk", "accepts_other"),
                    "prolific_completion_url",
                    "site_completion_codes",
                    "mturk_sandbox",
                    "other_return_url",
                ),
                "description": (
                    "Each worker goes back to the site they came from. Prolific: a URL with "
                    '"{code}", and the study\'s completion code for every status, e.g. '
                    '{"00": "C0FAILED", "01": "C1LEFT", "02": "C2PARTNER", "03": "C3DONE"} '
                    "(required before an active run takes Prolific workers). MTurk: the HIT "
                    "is submitted to the host its link names (turkSubmitTo)."
                ),
            },
        ),
        (
            "Settlement",
            {
                "fields": ("settlement_policy", "rejection_message", "rejection_category"),
                "description": (
                    "What settling the run does on the crowd site (docs/crowd-sites.md): per "
                    'status code, approve or reject and the bonus, e.g. {"01": {"action": '
                    '"reject"}, "03": {"bonus": "2.00"}}. Empty: approve everyone, bonuses from '
                    "the pay table. Status 02 (let down by the partner) is never rejected."
                ),
            },
        ),
    )

    def save_model(self, request: HttpRequest, obj: CollectionRun, form: Any, change: bool) -> None:
        """Saved as the admin does; a change of what workers are paid goes in the audit trail."""
        stored = CollectionRun.objects.filter(pk=obj.pk).first() if obj.pk else None
        before = audit.pay_values(stored) if stored is not None else {}
        super().save_model(request, obj, form, change)
        audit.record_pay_change(before, obj, user=request.user, via="admin")

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """The run's page, with the entry links to paste into each crowd site it takes."""
        run = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if run is not None:
            context["entry_links"] = entry_links(request.build_absolute_uri("/start/"), run)
        return super().change_view(request, object_id, form_url, context)

    @admin.display(description="Dashboard")
    def dashboard(self, run: CollectionRun) -> SafeString:
        url = reverse("crowd:run_dashboard", args=[run.name])
        return format_html('<a href="{}">Open</a>', url)

    @admin.display(description="Settle")
    def settle_link(self, run: CollectionRun) -> SafeString:
        url = reverse("admin:crowd_collectionrun_settle", args=[run.pk])
        return format_html('<a href="{}">Preview</a>', url)

    def get_urls(self) -> list[URLPattern]:
        settle = path(
            "<int:pk>/settle/",
            self.admin_site.admin_view(settle_view),
            name="crowd_collectionrun_settle",
        )
        return [settle, *super().get_urls()]

    @admin.display(description="Entry links")
    def entry_links_link(self, run: CollectionRun) -> SafeString:
        url = reverse("admin:crowd_collectionrun_change", args=[run.pk]) + "#entry-links"
        return format_html('<a href="{}">Copy</a>', url)

    @admin.action(description="Download unpaid payments (CSV; marks them paid)")
    def download_unpaid_payments(
        self, request: HttpRequest, queryset: QuerySet[CollectionRun]
    ) -> HttpResponse | None:
        if not request.user.has_perm("crowd.change_worker"):
            self.message_user(request, "You may not mark workers paid.", messages.ERROR)
            return None
        runs = list(queryset[:2])
        if len(runs) != 1:
            self.message_user(request, "Choose exactly one collection run.", messages.ERROR)
            return None
        try:
            content, _ = payments.export_payments_to_string(runs[0])
        except payments.PaymentError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return None
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        return _csv_response(content, f"payments-{runs[0].name}-{stamp}.csv")


@admin.register(Worker)
class WorkerAdmin(admin.ModelAdmin):
    list_display = (
        "pk",
        "run",
        "role",
        "provider",
        "stage",
        "qualification",
        "status_code",
        "pay_total",
        "paid_at",
        "data_deleted_at",
    )
    list_filter = ("run", "role", "stage", "status_code", "qualification", "provider", "simulated")
    list_select_related = ("run",)
    search_fields = ("external_id", "completion_code")
    actions = ["delete_personal_data", "download_payments"]
    readonly_fields = (
        "completion_code",
        "status_code",
        "pay_base",
        "pay_total",
        "finished_at",
        "paid_at",
        "data_deleted_at",
        "created_at",
        "person_key",
        "device_key",
        "network_key",
    )

    @admin.action(description="Delete personal data (at the worker's request)")
    def delete_personal_data(self, request: HttpRequest, queryset: QuerySet[Worker]) -> None:
        if not request.user.has_perm("crowd.change_worker"):
            self.message_user(request, "You may not delete workers' data.", messages.ERROR)
            return
        count = 0
        for worker in queryset:
            privacy.delete_personal_data(worker, requested_by=request.user)
            count += 1
        self.message_user(
            request,
            f"Deleted the personal data of {count} worker(s); their conversations are withdrawn "
            "from every later export.",
            messages.SUCCESS,
        )

    @admin.action(description="Download payments of the selected unpaid workers (marks paid)")
    def download_payments(
        self, request: HttpRequest, queryset: QuerySet[Worker]
    ) -> HttpResponse | None:
        if not request.user.has_perm("crowd.change_worker"):
            self.message_user(request, "You may not mark workers paid.", messages.ERROR)
            return None
        run_ids = set(queryset.values_list("run_id", flat=True))
        if len(run_ids) != 1:
            self.message_user(request, "Choose workers of exactly one run.", messages.ERROR)
            return None
        run = CollectionRun.objects.get(pk=run_ids.pop())
        worker_ids = list(queryset.values_list("pk", flat=True))
        try:
            content, _ = payments.export_payments_to_string(run, worker_ids=worker_ids)
        except payments.PaymentError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return None
        return _csv_response(content, f"payments-{run.name}-selected.csv")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows that are records of what happened (a worker's answers, a deletion): shown, never
    added, edited or deleted in the admin."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(DataDeletion)
class DataDeletionAdmin(ReadOnlyAdmin):
    list_display = ("worker", "deleted_at", "requested_by", "conversations_withdrawn")
    readonly_fields = (
        "worker",
        "requested_by",
        "deleted_at",
        "removed",
        "conversations_withdrawn",
        "unpaid_amount",
    )


@admin.register(DeviceSwitch)
class DeviceSwitchAdmin(ReadOnlyAdmin):
    """Every move of a task to another browser (only runs that allow it have any)."""

    list_display = ("worker", "switched_at", "stage", "from_device", "to_device", "same_network")
    list_filter = ("same_network", "stage")
    list_select_related = ("worker",)
    readonly_fields = list_display


@admin.register(ConsentVersion)
class ConsentVersionAdmin(ReadOnlyAdmin):
    """Every consent text workers agreed to, exactly as they read it."""

    list_display = ("run", "number", "role", "created_at")
    list_filter = ("run", "role")
    readonly_fields = ("run", "number", "role", "created_at", "text", "digest")
