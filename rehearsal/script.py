"""What simulated workers say: a seeker's and a supporter's lines, each in its own words.

The lines are ours. A pair says them with one word in three drawn, per message, from the
lines' vocabulary (seeded by the message's id), so that no two conversations hold the same
text: simulated chats look like ordinary traffic to the run's near-duplicate check
(docs/authenticity.md) instead of a farm pasting one script into every chat. The chat load
bench (bench/chatload) uses the same lines.
"""

from __future__ import annotations

import random

SEEKER_LINES = (
    "Hi, thanks for talking with me. I've had a rough couple of weeks.",
    "Work has been piling up and I keep lying awake thinking about it.",
    "My manager moved the deadline forward again and I don't think I can make it.",
    "I haven't told anyone at home because I don't want them to worry.",
    "Some days I just feel like I'm failing at everything at once.",
    "I tried making a list yesterday but I only got through one item.",
    "Honestly it helps a bit just to say it to someone.",
    "I used to go running in the mornings, I stopped when all this started.",
    "Maybe I could ask a colleague to take over part of the project.",
    "I'm scared they'll think I can't handle my job.",
    "That's a fair point, I hadn't looked at it that way.",
    "I think I'll try talking to my manager on Monday.",
)
SUPPORTER_LINES = (
    "Hello, I'm glad you reached out. What has been weighing on you the most?",
    "It sounds like the pressure at work is following you home at night.",
    "That sounds exhausting, anyone would feel stretched thin by that.",
    "I went through something similar last year when my team shrank.",
    "You are clearly trying hard, and that counts for a lot.",
    "Would it help to break the project into the parts that truly have to be done first?",
    "Many people find that ten minutes of exercise in the morning steadies the whole day.",
    "How do you think your manager would react if you explained the workload?",
    "So the deadline is what worries you most, more than the work itself?",
    "Asking for help is a sign you take the work seriously, not a weakness.",
    "What would make Monday's conversation feel a little easier for you?",
    "I'm really glad talking it through helped. You've got a plan now.",
)
# The strategy a supporter labels each of SUPPORTER_LINES with (crowd.vocabulary's spellings).
SUPPORTER_STRATEGIES = (
    "Question",
    "Restatement or Paraphrasing",
    "Reflection of feelings",
    "Self-disclosure",
    "Affirmation and Reassurance",
    "Providing Suggestions",
    "Information",
    "Question",
    "Restatement or Paraphrasing",
    "Affirmation and Reassurance",
    "Question",
    "Others",
)
# A situation for the pre-chat survey, long enough for the default 20-word minimum.
SITUATION = (
    "My workload doubled after two colleagues left, my manager keeps moving deadlines forward, "
    "and I lie awake most nights going over everything I have not finished yet."
)
_VOCABULARY = sorted({word for line in SEEKER_LINES + SUPPORTER_LINES for word in line.split()})


def in_own_words(line: str, seed: str) -> str:
    """`line` with every third word from the second on drawn from the lines' vocabulary."""
    rng = random.Random(seed)
    words = line.split()
    for i in range(2, len(words), 3):
        words[i] = rng.choice(_VOCABULARY)
    return " ".join(words)


def seeker_line(turn: int, seed: str) -> str:
    return in_own_words(SEEKER_LINES[turn % len(SEEKER_LINES)], seed)


def supporter_line(turn: int, seed: str) -> tuple[str, str]:
    """The supporter's message `turn` and its strategy."""
    index = turn % len(SUPPORTER_LINES)
    return in_own_words(SUPPORTER_LINES[index], seed), SUPPORTER_STRATEGIES[index]
