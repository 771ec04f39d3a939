"""Import ESConv files: validate every record first, then write them all in one transaction.

Three layouts are read (see README.md, "ESConv import and export"):

- ``raw``: the JSON array of SPEC section 8 (speakers ``seeker``/``supporter``);
- ``jsonl``: the released JSON-lines layout (one conversation a line, dialog items
  ``{"text", "speaker": "usr"|"sys", "strategy"}``);
- ``legacy``: the raw array of the original collection's rejected conversations
  (``FailedESConv.json``): speakers ``speaker``/``listener``, strategy names from before
  the names were settled (mapped by ``crowd.vocabulary.LEGACY_STRATEGY_MAP``), and no
  open-answer keys.

A file is all or nothing: the first bad record stops the import with a message naming the
record and the field, and nothing from the file is kept.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import IntegrityError, transaction
from tqdm import tqdm

from chat.dataset import DatasetError
from chat.models import Conversation, Utterance
from crowd import vocabulary
from crowd.models import CollectionRun
from surveys.models import SeekerPostChatSurvey, SupporterPostChatSurvey

FORMATS = ("raw", "jsonl", "legacy")
IMPORT_STATUSES = (Conversation.QualityStatus.APPROVED, Conversation.QualityStatus.PENDING)

# Rows per INSERT and values per IN (...): well under SQLite's variable limit.
WRITE_BATCH = 500
UTTERANCE_BATCH = 2000

SPEAKER_LABELS: dict[str, dict[str, str]] = {
    "raw": {"seeker": vocabulary.SEEKER, "supporter": vocabulary.SUPPORTER},
    "legacy": {"speaker": vocabulary.SEEKER, "listener": vocabulary.SUPPORTER},
    "jsonl": {"usr": vocabulary.SEEKER, "sys": vocabulary.SUPPORTER},
}
QUESTION_KEYS = (
    "seeker_question1",
    "seeker_question2",
    "supporter_question1",
    "supporter_question2",
)
TOP_LEVEL_KEYS = (
    "experience_type",
    "emotion_type",
    "problem_type",
    "situation",
    "survey_score",
    "dialog",
    *QUESTION_KEYS,
)
SEEKER_SCORE_KEYS = ("initial_emotion_intensity", "empathy", "relevance", "final_emotion_intensity")
# The released data holds supporter relevance "0" (SPEC / PROVENANCE); everything else is 1-5.
SUPPORTER_RELEVANCE_LOW = 0
# Canonical digit strings only: "05" or " 5" would not survive a round trip unchanged.
DIGITS = re.compile(r"0|[1-9][0-9]*")
# Conversation.emotion_type / problem_type / experience_type are CharField(max_length=64).
LABEL_MAX_CHARS = 64


@dataclass(frozen=True)
class ParsedUtterance:
    speaker: str
    text: str
    strategy: str | None
    feedback: int | None


@dataclass
class ParsedConversation:
    """One validated record, with labels already mapped to the current vocabulary."""

    experience_type: str
    emotion_type: str
    problem_type: str
    situation: str
    initial_emotion_intensity: int | None
    empathy: int | None
    relevance: int | None
    final_emotion_intensity: int | None
    supporter_relevance: int | None
    seeker_question1: str
    seeker_question2: str
    supporter_question1: str
    supporter_question2: str
    utterances: list[ParsedUtterance] = field(default_factory=list)

    def fingerprint(self) -> str:
        """sha256 of the canonical form: the same conversation always gives the same value.

        The canonical form is what we store, so a raw export of an imported file is recognised
        as the same conversations when it is imported again.
        """
        canonical = {
            "experience_type": self.experience_type,
            "emotion_type": self.emotion_type,
            "problem_type": self.problem_type,
            "situation": self.situation,
            "scores": [
                self.initial_emotion_intensity,
                self.empathy,
                self.relevance,
                self.final_emotion_intensity,
                self.supporter_relevance,
            ],
            "questions": [
                self.seeker_question1,
                self.seeker_question2,
                self.supporter_question1,
                self.supporter_question2,
            ],
            "dialog": [[u.speaker, u.text, u.strategy, u.feedback] for u in self.utterances],
        }
        encoded = json.dumps(canonical, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        return hashlib.sha256(encoded.encode("utf-8")).hexdigest()

    @property
    def has_seeker_survey(self) -> bool:
        return (
            self.empathy is not None
            or self.relevance is not None
            or self.final_emotion_intensity is not None
            or bool(self.seeker_question1)
            or bool(self.seeker_question2)
        )

    @property
    def has_supporter_survey(self) -> bool:
        return (
            self.supporter_relevance is not None
            or bool(self.supporter_question1)
            or bool(self.supporter_question2)
        )


@dataclass(frozen=True)
class ImportResult:
    format: str
    imported: int
    skipped: int
    run: str


# --------------------------------------------------------------------------- reading


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {json.dumps(value)}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {json.dumps(value)}"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class _Record:
    """Validation helpers for one record; every error names the record and the field path."""

    def __init__(self, number: int, line: int | None, fmt: str) -> None:
        self.where = f"record {number}" if line is None else f"record {number} (line {line})"
        self.fmt = fmt

    def fail(self, path: str, message: str) -> DatasetError:
        return DatasetError(
            f"{self.where}, {path}: {message}" if path else f"{self.where}: {message}"
        )

    def mapping(self, value: object, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"expected an object, got {_describe(value)}")
        return value

    def keys(
        self, obj: dict[str, Any], path: str, required: Sequence[str], optional: Sequence[str] = ()
    ) -> None:
        prefix = f"{path}." if path else ""
        for key in required:
            if key not in obj:
                raise self.fail(f"{prefix}{key}", "missing")
        allowed = set(required) | set(optional)
        for key in obj:
            if key not in allowed:
                raise self.fail(f"{prefix}{key}", "unexpected key")

    def string(self, value: object, path: str, *, non_empty: bool = False) -> str:
        if not isinstance(value, str):
            raise self.fail(path, f"expected a string, got {_describe(value)}")
        if non_empty and not value.strip():
            raise self.fail(path, "must not be empty")
        if "\x00" in value:
            # PostgreSQL text cannot hold NUL; refuse it on every backend alike.
            raise self.fail(path, "contains a NUL character (\\u0000)")
        return value

    def label(self, value: object, path: str) -> str:
        text = self.string(value, path, non_empty=True)
        if len(text) > LABEL_MAX_CHARS:
            raise self.fail(path, f"longer than {LABEL_MAX_CHARS} characters")
        return text

    def score(self, value: object, path: str, low: int = 1, high: int = 5) -> int:
        if not isinstance(value, str):
            raise self.fail(
                path, f'scores are digit strings such as "4"; got {_describe(value)} instead'
            )
        if not DIGITS.fullmatch(value):
            raise self.fail(path, f'scores are digit strings such as "4"; got {json.dumps(value)}')
        number = int(value)
        if not low <= number <= high:
            raise self.fail(path, f"{number} is not between {low} and {high}")
        return number

    def strategy(self, value: object, path: str) -> str:
        name = self.string(value, path)
        if self.fmt == "legacy":
            name = vocabulary.LEGACY_STRATEGY_MAP.get(name, name)
        if name not in vocabulary.STRATEGY_NAMES:
            known = list(vocabulary.STRATEGY_NAMES)
            if self.fmt == "legacy":
                known += list(vocabulary.LEGACY_STRATEGY_MAP)
            raise self.fail(
                path, f"unknown strategy {json.dumps(value)} (expected one of {', '.join(known)})"
            )
        return name

    def speaker(self, value: object, path: str) -> str:
        labels = SPEAKER_LABELS[self.fmt]
        if not isinstance(value, str) or value not in labels:
            expected = " or ".join(json.dumps(label) for label in labels)
            raise self.fail(path, f"unknown speaker {_describe(value)} (expected {expected})")
        return labels[value]


def _parse_dialog_item(record: _Record, value: object, path: str) -> ParsedUtterance:
    item = record.mapping(value, path)
    if record.fmt == "jsonl":
        record.keys(item, path, ("text", "speaker"), ("strategy",))
        speaker = record.speaker(item["speaker"], f"{path}.speaker")
        text = record.string(item["text"], f"{path}.text")
        if speaker == vocabulary.SUPPORTER:
            if "strategy" not in item:
                raise record.fail(f"{path}.strategy", "missing (every sys item carries one)")
            return ParsedUtterance(
                speaker, text, record.strategy(item["strategy"], f"{path}.strategy"), None
            )
        if "strategy" in item:
            raise record.fail(f"{path}.strategy", "a usr (seeker) item carries no strategy")
        return ParsedUtterance(speaker, text, None, None)

    record.keys(item, path, ("speaker", "annotation", "content"))
    speaker = record.speaker(item["speaker"], f"{path}.speaker")
    text = record.string(item["content"], f"{path}.content")
    annotation = record.mapping(item["annotation"], f"{path}.annotation")
    apath = f"{path}.annotation"
    if speaker == vocabulary.SUPPORTER:
        if "feedback" in annotation:
            raise record.fail(f"{apath}.feedback", "only seeker items carry feedback")
        record.keys(annotation, apath, ("strategy",))
        return ParsedUtterance(
            speaker, text, record.strategy(annotation["strategy"], f"{apath}.strategy"), None
        )
    if "strategy" in annotation:
        raise record.fail(f"{apath}.strategy", "a seeker item carries no strategy")
    record.keys(annotation, apath, (), ("feedback",))
    feedback = None
    if "feedback" in annotation:
        feedback = record.score(annotation["feedback"], f"{apath}.feedback")
    return ParsedUtterance(speaker, text, None, feedback)


def parse_record(
    value: object, *, number: int, fmt: str, line: int | None = None
) -> ParsedConversation:
    """Validate one decoded record of layout `fmt`; raise DatasetError naming the bad field."""
    record = _Record(number, line, fmt)
    obj = record.mapping(value, "")
    # The legacy file has no open-answer keys; the two current layouts always carry them.
    required = TOP_LEVEL_KEYS if fmt != "legacy" else TOP_LEVEL_KEYS[:6]
    optional = QUESTION_KEYS if fmt == "legacy" else ()
    record.keys(obj, "", required, optional)

    experience = record.string(obj["experience_type"], "experience_type")
    if experience not in vocabulary.EXPERIENCE_TYPES:
        expected = " or ".join(json.dumps(e) for e in vocabulary.EXPERIENCE_TYPES)
        raise record.fail("experience_type", f"{json.dumps(experience)} is not {expected}")

    survey = record.mapping(obj["survey_score"], "survey_score")
    record.keys(survey, "survey_score", ("seeker", "supporter"))
    seeker = record.mapping(survey["seeker"], "survey_score.seeker")
    record.keys(seeker, "survey_score.seeker", (), SEEKER_SCORE_KEYS)
    supporter = record.mapping(survey["supporter"], "survey_score.supporter")
    record.keys(supporter, "survey_score.supporter", (), ("relevance",))
    seeker_scores = {
        key: record.score(seeker[key], f"survey_score.seeker.{key}") if key in seeker else None
        for key in SEEKER_SCORE_KEYS
    }
    supporter_relevance = None
    if "relevance" in supporter:
        supporter_relevance = record.score(
            supporter["relevance"], "survey_score.supporter.relevance", low=SUPPORTER_RELEVANCE_LOW
        )

    dialog = obj["dialog"]
    if not isinstance(dialog, list):
        raise record.fail("dialog", f"expected an array, got {_describe(dialog)}")
    if not dialog:
        raise record.fail("dialog", "must hold at least one utterance")
    utterances = [
        _parse_dialog_item(record, item, f"dialog[{index}]") for index, item in enumerate(dialog)
    ]

    questions = {key: record.string(obj[key], key) if key in obj else "" for key in QUESTION_KEYS}
    return ParsedConversation(
        experience_type=experience,
        emotion_type=record.label(obj["emotion_type"], "emotion_type"),
        problem_type=record.label(obj["problem_type"], "problem_type"),
        situation=record.string(obj["situation"], "situation"),
        initial_emotion_intensity=seeker_scores["initial_emotion_intensity"],
        empathy=seeker_scores["empathy"],
        relevance=seeker_scores["relevance"],
        final_emotion_intensity=seeker_scores["final_emotion_intensity"],
        supporter_relevance=supporter_relevance,
        utterances=utterances,
        **questions,
    )


def _json_error(exc: json.JSONDecodeError) -> str:
    return f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"


def detect_format(text: str) -> str:
    """Tell the layout from the content: a JSON array is raw or legacy, objects a line jsonl."""
    start = text.lstrip()[:1]
    if start == "{":
        return "jsonl"
    if start != "[":
        raise DatasetError(
            "cannot tell the layout: the file starts with neither '[' (raw) nor '{' (JSON lines); "
            "use --format"
        )
    try:
        records = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DatasetError(_json_error(exc)) from None
    legacy_labels = set(SPEAKER_LABELS["legacy"])
    for record in records if isinstance(records, list) else ():
        dialog = record.get("dialog") if isinstance(record, dict) else None
        for item in dialog if isinstance(dialog, list) else ():
            if isinstance(item, dict) and item.get("speaker") in legacy_labels:
                return "legacy"
    return "raw"


def parse_text(text: str, fmt: str) -> list[ParsedConversation]:
    """Validate a whole file's content in layout `fmt` (not "auto")."""
    if fmt == "jsonl":
        parsed: list[ParsedConversation] = []
        for line_number, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            number = len(parsed) + 1
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DatasetError(
                    f"record {number} (line {line_number}): not valid JSON: {exc.msg} "
                    f"(column {exc.colno})"
                ) from None
            parsed.append(parse_record(value, number=number, fmt=fmt, line=line_number))
        return parsed

    try:
        records = json.loads(text)
    except json.JSONDecodeError as exc:
        hint = "; is it JSON lines? try --format jsonl" if exc.msg == "Extra data" else ""
        raise DatasetError(_json_error(exc) + hint) from None
    if not isinstance(records, list):
        raise DatasetError(
            f"the {fmt} layout is a JSON array of conversations, got {_describe(records)}"
        )
    return [
        parse_record(value, number=number, fmt=fmt) for number, value in enumerate(records, start=1)
    ]


def read_file(path: Path, fmt: str = "auto") -> tuple[str, list[ParsedConversation]]:
    """Read and validate `path`; return the layout used and the parsed conversations."""
    if fmt != "auto" and fmt not in FORMATS:
        raise DatasetError(f"unknown format {fmt!r}; use auto, {', '.join(FORMATS)}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc.strerror}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path} is not UTF-8 text (byte {exc.start})") from None
    if fmt == "auto":
        fmt = detect_format(text)
    return fmt, parse_text(text, fmt)


# --------------------------------------------------------------------------- writing

T = TypeVar("T")


def _batches(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _resolve_run(run_name: str | None) -> CollectionRun:
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


def store_conversations(
    parsed: Sequence[ParsedConversation],
    *,
    fmt: str,
    run: CollectionRun,
    status: str,
    progress: bool = False,
) -> tuple[int, int]:
    """Write the conversations not stored yet; return (imported, skipped). Call in a transaction.

    A constant number of queries per batch of conversations: one fingerprint lookup, one INSERT
    for the conversations and a few for their utterances and surveys.
    """
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

    with tqdm(total=len(todo), disable=not progress, unit="conv", desc="import") as bar:
        for batch in _batches(todo, WRITE_BATCH):
            rows = [
                _conversation_row(p, fingerprint=fp, run=run, status=status, fmt=fmt)
                for fp, p in batch
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
            utterances: list[Utterance] = []
            seeker_surveys: list[SeekerPostChatSurvey] = []
            supporter_surveys: list[SupporterPostChatSurvey] = []
            for row, (_, p) in zip(rows, batch, strict=True):
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
            bar.update(len(batch))
    return len(todo), len(parsed) - len(todo)


def import_esconv_file(
    path: Path,
    *,
    fmt: str = "auto",
    status: str = Conversation.QualityStatus.APPROVED,
    run_name: str | None = None,
    progress: bool = False,
) -> ImportResult:
    """Import one ESConv file, all or nothing; records already present are skipped."""
    if status not in IMPORT_STATUSES:
        raise DatasetError(f"status must be one of {', '.join(IMPORT_STATUSES)}, not {status!r}")
    used_format, parsed = read_file(path, fmt)
    try:
        with transaction.atomic():
            run = _resolve_run(run_name)
            imported, skipped = store_conversations(
                parsed, fmt=used_format, run=run, status=status, progress=progress
            )
    except IntegrityError as exc:
        # Only a concurrent import of the same records gets here (validation ran first).
        raise DatasetError(f"nothing imported: the database refused a row ({exc})") from exc
    return ImportResult(format=used_format, imported=imported, skipped=skipped, run=run.name)
