"""The judging job: take pending conversations a chunk at a time, apply the rules, record.

The rules themselves are the pure function `quality.rules.judge` (see docs/quality.md); this
module gathers their inputs set-wise and writes the outcomes, a chunk per transaction.

Crash safety: a chunk is taken, judged and written in ONE transaction. On PostgreSQL its
conversations are locked with `SELECT ... FOR UPDATE SKIP LOCKED`: a second job skips them
without waiting, and when a worker dies (SIGKILL, OOM) its session ends, the transaction rolls
back and the locks vanish with it, so the next run judges them again. SQLite has no row locks:
it starts every transaction as a write (`transaction_mode=IMMEDIATE` in the settings), so
chunks of concurrent jobs simply run one after the other; a killed writer's journal is rolled
back by the next connection. Either way a conversation is left either untouched (`pending`)
or judged with exactly one new decision.
"""

from __future__ import annotations

import contextlib
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby
from operator import itemgetter
from typing import Any

import orjson
from django.conf import settings
from django.db import connection, transaction
from django.db.backends.utils import CursorDebugWrapper
from django.db.models import F, Lookup, Q, QuerySet
from django.db.models.lookups import In
from django.utils import timezone

from authenticity import live as authenticity_live
from chat.models import Conversation, Utterance
from crowd import vocabulary
from crowd.models import CollectionRun
from crowd.text import word_count
from esc_platform.progress import Progress
from quality.errors import QualityError
from quality.models import AutoApprovalRuleSet, Decision, Flag, JudgingClaim, Outcome, Review
from quality.rule_sets import current_rule_set
from quality.rules import ConversationFacts, judge
from safety import live as safety_live
from surveys.models import SeekerPostChatSurvey, SupporterPostChatSurvey

logger = logging.getLogger(__name__)


def claim_cutoff() -> datetime:
    """A committed `JudgingClaim` older than this is abandoned and removed.

    This module never commits a claim (it locks rows inside the judging transaction); such a row
    is left only by a job of an earlier version, or by an operator holding conversations back.
    It is honoured for half a beat interval, so a dead holder delays judging by less than one.
    """
    return timezone.now() - timedelta(seconds=settings.QUALITY_CONTROL_INTERVAL_SECONDS / 2)


@dataclass
class JudgeCounts:
    filtered: int = 0
    approved: int = 0
    review: int = 0
    # Still pending and not judged by this run: another job held them (row locks or a live
    # claim). A run with skipped > 0 is incomplete, and writes no release.
    skipped: int = 0

    @property
    def judged(self) -> int:
        return self.filtered + self.approved + self.review

    @property
    def complete(self) -> bool:
        """This run judged everything it selected (nothing was left to another job)."""
        return self.skipped == 0

    def as_dict(self) -> dict[str, int]:
        return {
            "filtered": self.filtered,
            "approved": self.approved,
            "review": self.review,
            "skipped": self.skipped,
        }


def judgeable_conversations(run: CollectionRun | None = None) -> QuerySet[Conversation]:
    """Ended (or imported) conversations not judged yet and not withdrawn; never the chats of a
    demo run (docs/operations.md, "The demo run")."""
    qs = Conversation.objects.filter(
        Q(state=Conversation.State.ENDED) | Q(end_reason=Conversation.EndReason.IMPORTED),
        quality_status=Conversation.QualityStatus.PENDING,
        withdrawn_at__isnull=True,
    ).exclude(run__is_demo=True, source_format="")
    # Chats with a model (docs/evaluation.md) are evaluated by seekers, never judged as data.
    qs = qs.filter(evaluation_leg__isnull=True)
    if run is not None:
        qs = qs.filter(run=run)
    return qs


class AnyOf(Lookup):
    """`lhs IN (ids)` as a filter expression: `AnyOf(F("pk"), ids)`.

    On PostgreSQL it is written `lhs = ANY(%s)` with the ids as one array parameter. Django
    writes an IN list with a placeholder per value, and at 500 ids a chunk query is past the
    length psycopg caches its parse of, so each one was parsed again in Python, and its values
    prepared one by one: about a quarter of judging's time. Elsewhere it is Django's own IN.
    """

    lookup_name = "any_of"  # never registered on a field: used as an expression only
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, Any]:
        return In(self.lhs, list(self.rhs)).as_sql(compiler, connection)

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, Any]:
        lhs, params = self.process_lhs(compiler, connection)
        # An array literal is one string to send (psycopg dumps lists element by element).
        array = "{" + ",".join(str(int(pk)) for pk in self.rhs) + "}"
        return f"{lhs} = ANY(%s::bigint[])", (*params, array)


def among(field: str, ids: list[int]) -> AnyOf:
    """A filter: `field` is one of `ids`."""
    return AnyOf(F(field), ids)


def _ascii_word_count(text: str) -> int | None:
    """The words of plain ASCII text, None for any other text.

    Once whitespace is split off, what is left of ASCII text is printable exactly when every
    character is a letter, digit, punctuation mark or symbol, all of which are visible: then
    every token is a word.
    """
    if not text.isascii():
        return None
    if text.isprintable():
        return len(text.split())
    tokens = text.split()
    return len(tokens) if "".join(tokens).isprintable() else None


def visible_word_count(texts: list[str]) -> int:
    """`crowd.text.word_count` summed over `texts`, with a shortcut for plain ASCII text.

    Texts joined by a space have the words of each (a space ends a token), so one check
    covers a speaker's whole conversation; text with anything but plain ASCII (non-ASCII,
    control characters) is counted by the platform's own rule. Judging 100,000 conversations
    counts two million texts: this is about thirty times faster
    (tests/quality/test_word_counting.py checks that it agrees).
    """
    fast = _ascii_word_count(" ".join(texts))
    if fast is not None:
        return fast
    total = 0
    for text in texts:
        counted = _ascii_word_count(text)
        total += word_count(text) if counted is None else counted
    return total


def _fetch(queryset: QuerySet[Any, Any]) -> list[tuple[Any, ...]]:
    """Every row of a values_list queryset, fetched at once through the DB-API cursor.

    For plain integer and text columns, which need no converter: Django's own iteration
    costs more than the database at two million rows.
    """
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def gather_facts(conversation_ids: list[int]) -> dict[int, ConversationFacts]:
    """The rules' inputs for many conversations in a fixed number of queries (no per-row query)."""
    facts = {
        pk: ConversationFacts(pk, end_reason, intensity)
        for pk, end_reason, intensity in Conversation.objects.filter(
            among("pk", conversation_ids)
        ).values_list("pk", "end_reason", "initial_emotion_intensity")
    }
    # The surveys in queries of their own, not joined: joined, PostgreSQL's planner chose to
    # read a whole survey table for every chunk (fine at 20,000 conversations, 20 s at 100,000).
    for conv_id, final, empathy, relevance in SeekerPostChatSurvey.objects.filter(
        among("conversation_id", conversation_ids)
    ).values_list("conversation_id", "final_emotion_intensity", "empathy", "relevance"):
        f = facts[conv_id]
        f.final_emotion_intensity, f.empathy, f.relevance = final, empathy, relevance
    for conv_id, detail in SupporterPostChatSurvey.objects.filter(
        among("conversation_id", conversation_ids)
    ).values_list("conversation_id", "seeker_detail"):
        facts[conv_id].seeker_detail = detail
    utterances = (
        Utterance.objects.filter(among("conversation_id", conversation_ids))
        .order_by("conversation_id", "position")
        .values_list("conversation_id", "speaker", "text", "feedback")
    )
    # A chunk's utterances are read at once (a few MB at most: chat.limits caps a conversation's
    # messages), then counted per conversation and speaker.
    for conv_id, rows in groupby(_fetch(utterances), key=itemgetter(0)):
        seeker: list[str] = []
        supporter: list[str] = []
        feedback: list[int] = []
        for _, speaker, text, score in rows:
            if speaker == vocabulary.SUPPORTER:
                supporter.append(text)
            else:
                seeker.append(text)
                if score is not None:
                    feedback.append(score)
        f = facts[conv_id]
        f.utterance_count = len(seeker) + len(supporter)
        f.seeker_utterances, f.seeker_words = len(seeker), visible_word_count(seeker)
        f.supporter_utterances, f.supporter_words = len(supporter), visible_word_count(supporter)
        f.feedback = feedback
    for conv_id, kind in (
        Flag.objects.filter(among("conversation_id", conversation_ids), resolved_at__isnull=True)
        # Partners from one address are shown to reviewers, but hold approval back only
        # where the run says so (colleagues share an office's address).
        .exclude(kind=Flag.Kind.SAME_NETWORK, conversation__run__same_network_needs_review=False)
        .order_by("pk")
        .values_list("conversation_id", "kind")
    ):
        if kind not in facts[conv_id].open_flags:
            facts[conv_id].open_flags.append(kind)
    return facts


def _take_chunk(candidates: list[int], run: CollectionRun | None) -> list[int]:
    """Of `candidates`, the ones this transaction may judge: still judgeable, held by nobody.

    Call inside the chunk's transaction. On SQLite that transaction holds the database's write
    lock from its BEGIN (IMMEDIATE, see the settings), so the rows read here cannot change under
    it; on PostgreSQL the rows are locked as they are read.
    """
    JudgingClaim.objects.filter(
        among("conversation_id", candidates), claimed_at__lt=claim_cutoff()
    ).delete()
    free = (
        judgeable_conversations(run)
        .filter(among("pk", candidates))
        .exclude(pk__in=JudgingClaim.objects.values("conversation_id"))
        .order_by("pk")
    )
    if connection.features.has_select_for_update_skip_locked:
        # Rows another job is judging are locked by it: skip them rather than wait. Only the
        # conversations' own rows (`of=self`): the filter joins the run, and a locked run row
        # would make every conversation of the run look taken.
        free = free.select_for_update(skip_locked=True, of=("self",))
    return list(free.values_list("pk", flat=True))


# Decision's columns as the judging writes them (decided_at is the chunk's moment).
_DECISION_FIELDS = (
    "conversation",
    "rule_set",
    "rule_set_version",
    "outcome",
    "criteria",
    "has_seeker_survey",
    "reasons",
    "decided_at",
)


def _insert_decisions(rows: list[tuple[Any, ...]]) -> None:
    """Insert Decision rows (values in `_DECISION_FIELDS` order, JSON already as text).

    Rows rather than model instances: at 100,000 conversations, instances and the ORM's
    bulk INSERT (on PostgreSQL an UNNEST of JSON arrays, quoted element by element in Python)
    cost more than all the rest of judging. PostgreSQL takes them with COPY, the fastest way
    in; other databases with one executemany.
    """
    if not rows:
        return
    meta = Decision._meta
    fields = {field.name: str(field.column) for field in meta.concrete_fields}
    columns = ", ".join(connection.ops.quote_name(fields[name]) for name in _DECISION_FIELDS)
    table = connection.ops.quote_name(meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            statement = f"COPY {table} ({columns}) FROM STDIN"
            # Logged like any query where Django logs queries (DEBUG, CaptureQueriesContext).
            logged = (
                cursor.debug_sql(statement)
                if isinstance(cursor, CursorDebugWrapper)
                else contextlib.nullcontext()
            )
            with logged, cursor.cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            # Names from the model's meta, quoted; the values are parameters.
            marks = ", ".join(["%s"] * len(_DECISION_FIELDS))
            statement = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608
            cursor.executemany(statement, rows)


def _judge_chunk(ids: list[int], rules: AutoApprovalRuleSet, counts: JudgeCounts) -> None:
    """Judge `ids` (taken by _take_chunk in the current transaction) and record the outcomes."""
    by_outcome: dict[str, list[int]] = defaultdict(list)
    decided_at = connection.ops.adapt_datetimefield_value(timezone.now())
    rows = []
    # A message whose live safety screening was lost is screened now, before anything is
    # judged: its flags hold the conversation back like any other (safety.live).
    safety_live.screen_stored(safety_live.unscreened(ids))
    # Likewise how its messages were written, duplicates in the run included.
    authenticity_live.check_unchecked(ids)
    for pk, facts in gather_facts(ids).items():
        judgement = judge(facts, rules)
        by_outcome[judgement.outcome].append(pk)
        rows.append(
            (
                pk,
                rules.pk,
                rules.version,
                str(judgement.outcome),
                # The JSONField's value as JSON text: the same values as Django's json.dumps
                # writes (only the spacing differs), ten times faster.
                orjson.dumps(judgement.criteria_dicts()).decode(),
                judgement.has_seeker_survey,
                orjson.dumps(judgement.reasons).decode(),
                decided_at,
            )
        )
    _insert_decisions(rows)
    for outcome, pks in by_outcome.items():
        updated = Conversation.objects.filter(
            among("pk", pks), quality_status=Conversation.QualityStatus.PENDING
        ).update(quality_status=outcome)
        if updated != len(pks):
            # Someone changed a status under our lock (or, without row locks, a job that did
            # not follow this protocol): undo the whole chunk.
            raise QualityError("conversation statuses changed while judging; retry")
        setattr(counts, outcome, getattr(counts, outcome) + len(pks))


def judge_pending(
    *,
    run: CollectionRun | None = None,
    rejudge: bool = False,
    chunk_size: int | None = None,
    progress: Progress | None = None,
) -> JudgeCounts:
    """Run the preliminary filter and auto-approval on every pending ended conversation.

    Safe to run twice, from several workers at once, and after a crash: each chunk is taken
    and judged in one transaction (see the module's docstring), and a status changes only from
    `pending`. Conversations another job holds are not waited for but counted in `skipped`
    (the run is then not `complete`). With `rejudge`, conversations the rules decided earlier
    (filtered / approved / review, never a reviewer's decision) are reset to pending first and
    judged again under the current rule set. `progress` (esc_platform.progress) advances a
    chunk at a time; its total is counted only when it draws a bar.
    """
    if rejudge:
        reset_for_rejudging(run=run)
    size = chunk_size or settings.QUALITY_CONTROL_CHUNK_SIZE
    rules = current_rule_set()
    counts = JudgeCounts()
    progress = progress or Progress.quiet()
    last_pk = 0
    base = judgeable_conversations(run).order_by("pk")
    if progress.drawing:
        progress.set_total(base.count())
    while True:
        candidates = list(base.filter(pk__gt=last_pk).values_list("pk", flat=True)[:size])
        if not candidates:
            break
        last_pk = candidates[-1]
        with transaction.atomic():
            mine = _take_chunk(candidates, run)
            if mine:
                _judge_chunk(mine, rules, counts)
        if len(mine) < len(candidates):
            # Read after our commit: those another job judged meanwhile are done, not skipped.
            left = set(candidates) - set(mine)
            counts.skipped += judgeable_conversations(run).filter(pk__in=left).count()
        progress.advance(len(candidates))
    if counts.skipped:
        logger.warning(
            "quality control judged %s; %d conversations were held by another job",
            counts.as_dict(),
            counts.skipped,
        )
    else:
        logger.info("quality control judged %s", counts.as_dict())
    return counts


def reset_for_rejudging(*, run: CollectionRun | None = None) -> int:
    """Put rule-decided conversations back to pending (reviewer decisions are kept)."""
    qs = Conversation.objects.filter(
        quality_status__in=[Outcome.FILTERED, Outcome.APPROVED, Outcome.REVIEW],
        withdrawn_at__isnull=True,
    ).exclude(pk__in=Review.objects.values("conversation_id"))
    if run is not None:
        qs = qs.filter(run=run)
    return qs.update(quality_status=Conversation.QualityStatus.PENDING)
