"""How each stored message was written, judged after its acknowledgement (docs/authenticity.md).

The chat's screening batch (chat.screening) hands every stored message here, a batch at a
time: its composition data (chat.composition) is read back and the rule set in force says
what is flagged. Each signal becomes a quality.Flag of its own kind on the message, at most
once per message and kind; messages without composition data are flagged once per
conversation and worker role, with a count, so that a scripted client does not leave a flag on
every line. A model's messages in an evaluation are never judged: no person wrote them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from authenticity import duplicates
from authenticity.models import Checked
from chat.composition import SINCE_FOCUS, TYPING_FRAMES
from chat.models import Utterance
from crowd import vocabulary
from quality.models import AutoApprovalRuleSet, Flag
from quality.rule_sets import current_rule_set

Kind = Flag.Kind
# Below this many characters, how a message was written says little.
MIN_PASTED_CHARS = 20
MIN_SPEED_CHARS = 30
# Composition this long that came with no typing frame at all did not happen on the page: the
# page sends one within 2.5 s of any input.
UNCONFIRMED_AFTER_MS = 5000


@dataclass(frozen=True)
class Written:
    """One stored message and how it was written."""

    utterance_id: int
    conversation_id: int
    speaker: str
    text: str
    compose: dict[str, Any] | None
    position: int = 0
    run_id: int = 0


def signals(written: Written, rules: AutoApprovalRuleSet) -> list[tuple[str, str]]:
    """The (kind, evidence) this message raises under `rules`; no-data is the caller's."""
    compose = written.compose
    if compose is None:
        return []
    found: list[tuple[str, str]] = []
    length = len(written.text)
    pasted = compose["pasted"]
    if pasted >= MIN_PASTED_CHARS and pasted > rules.max_pasted_share * max(length, 1):
        found.append((Kind.AUTHENTICITY_PASTED, f"{pasted} of {length} characters pasted"))
    seconds = compose["ms"] / 1000
    typed = max(length - pasted, 0)
    if typed >= MIN_SPEED_CHARS and typed > rules.max_chars_per_second * max(seconds, 0.001):
        speed = typed / max(seconds, 0.001)
        found.append(
            (Kind.AUTHENTICITY_TOO_FAST, f"{typed} characters in {seconds:.1f} s ({speed:.0f}/s)")
        )
    since = compose.get(SINCE_FOCUS)
    if since is not None and since <= rules.refocus_window_ms and length >= rules.refocus_min_chars:
        found.append(
            (
                Kind.AUTHENTICITY_AFTER_REFOCUS,
                f"{length} characters sent {since} ms after coming back",
            )
        )
    if compose["ms"] >= UNCONFIRMED_AFTER_MS and compose["inputs"] and not compose[TYPING_FRAMES]:
        found.append(
            (
                Kind.AUTHENTICITY_UNCONFIRMED,
                f"{compose['ms'] / 1000:.1f} s of typing reported, no typing seen by the server",
            )
        )
    return found


def _written(messages: Iterable[tuple[int, int]]) -> list[Written]:
    """The stored messages at (conversation, position), written by a person."""
    wanted = list(messages)
    if not wanted:
        return []
    return _people(
        Utterance.objects.filter(
            conversation_id__in={c for c, _ in wanted}, position__in={p for _, p in wanted}
        ),
        set(wanted),
    )


def _people(utterances: QuerySet[Utterance], keep: set[tuple[int, int]] | None) -> list[Written]:
    """Of `utterances` (those at `keep`, when given), the ones a person wrote."""
    rows = utterances.values_list(
        "pk",
        "conversation_id",
        "position",
        "speaker",
        "text",
        "compose",
        "conversation__seeker_id",
        "conversation__supporter_id",
        "conversation__run_id",
    )
    written = []
    for pk, conversation, position, speaker, text, compose, seeker, supporter, run in rows:
        person = seeker if speaker == vocabulary.SEEKER else supporter
        if (keep is None or (conversation, position) in keep) and person is not None:
            written.append(Written(pk, conversation, speaker, text, compose, position, run))
    return written


def check_messages(messages: Iterable[tuple[int, int]]) -> list[Flag]:
    """Every check of the stored messages at (conversation, position): how each was written
    and whether the run holds it already. The new flags of composition."""
    written = _written(messages)
    flags = _composition(written)
    _across_run(written)
    return flags


def check_composition(messages: Iterable[tuple[int, int]]) -> list[Flag]:
    """How each stored message at (conversation, position) was written: the new flags.
    The screening's quick batch, beside the safety screening."""
    return _composition(_written(messages))


def check_across_run(messages: Iterable[tuple[int, int]]) -> int:
    """Whether the run holds each stored message already (a duplicate), then mark them judged.
    The screening's slower batch: many messages a query. How many messages were judged."""
    written = _written(messages)
    _across_run(written)
    return len(written)


def check_unchecked(conversation_ids: list[int]) -> int:
    """Judge the messages of these conversations the live checks never judged (their process
    died within the screening window): the quality job's backstop. How many were judged.

    Only conversations the live checks have seen count: one none of whose messages was ever
    judged (stored before the checks existed, or not through the chat) is left alone.
    """
    seen = set(
        Checked.objects.filter(utterance__conversation_id__in=conversation_ids)
        .values_list("utterance__conversation_id", flat=True)
        .distinct()
    )
    if not seen:
        return 0
    written = _people(
        Utterance.objects.filter(
            Q(speaker=vocabulary.SEEKER, conversation__seeker__isnull=False)
            | Q(speaker=vocabulary.SUPPORTER, conversation__supporter__isnull=False),
            conversation_id__in=seen,
        ).exclude(
            pk__in=Checked.objects.filter(utterance__conversation_id__in=seen).values(
                "utterance_id"
            )
        ),
        None,
    )
    _composition(written)
    _across_run(written)
    return len(written)


def _composition(written: list[Written]) -> list[Flag]:
    if not written:
        return []
    rules = current_rule_set()
    wanted = [
        Flag(conversation_id=w.conversation_id, utterance_id=w.utterance_id, kind=kind, detail=why)
        for w in written
        for kind, why in signals(w, rules)
    ]
    wanted += _no_composition(w for w in written if w.compose is None)
    # A message judged twice (the backstop racing a slow batch) gets no second flag of a kind.
    Flag.objects.bulk_create(wanted, ignore_conflicts=True)
    return wanted


def _across_run(written: list[Written]) -> None:
    if not written:
        return
    duplicates.check(
        (
            duplicates.Message(w.conversation_id, w.position, w.run_id, w.speaker, w.text)
            for w in written
        ),
        current_rule_set(),
    )
    # Marked last: the quality job judges again whatever a crash left unmarked.
    marks = [(w.utterance_id,) for w in written]
    duplicates.insert_rows(Checked, ["utterance_id"], marks, ignore=True)


def _no_composition(written: Iterable[Written]) -> list[Flag]:
    """One flag per conversation and role for messages that came without composition data."""
    first: dict[tuple[int, str], Written] = {}
    for w in written:
        first.setdefault((w.conversation_id, w.speaker), w)
    if not first:
        return []
    flagged = set(
        Flag.objects.filter(
            conversation_id__in={c for c, _ in first}, kind=Kind.AUTHENTICITY_NO_COMPOSITION
        ).values_list("conversation_id", "utterance__speaker")
    )
    return [
        Flag(
            conversation_id=w.conversation_id,
            utterance_id=w.utterance_id,
            kind=Kind.AUTHENTICITY_NO_COMPOSITION,
            detail=f"the {speaker}'s messages came without composition data, from this one on",
        )
        for (conversation, speaker), w in first.items()
        if (conversation, speaker) not in flagged
    ]
