"""Duplicates across conversations, found by authenticity.scanning.scan on hand-made dialogs.

Conversations are (key, lines) pairs, as the command's readers make them: a line is
(position, speaker, text), the seeker at even positions.
"""

from __future__ import annotations

from authenticity.scanning import Flag, ScanSettings, scan

SCRIPT = "I completely understand how you feel and I am here to listen to you"
# A 30-word line and the same with one word changed ("here" -> "ready"): three of its 28
# 3-word shingles change, so the Jaccard is 25 / 31 = 0.8065.
LONG = (
    "I completely understand how you feel right now and I want you to know that I am here "
    "to listen to you for as long as you need me tonight"
)
LONG_CHANGED = LONG.replace("I am here", "I am ready")
OTHER = "Have you thought about talking to a friend or a family member about this problem"
SEEKER_LINE = "my boss keeps shouting at me in front of everyone at the office"


def dialog(*supporter: str, seeker: str = "hi there") -> list[tuple[int, str, str]]:
    """Seeker and supporter in turn, the seeker first; the supporter says `supporter` lines."""
    lines = []
    for i, text in enumerate(supporter):
        lines += [(2 * i, "seeker", seeker), (2 * i + 1, "supporter", text)]
    return lines


def places(flags: list[Flag]) -> list[tuple[int, int, str, list[tuple[int, int]]]]:
    return [(f.conversation, f.position, f.kind, f.matches) for f in flags]


def test_an_exact_repeat_across_two_conversations_is_flagged_both_ways() -> None:
    result = scan([(0, dialog(OTHER, SCRIPT)), (1, dialog(SCRIPT.upper() + "!!"))])

    assert places(result.flags) == [
        (0, 3, "duplicate", [(1, 1)]),
        (1, 1, "duplicate", [(0, 3)]),
    ]
    assert [(f.speaker, f.score) for f in result.flags] == [("supporter", 1.0)] * 2
    assert result.flagged_utterances == 2


def test_a_near_duplicate_with_one_changed_word_scores_below_one() -> None:
    result = scan([(0, dialog(LONG)), (1, dialog(OTHER)), (2, dialog(LONG_CHANGED))])

    assert places(result.flags) == [(0, 1, "duplicate", [(2, 1)]), (2, 1, "duplicate", [(0, 1)])]
    assert {f.score for f in result.flags} == {0.8065}


def test_below_the_threshold_a_changed_message_is_not_flagged() -> None:
    result = scan(
        [(0, dialog(LONG)), (1, dialog(LONG_CHANGED))], settings=ScanSettings(threshold=0.9)
    )

    assert result.flags == []


def test_a_repeat_inside_one_conversation_is_not_flagged() -> None:
    result = scan([(0, dialog(SCRIPT, OTHER, SCRIPT, LONG, LONG_CHANGED)), (1, dialog(OTHER))])

    # OTHER is in both conversations; SCRIPT and LONG's variants only in conversation 0.
    assert places(result.flags) == [(0, 3, "duplicate", [(1, 1)]), (1, 1, "duplicate", [(0, 3)])]


def test_a_seeker_line_is_never_matched_against_a_supporter_line() -> None:
    result = scan([(0, dialog(SEEKER_LINE)), (1, dialog(OTHER, seeker=SEEKER_LINE))])

    # The seeker of conversation 1 says what the supporter of conversation 0 said.
    assert result.flags == []


def test_seeker_lines_are_matched_against_seeker_lines() -> None:
    result = scan([(0, dialog(OTHER, seeker=SEEKER_LINE)), (1, dialog(SCRIPT, seeker=SEEKER_LINE))])

    assert [(f.conversation, f.position, f.speaker) for f in result.flags] == [
        (0, 0, "seeker"),
        (1, 0, "seeker"),
    ]
    assert result.flags[0].matches == [(1, 0)]


COURTESIES = [
    "Hello, how are you?",
    "Thank you",
    "You're welcome!",
    "Take care.",
    "Hi there! How are you doing today?",
    "I am sorry to hear that.",
]


def test_courtesies_repeated_in_many_conversations_are_never_flagged() -> None:
    conversations = [(key, dialog(*COURTESIES, seeker="Thank you so much")) for key in range(500)]

    result = scan(conversations)

    assert result.conversations == 500 and result.utterances == 6000
    assert result.flags == []


def test_short_messages_are_never_flagged_whatever_the_minimum() -> None:
    nine = "I really do understand how hard this must be"  # 9 words
    assert scan([(0, dialog(nine)), (1, dialog(nine))]).flags == []
    found = scan([(0, dialog(nine)), (1, dialog(nine))], settings=ScanSettings(min_words=9))
    assert len(found.flags) == 2


def test_matches_list_the_first_places_in_input_order_up_to_the_cap() -> None:
    conversations = [(key, dialog(OTHER, SCRIPT)) for key in range(30)]

    result = scan(conversations, settings=ScanSettings(max_matches=5))

    first = [f for f in result.flags if (f.conversation, f.position) == (0, 3)]
    assert [f.matches for f in first] == [[(1, 3), (2, 3), (3, 3), (4, 3), (5, 3)]]
    last = next(f for f in result.flags if (f.conversation, f.position) == (29, 1))
    assert last.matches == [(0, 1), (1, 1), (2, 1), (3, 1), (4, 1)]
    assert result.flagged_utterances == 60


def test_an_exact_copy_and_a_near_one_are_listed_together_with_the_best_score() -> None:
    result = scan([(0, dialog(LONG)), (1, dialog(LONG)), (2, dialog(LONG_CHANGED))])

    by_place = {(f.conversation, f.position): (f.score, f.matches) for f in result.flags}
    assert by_place == {
        (0, 1): (1.0, [(1, 1), (2, 1)]),
        (1, 1): (1.0, [(0, 1), (2, 1)]),
        (2, 1): (0.8065, [(0, 1), (1, 1)]),
    }


def test_nothing_to_scan_is_a_clean_result() -> None:
    result = scan([])

    assert result.as_json() == {
        "conversations": 0,
        "utterances": 0,
        "flagged_utterances": 0,
        "flags": [],
    }
