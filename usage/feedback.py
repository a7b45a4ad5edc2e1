"""Feedback on a generation by its own account: the reference's categories, one verdict per
generation (sending again replaces it), counted per provider in the model's quality panel."""

from django.db import transaction

from rankings.models import Feedback
from usage.models import Generation

CATEGORIES = {
    "latency": "Too slow",
    "incoherence": "Incoherent",
    "incorrect_response": "Incorrect answer",
    "formatting": "Bad formatting",
    "billing": "Billing problem",
    "api_error": "API error",
    "other": "Other",
}
MAX_COMMENT = 1000


class InvalidFeedback(ValueError):
    """The message says what is wrong, for a 400 or a form error."""


def record(generation: Generation, category: str, comment: str = "") -> Feedback:
    if category not in CATEGORIES:
        raise InvalidFeedback(f"category must be one of {', '.join(CATEGORIES)}")
    if len(comment) > MAX_COMMENT:
        raise InvalidFeedback(f"comment must be at most {MAX_COMMENT} characters")
    assert generation.user_id is not None
    with transaction.atomic():
        feedback, _ = Feedback.objects.update_or_create(
            generation_id=generation.id, user_id=generation.user_id,
            defaults={"category": category, "comment": comment, "model": generation.model,
                      "provider": generation.provider},
        )
    return feedback


def existing(generation_id: str, user_id: int) -> Feedback | None:
    return Feedback.objects.filter(generation_id=generation_id, user_id=user_id).first()
