"""The export bench's bare baseline: the same rows and bytes without the platform's code.

A plain loop reads the export's rows with DB-API cursors (hand-written SQL, no ORM), builds
each conversation's dict and writes it with the standard library's `json`
(`json.dumps(..., indent=1)` for raw, as the dataset's files were written). bench/export_scale.py
times it in the same run as `manage.py export_esconv` and checks that both files are the same
bytes, so the ratio of the two times compares the same work.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

BASELINE_CHUNK = 500  # conversations per query, as the export reads them

CONVERSATIONS_SQL = """
SELECT c.id, c.experience_type, c.emotion_type, c.problem_type, c.situation,
       c.initial_emotion_intensity,
       s.id, s.final_emotion_intensity, s.empathy, s.relevance, s.question1, s.question2,
       p.id, p.seeker_detail, p.question1, p.question2
FROM chat_conversation c
LEFT JOIN surveys_seekerpostchatsurvey s ON s.conversation_id = c.id
LEFT JOIN surveys_supporterpostchatsurvey p ON p.conversation_id = c.id
WHERE c.run_id = %s AND c.state = 'ended' AND c.withdrawn_at IS NULL AND c.id > %s
ORDER BY c.id
LIMIT %s
"""
UTTERANCES_SQL = """
SELECT conversation_id, speaker, text, strategy, feedback
FROM chat_utterance
WHERE conversation_id IN ({})
ORDER BY conversation_id, position
"""


def _scores(row: tuple[Any, ...]) -> dict[str, dict[str, str]]:
    """The layout's survey_score from a conversation row."""
    seeker: dict[str, str] = {}
    if row[5] is not None:
        seeker["initial_emotion_intensity"] = str(row[5])
    if row[6] is not None:
        for key, value in (
            ("empathy", row[8]),
            ("relevance", row[9]),
            ("final_emotion_intensity", row[7]),
        ):
            if value is not None:
                seeker[key] = str(value)
    supporter = {"relevance": str(row[13])} if row[12] is not None and row[13] is not None else {}
    return {"seeker": seeker, "supporter": supporter}


def _item(speaker: str, text: str, strategy: str | None, feedback: Any, fmt: str) -> dict[str, Any]:
    """One dialog item of the layout."""
    if fmt == "jsonl":
        item: dict[str, Any] = {
            "text": " ".join(text.split()),
            "speaker": "sys" if speaker == "supporter" else "usr",
        }
        if speaker == "supporter":
            item["strategy"] = strategy
        return item
    if speaker == "supporter":
        annotation = {"strategy": strategy}
    else:
        annotation = {"feedback": str(feedback)} if feedback is not None else {}
    return {"speaker": speaker, "annotation": annotation, "content": text}


def _baseline_dict(row: tuple[Any, ...], dialog: list[tuple[Any, ...]], fmt: str) -> dict[str, Any]:
    """One conversation's dict in the layout, straight from the rows."""
    return {
        "experience_type": row[1],
        "emotion_type": row[2],
        "problem_type": row[3],
        "situation": row[4],
        "survey_score": _scores(row),
        "dialog": [_item(*utterance, fmt) for utterance in dialog],
        "seeker_question1": row[10] if row[6] is not None else "",
        "seeker_question2": row[11] if row[6] is not None else "",
        "supporter_question1": row[14] if row[12] is not None else "",
        "supporter_question2": row[15] if row[12] is not None else "",
    }


def baseline(run_name: str, output: Path, fmt: str) -> tuple[float, int]:
    """The bare loop: the export's rows through DB-API cursors, its text through `json`.

    Returns (seconds, conversations written). Memory stays flat as in the export: a chunk of
    conversations at a time, read by keyset like the export.
    """
    from django.db import connection

    started = time.perf_counter()
    written = 0
    with connection.cursor() as cursor, output.open("w", encoding="utf-8", newline="\n") as out:
        cursor.execute("SELECT id FROM crowd_collectionrun WHERE name = %s", [run_name])
        (run_id,) = cursor.fetchone()
        last = 0
        while True:
            cursor.execute(CONVERSATIONS_SQL, [run_id, last, BASELINE_CHUNK])
            rows = cursor.fetchall()
            if not rows:
                break
            last = rows[-1][0]
            cursor.execute(
                UTTERANCES_SQL.format(", ".join(["%s"] * len(rows))), [r[0] for r in rows]
            )
            dialogs: dict[int, list[tuple[Any, ...]]] = {}
            for conversation_id, *utterance in cursor.fetchall():
                dialogs.setdefault(conversation_id, []).append(tuple(utterance))
            for row in rows:
                conversation = _baseline_dict(row, dialogs.get(row[0], []), fmt)
                if fmt == "jsonl":
                    out.write(("\n" if written else "") + json.dumps(conversation))
                else:
                    # An item of the file's array is indented one level more: JSON strings hold
                    # no raw newline, so shifting every line gives json.dumps(whole, indent=1).
                    text = json.dumps(conversation, indent=1).replace("\n", "\n ")
                    out.write(("[\n " if not written else ",\n ") + text)
                written += 1
        if fmt == "raw":
            out.write("\n]" if written else "[]")
    return time.perf_counter() - started, written


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
