"""Survey forms: parse and validate what a worker typed; the services do the writing."""

from __future__ import annotations

from typing import Any

from django import forms

from crowd import vocabulary
from crowd.models import CollectionRun
from crowd.text import TextRefused, normalise_text, word_count
from surveys.selectors import PostChatQuestions

SCALE_CHOICES = [(str(n), str(n)) for n in range(1, 6)]
SCALE_ERROR = "Choose a number from 1 to 5."
OPEN_ANSWER_MAX_CHARS = 2000


def _scale(label: str, *, required_message: str = SCALE_ERROR) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        choices=SCALE_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": required_message, "invalid_choice": SCALE_ERROR},
    )


class WrittenText(forms.CharField):
    """What a worker types: line ends made \n, NFC, trimmed; control characters refused.

    The same rules as a chat message (crowd/text.py), so no survey answer holds what the chat
    would refuse.
    """

    def to_python(self, value: Any) -> str:
        text = super().to_python(value) or ""
        try:
            return normalise_text(text)
        except TextRefused as exc:
            raise forms.ValidationError(
                f"{exc} Please remove it and try again.", code="bad_text"
            ) from None


def _open_question(label: str) -> forms.CharField:
    return WrittenText(
        label=label,
        required=False,
        max_length=OPEN_ANSWER_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "max_length": f"Please keep your answer under {OPEN_ANSWER_MAX_CHARS} characters."
        },
    )


class PreChatForm(forms.Form):
    """The seeker's description of their problem (docs/workers.md); options come from the run."""

    problem_type = forms.ChoiceField(
        label="What is the problem you would like to talk about?",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose the problem you would like to talk about.",
            "invalid_choice": "Choose one of the listed problems.",
        },
    )
    emotion_type = forms.ChoiceField(
        label="Which emotion do you feel most about it?",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose the emotion you feel most.",
            "invalid_choice": "Choose one of the listed emotions.",
        },
    )
    initial_emotion_intensity = _scale(
        "How intense is that emotion right now?",
        required_message="Choose how intense the emotion is, from 1 to 5.",
    )
    situation = WrittenText(
        label="Describe the situation that caused this mood",
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "Please describe the situation."},
    )
    experience_type = forms.ChoiceField(
        label="Is this something you are going through now, or something from the past?",
        choices=[(value, value) for value in vocabulary.EXPERIENCE_TYPES],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Say whether this is a current or a previous experience.",
            "invalid_choice": "Choose one of the listed answers.",
        },
    )

    def __init__(self, *args: Any, run: CollectionRun, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.run = run
        self.fields["problem_type"].choices = [(p, p) for p in run.problem_options]  # type: ignore[attr-defined]
        self.fields["emotion_type"].choices = [(e, e) for e in run.emotion_options]  # type: ignore[attr-defined]
        self.fields["situation"].widget.attrs.update(
            {
                "data-word-min": str(run.situation_min_words),
                "data-word-max": str(run.situation_max_words),
            }
        )

    def clean_situation(self) -> str:
        text = str(self.cleaned_data["situation"])
        # Words with a visible character: thirty zero-width spaces are no thirty words.
        words = word_count(text)
        low, high = self.run.situation_min_words, self.run.situation_max_words
        if words < low:
            raise forms.ValidationError(
                f"Please write at least {low} words (you wrote {words}).", code="too_short"
            )
        if words > high:
            raise forms.ValidationError(
                f"Please keep it to at most {high} words (you wrote {words}).", code="too_long"
            )
        return text


class PostChatForm(forms.Form):
    """A post-chat form holding only the scored questions that fit how the chat went."""

    def __init__(self, *args: Any, questions: PostChatQuestions, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.questions = questions
        # A question not asked is no field: nothing posted for it is read, and it is stored null.
        for name in questions.not_asked:
            self.fields.pop(name, None)
        if not questions.partner_wrote:
            self.fields[
                "question1"
            ].label = "Is there anything you would like to tell us about what happened?"


class SeekerPostChatForm(PostChatForm):
    """The seeker's answers after the chat (docs/workers.md)."""

    ended_naturally = forms.TypedChoiceField(
        label="Did the conversation come to a natural end?",
        choices=[("yes", "Yes"), ("no", "No")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Say whether the conversation ended naturally.",
            "invalid_choice": "Answer yes or no.",
        },
    )
    final_emotion_intensity = _scale(
        "How intense is the emotion now?",
        required_message="Choose how intense the emotion is now, from 1 to 5.",
    )
    empathy = _scale("Did your partner understand your feelings and show empathy?")
    relevance = _scale("Did your partner stay on the topic of your situation?")
    question1 = _open_question("What did you like or dislike about the conversation?")
    question2 = _open_question("What could be improved?")
    email = forms.EmailField(
        label="Email for invitations to future studies (optional)",
        required=False,
        max_length=254,
        error_messages={"invalid": "Enter a valid email address, or leave it empty."},
    )


class SupporterPostChatForm(PostChatForm):
    """The supporter's answers after the chat (docs/workers.md)."""

    seeker_detail = _scale("How much detail did the seeker give about their problem?")
    question1 = _open_question("What did you like or dislike about the conversation?")
    question2 = _open_question("What could be improved?")
