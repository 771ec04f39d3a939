"""The comparison a seeker makes after both chats: five questions, each first / second / tie."""

from __future__ import annotations

from django import forms

from evaluation.models import QUESTIONS

# Our wording of the paper's five questions (section 6.4). The seeker compares "the first" and
# "the second" conversation; which backend each was is never shown.
QUESTION_TEXTS: dict[str, str] = {
    "fluency": "In which conversation were the supporter's messages easier to read and understand?",
    "identification": (
        "In which conversation did the supporter understand your situation better and help you "
        "see what the problem is?"
    ),
    "comforting": "In which conversation did the supporter comfort you better?",
    "suggestion": "In which conversation were the supporter's suggestions more useful to you?",
    "overall": "Overall, which conversation's support would you rather have?",
}
LABELS = {
    "fluency": "Fluency",
    "identification": "Identification",
    "comforting": "Comforting",
    "suggestion": "Suggestion",
    "overall": "Overall",
}
CHOICES = [
    ("first", "The first conversation"),
    ("second", "The second conversation"),
    ("tie", "Both about the same"),
]


class ComparisonForm(forms.Form):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for question in QUESTIONS:
            self.fields[question] = forms.ChoiceField(
                label=QUESTION_TEXTS[question],
                choices=CHOICES,
                widget=forms.RadioSelect,
                error_messages={"required": "Please choose one answer."},
            )
