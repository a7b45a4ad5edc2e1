"""The usage app's own tables. The generation rows themselves live in rankings.models
(Generation, partitioned by month and rolled up by rankings' triggers)."""

from django.conf import settings
from django.db import models


class GenerationContent(models.Model):
    """A generation's input and output, kept only when its account had prompt logging on.

    `data` is zlib-compressed JSON, exactly as the gateway packed it (gateway/content.py):
    `{"input": {"messages": [...]} | {"prompt": ...}, "output": {...}, "error": ...}`. Rows older
    than GENERATION_CONTENT_DAYS are deleted by a beat task (usage/tasks.py); deleting the
    account deletes its content at once.
    """

    generation_id = models.CharField(primary_key=True, max_length=100)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(db_index=True)  # the generation's own time
    data = models.BinaryField()

    def __str__(self) -> str:
        return self.generation_id
