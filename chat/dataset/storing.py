"""Write validated conversations: their run, rows, utterances and surveys, in batches.

Called inside the import's transaction; records already stored (same fingerprint) are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug

from chat.dataset import DatasetError
from chat.dataset.validating import ParsedConversation
from chat.models import Conversation, Utterance
from crowd import vocabulary
from crowd.models import CollectionRun
from esc_platform.progress import Progress
from surveys.models import SeekerPostChatSurvey, SupporterPostChatSurvey

# Rows per INSERT and values per IN (...): well under SQLite's variable limit.
WRITE_BATCH = 500
UTTERANCE_BATCH = 2000

T = TypeVar("T")


def _batches(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def resolve_run(run_name: str | None) -> CollectionRun:
    """The run to import into: the default one, or the named one (created if missing)."""
    if not run_name:
        return CollectionRun.get_default()
    try:
        validate_slug(run_name)
    except ValidationError:
        raise DatasetError(
            f"run name {run_name!r} must be a slug (letters, digits, '-' and '_')"
        ) from None
    # A run made for imported data is an archive, not a live collection: inactive, so that
    # CollectionRun.get_default() never sends new workers into it.
    run, _ = CollectionRun.objects.get_or_create(
        name=run_name, defaults={"title": f"Imported: {run_name}", "is_active": False}
    )
    return run


def _conversation_row(
    parsed: ParsedConversation, *, fingerprint: str, run: CollectionRun, status: str, fmt: str
) -> Conversation:
    blocks = {vocabulary.SEEKER: 0, vocabulary.SUPPORTER: 0}
    previous = ""
    for utterance in parsed.utterances:
        if utterance.speaker != previous:
            blocks[utterance.speaker] += 1
            previous = utterance.speaker
    return Conversation(
        run=run,
        experience_type=parsed.experience_type,
        emotion_type=parsed.emotion_type,
        problem_type=parsed.problem_type,
        situation=parsed.situation,
        initial_emotion_intensity=parsed.initial_emotion_intensity,
        state=Conversation.State.ENDED,
        end_reason=Conversation.EndReason.IMPORTED,
        quality_status=status,
        source_fingerprint=fingerprint,
        source_format=fmt,
        last_seq=len(parsed.utterances),
        last_speaker=previous,
        seeker_blocks=blocks[vocabulary.SEEKER],
        supporter_blocks=blocks[vocabulary.SUPPORTER],
        supporter_message_count=sum(
            1 for u in parsed.utterances if u.speaker == vocabulary.SUPPORTER
        ),
    )


def _not_stored_yet(parsed: Sequence[ParsedConversation]) -> list[tuple[str, ParsedConversation]]:
    """(fingerprint, conversation) of the records not in the database, each record once."""
    fingerprints = [p.fingerprint() for p in parsed]
    present: set[str] = set()
    for fp_batch in _batches(fingerprints, WRITE_BATCH):
        present.update(
            fp
            for fp in Conversation.objects.filter(source_fingerprint__in=fp_batch).values_list(
                "source_fingerprint", flat=True
            )
            if fp is not None
        )
    todo: list[tuple[str, ParsedConversation]] = []
    for fingerprint, conversation in zip(fingerprints, parsed, strict=True):
        if fingerprint in present:
            continue
        present.add(fingerprint)  # the same record twice in one file is stored once
        todo.append((fingerprint, conversation))
    return todo


def _store_children(rows: Sequence[Conversation], parsed: Sequence[ParsedConversation]) -> None:
    """Insert the utterances and surveys of conversations whose rows have ids."""
    utterances: list[Utterance] = []
    seeker_surveys: list[SeekerPostChatSurvey] = []
    supporter_surveys: list[SupporterPostChatSurvey] = []
    for row, p in zip(rows, parsed, strict=True):
        utterances.extend(
            Utterance(
                conversation=row,
                position=position,
                speaker=u.speaker,
                text=u.text,
                strategy=u.strategy,
                feedback=u.feedback,
            )
            for position, u in enumerate(p.utterances, start=1)
        )
        if p.has_seeker_survey:
            seeker_surveys.append(
                SeekerPostChatSurvey(
                    conversation=row,
                    final_emotion_intensity=p.final_emotion_intensity,
                    empathy=p.empathy,
                    relevance=p.relevance,
                    question1=p.seeker_question1,
                    question2=p.seeker_question2,
                )
            )
        if p.has_supporter_survey:
            supporter_surveys.append(
                SupporterPostChatSurvey(
                    conversation=row,
                    seeker_detail=p.supporter_relevance,
                    question1=p.supporter_question1,
                    question2=p.supporter_question2,
                )
            )
    Utterance.objects.bulk_create(utterances, batch_size=UTTERANCE_BATCH)
    SeekerPostChatSurvey.objects.bulk_create(seeker_surveys, batch_size=WRITE_BATCH)
    SupporterPostChatSurvey.objects.bulk_create(supporter_surveys, batch_size=WRITE_BATCH)


def store_conversations(
    parsed: Sequence[ParsedConversation],
    *,
    fmt: str,
    run: CollectionRun,
    status: str,
    progress: Progress | None = None,
) -> tuple[int, int]:
    """Write the conversations not stored yet; return (imported, skipped). Call in a transaction.

    A constant number of queries per batch of conversations: one fingerprint lookup, one INSERT
    for the conversations and a few for their utterances and surveys.
    """
    todo = _not_stored_yet(parsed)
    progress = progress or Progress.quiet()
    progress.set_total(len(todo))
    for batch in _batches(todo, WRITE_BATCH):
        rows = [
            _conversation_row(p, fingerprint=fp, run=run, status=status, fmt=fmt) for fp, p in batch
        ]
        Conversation.objects.bulk_create(rows)
        if any(row.pk is None for row in rows):
            # Backends that cannot return ids from a bulk insert: look them up once.
            ids = dict(
                Conversation.objects.filter(
                    source_fingerprint__in=[fp for fp, _ in batch]
                ).values_list("source_fingerprint", "pk")
            )
            for row in rows:
                row.pk = ids[row.source_fingerprint]
        _store_children(rows, [p for _, p in batch])
        progress.advance(len(batch))
    return len(todo), len(parsed) - len(todo)
