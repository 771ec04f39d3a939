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
    rows = Utterance.objects.filter(
        conversation_id__in={c for c, _ in wanted}, position__in={p for _, p in wanted}
    ).values_list(
        "pk",
        "conversation_id",
        "position",
        "speaker",
        "text",
        "compose",
        "conversation__seeker_id",
        "conversation__supporter_id",
    )
    keep = set(wanted)
    written = []
    for pk, conversation, position, speaker, text, compose, seeker, supporter in rows:
        person = seeker if speaker == vocabulary.SEEKER else supporter
        if (conversation, position) in keep and person is not None:
            written.append(Written(pk, conversation, speaker, text, compose))
    return written


def check_messages(messages: Iterable[tuple[int, int]]) -> list[Flag]:
    """Judge the stored messages at (conversation, position); the new flags, stored."""
    written = _written(messages)
    if not written:
        return []
    rules = current_rule_set()
    wanted = [
        Flag(conversation_id=w.conversation_id, utterance_id=w.utterance_id, kind=kind, detail=why)
        for w in written
        for kind, why in signals(w, rules)
    ]
    wanted += _no_composition(w for w in written if w.compose is None)
    Flag.objects.bulk_create(wanted, ignore_conflicts=True)
    return wanted


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
