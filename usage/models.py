"""The usage log: one row per generation as the metering consumer stored it, the stream
entries it could not read, and the content of generations made with prompt logging on.

The generation table is partitioned by month and rolled up by statement triggers, both made by
the rankings app's migrations (rankings/sql/), which is why it keeps its original table name.
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models


class Generation(models.Model):
    """What the gateway reported for one generation (docs/gateway-state.md, `gw:usage`).

    `model`, `endpoint_id` and `key_id` are plain values, not foreign keys: rankings history
    must survive catalog changes and deleted keys. Free text that comes from clients or
    upstreams is TextField so that no length limit can make a whole batch fail to insert.
    """

    id = models.CharField(primary_key=True, max_length=100)  # "gen-…", from the gateway
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        # A deleted account keeps its generations (rankings, audits) without an owner.
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="generations",
        # generation_user_created (user, -created_at) serves every lookup by user; a second
        # index on user alone would only cost the metering insert.
        db_index=False,
    )
    key_id = models.BigIntegerField(null=True, blank=True)
    key_hash = models.TextField(blank=True)
    model = models.TextField()  # "author/slug"
    endpoint_id = models.BigIntegerField(null=True, blank=True)
    provider = models.TextField(blank=True)  # slug
    provider_name = models.TextField(blank=True)
    api_type = models.TextField(default="completions")
    streamed = models.BooleanField(default=False)
    cancelled = models.BooleanField(default=False)
    status = models.IntegerField(default=200)
    finish_reason = models.TextField(blank=True)
    native_finish_reason = models.TextField(blank=True)
    tokens_prompt = models.BigIntegerField(default=0)
    tokens_completion = models.BigIntegerField(default=0)
    tokens_reasoning = models.BigIntegerField(default=0)
    tokens_cached = models.BigIntegerField(default=0)
    # USD, exactly the charged nano-dollars of the event (cost == cost_nanos / 1e9).
    cost = models.DecimalField(max_digits=20, decimal_places=9)
    # With the account's own provider key (BYOK): the provider's list price, which the provider
    # bills the account itself (`cost` is only the fee). 0 otherwise; a database default too, so
    # inserts that name no such column (COPY of older code, seeds) still work.
    byok_usage = models.DecimalField(max_digits=20, decimal_places=9, default=0, db_default=0)
    latency_ms = models.IntegerField(null=True, blank=True)
    ttft_ms = models.IntegerField(null=True, blank=True)
    generation_time_ms = models.IntegerField(null=True, blank=True)
    throughput = models.FloatField(null=True, blank=True)  # completion tokens per second
    http_referer = models.TextField(blank=True)
    app_title = models.TextField(blank=True)
    app_categories = ArrayField(models.TextField(), default=list, blank=True)
    external_user = models.TextField(blank=True)
    session_id = models.TextField(blank=True)
    upstream_id = models.TextField(blank=True)
    service_tier = models.TextField(blank=True)
    provider_responses = models.JSONField(null=True, blank=True)  # one entry per attempt
    # A sub-call of a mixture of agents points at its parent generation (no foreign key: the
    # partitioned table cannot have one, and either row may be stored first). NULL rather than
    # "" for none, so the partial index below holds only the linked rows.
    parent_id = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001
    # The parent row of a virtual model (a mixture): no tokens or cost of its own, its
    # sub-generations carry them. The rollups leave it out (rankings/rollup_sql.py).
    virtual = models.BooleanField(default=False, db_default=False)
    # Web search (gateway/plugins/web.py): the results added to the prompt and the engine that
    # found them; their price is part of `cost`. NULL / "" when the request did not search.
    num_search_results = models.IntegerField(null=True, blank=True)
    web_search_engine = models.TextField(blank=True, default="", db_default="")
    created_at = models.DateTimeField()  # when the gateway started the generation
    recorded_at = models.DateTimeField(auto_now_add=True)  # when the consumer persisted it

    class Meta:
        # The table keeps the name it was created with: its partitions, the partition function
        # and the rollup triggers (rankings/sql/) know it by that name.
        db_table = "rankings_generation"
        ordering = ["-created_at"]
        indexes = [
            # A user's activity, newest first; a key's activity; the newest generations (the
            # admin's list). Every index is paid by every metering batch: what models and apps
            # did over time is read from the rollups, never from here.
            models.Index(fields=["user", "-created_at"], name="generation_user_created"),
            models.Index(fields=["key_id", "-created_at"], name="generation_key_created"),
            models.Index(fields=["created_at"], name="generation_created"),
            # A parent's sub-generations (/api/v1/generation); most rows have no parent.
            models.Index(fields=["parent_id"], name="generation_parent",
                         condition=models.Q(parent_id__isnull=False)),
        ]

    def __str__(self) -> str:
        return self.id


class DeadLetter(models.Model):
    """A stream entry the consumer could not turn into a Generation.

    Kept as a row (not only a log line) so that nothing written by the gateway is lost: the
    raw text stays queryable in the admin and can be replayed once the cause is fixed.
    """

    entry_id = models.CharField(max_length=64, unique=True)  # the Redis stream entry id
    raw = models.TextField(blank=True)
    error = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "rankings_deadletter"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.entry_id}: {self.error}"



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
