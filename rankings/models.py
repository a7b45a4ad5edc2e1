"""Rankings: the rollups the generation table's triggers keep, apps, feedback, and the snapshots
the pages read. The generations themselves are the usage app's (usage/models.py)."""

from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models, transaction

# --- rollups: maintained by the statement triggers of migration 0004, never by Python -------


class HourlyUsage(models.Model):
    """Generations summed per UTC hour, model, provider, app and account.

    Written only by the triggers on the generation table (inserts add, deletes subtract), so
    it stays exact for batches, late rows and re-delivered events, and keeps the history when
    old raw partitions are detached. `app` is the referer's origin ("" for none or localhost);
    `user_id` is 0 when unknown (a plain number: history outlives accounts). Keys are not in
    the key: an account's per-key figures live in the much smaller AccountDailyUsage.
    """

    hour = models.DateTimeField()
    model = models.TextField()
    provider = models.TextField()
    app = models.TextField()
    user_id = models.BigIntegerField()
    requests = models.BigIntegerField(default=0)
    errors = models.BigIntegerField(default=0)
    tokens_prompt = models.BigIntegerField(default=0)
    tokens_completion = models.BigIntegerField(default=0)
    tokens_reasoning = models.BigIntegerField(default=0)
    tokens_cached = models.BigIntegerField(default=0)
    cost = models.DecimalField(max_digits=24, decimal_places=9, default=0)
    # Sums and counts, so averages over any grouping stay exact.
    latency_ms_sum = models.BigIntegerField(default=0)
    latency_count = models.BigIntegerField(default=0)
    ttft_ms_sum = models.BigIntegerField(default=0)
    ttft_count = models.BigIntegerField(default=0)
    throughput_sum = models.FloatField(default=0)
    throughput_count = models.BigIntegerField(default=0)
    finish_length = models.BigIntegerField(default=0)
    finish_content_filter = models.BigIntegerField(default=0)
    finish_tool_calls = models.BigIntegerField(default=0)

    # The natural key is the primary key: no surrogate id, so an ingest batch's upsert
    # maintains one index, not two. refresh_rankings reads hour ranges (the key starts with
    # the hour); any other index would be paid by every ingest batch.
    pk = models.CompositePrimaryKey("hour", "model", "provider", "app", "user_id")

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}h {self.model} {self.app}"


class AccountDailyUsage(models.Model):
    """One account's generations summed per UTC day, key, model, provider and app.

    What /activity and GET /api/v1/activity read (they show days, never hours): an account
    uses few keys, models and apps in a day, so this stays small where the hourly rollup of a
    busy account would be hundreds of thousands of rows. Kept by the same triggers.
    """

    user_id = models.BigIntegerField()
    day = models.DateField()
    key_id = models.BigIntegerField()  # 0 when unknown
    model = models.TextField()
    provider = models.TextField()
    app = models.TextField()
    requests = models.BigIntegerField(default=0)
    tokens_prompt = models.BigIntegerField(default=0)
    tokens_completion = models.BigIntegerField(default=0)
    tokens_reasoning = models.BigIntegerField(default=0)
    tokens_cached = models.BigIntegerField(default=0)
    cost = models.DecimalField(max_digits=24, decimal_places=9, default=0)
    byok_usage = models.DecimalField(max_digits=24, decimal_places=9, default=0)  # list price

    # Starts with the account and the day: every reader asks for one account's days.
    pk = models.CompositePrimaryKey("user_id", "day", "key_id", "model", "provider", "app")

    def __str__(self) -> str:
        return f"{self.day} account {self.user_id} {self.model}"


class AccountActivityDay(models.Model):
    """GET /api/v1/activity's answer for one account and one completed UTC day, as stored JSON
    (usage/activity.py). A completed day changes only when a late generation lands in it; the
    rollup trigger then drops its answer, under the account's advisory lock, which the writer of
    an answer holds too, so an answer read before a late row can never be stored after it."""

    user_id = models.BigIntegerField()
    day = models.DateField()
    catalog_stamp = models.TextField()  # endpoint ids and names are the catalog's at the time
    # The day's rows in the API's shape, a JSON array: bytes, joined into the body as they are.
    items = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user_id", "day"],
                                               name="accountactivityday_key")]

    def __str__(self) -> str:
        return f"{self.day} account {self.user_id}"


class ChangedDay(models.Model):
    """A UTC day whose rollups a statement changed since refresh_rankings last rebuilt that
    day's daily tables. The triggers append one row per day a statement touches (never an
    update, so concurrent batches do not wait on each other); refresh_rankings deletes the
    rows it sees and rebuilds only those days."""

    day = models.DateField()

    def __str__(self) -> str:
        return str(self.day)


class HourlyCategoryUsage(models.Model):
    """Requests and tokens per UTC hour, X-OpenRouter-Categories value, model and app."""

    hour = models.DateTimeField()
    category = models.TextField()
    model = models.TextField()
    app = models.TextField()
    requests = models.BigIntegerField(default=0)
    tokens = models.BigIntegerField(default=0)

    pk = models.CompositePrimaryKey("hour", "category", "model", "app")

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}h {self.category} {self.model}"


class App(models.Model):
    """An app, identified by its HTTP-Referer origin; the triggers add it on first sight."""

    origin = models.TextField(unique=True)  # "https://example.com"
    title = models.TextField(blank=True)  # the latest X-OpenRouter-Title / X-Title
    description = models.TextField(blank=True)  # edited by the app's owner
    hidden = models.BooleanField(default=False)  # hidden by its owner from public pages
    categories = ArrayField(models.TextField(), default=list, blank=True)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        # The public pages are cached per rankings version: a new one shows the edit (a
        # hidden app, a description) at once.
        from rankings.leaderboards import publish_version

        transaction.on_commit(publish_version)

    @property
    def name(self) -> str:
        return self.title or self.origin.split("://", 1)[-1]

    @property
    def initial(self) -> str:
        return (self.name[:1] or "?").upper()


class Feedback(models.Model):
    """An account's verdict on one of its generations (POST /api/v1/generation/feedback)."""

    generation_id = models.CharField(max_length=100)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    model = models.TextField()
    provider = models.TextField(blank=True)
    category = models.TextField()
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["generation_id", "user"], name="feedback_once")
        ]


# --- snapshots: written by refresh_rankings from the rollups, read by the pages -------------

    def __str__(self) -> str:
        return f"{self.generation_id}: {self.category}"


class ModelDaily(models.Model):
    """Per model and UTC day: what the charts and leaderboards add up."""

    day = models.DateField()
    model = models.TextField()
    tokens = models.BigIntegerField()  # prompt + completion, as rankings count them
    requests = models.BigIntegerField()
    cost = models.DecimalField(max_digits=24, decimal_places=9)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "model"], name="modeldaily_key")]

    def __str__(self) -> str:
        return f"{self.day} {self.model}"


class AppDaily(models.Model):
    day = models.DateField()
    app = models.TextField()
    tokens = models.BigIntegerField()
    requests = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "app"], name="appdaily_key")]

    def __str__(self) -> str:
        return f"{self.day} {self.app}"


class ModelRanking(models.Model):
    """One row of a leaderboard: a model's place for a period (day, week, month, all)."""

    period = models.CharField(max_length=8)
    rank = models.IntegerField()
    model = models.TextField()
    tokens = models.BigIntegerField()
    cost = models.DecimalField(max_digits=24, decimal_places=9)
    requests = models.BigIntegerField()
    previous_tokens = models.BigIntegerField(null=True)  # same-length period before
    previous_rank = models.IntegerField(null=True)
    accounts = models.IntegerField()  # distinct accounts that used it in the period
    apps = models.IntegerField()  # distinct public apps
    retention = models.FloatField(null=True)  # share of the previous period's accounts back

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["period", "model"], name="modelranking_key")
        ]
        indexes = [models.Index(fields=["period", "rank"], name="modelranking_rank")]

    def __str__(self) -> str:
        return f"{self.period} #{self.rank} {self.model}"


class AppRanking(models.Model):
    """One row of the app leaderboard for a period; `trend` compares with the period before."""

    period = models.CharField(max_length=8)
    rank = models.IntegerField()
    app = models.ForeignKey(App, on_delete=models.CASCADE)
    tokens = models.BigIntegerField()
    requests = models.BigIntegerField()
    previous_tokens = models.BigIntegerField(null=True)
    models_used = models.IntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["period", "app"], name="appranking_key")]
        indexes = [models.Index(fields=["period", "rank"], name="appranking_rank")]

    def __str__(self) -> str:
        return f"{self.period} #{self.rank} {self.app_id}"


class ModelApp(models.Model):
    """The apps using a model over the last 30 days, ranked by tokens."""

    model = models.TextField()
    rank = models.IntegerField()
    app = models.ForeignKey(App, on_delete=models.CASCADE)
    tokens = models.BigIntegerField()
    requests = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["model", "app"], name="modelapp_key")]
        indexes = [models.Index(fields=["model", "rank"], name="modelapp_rank")]

    def __str__(self) -> str:
        return f"{self.model} #{self.rank} {self.app_id}"


class ModelQuality(models.Model):
    """A model's last 30 days per provider: how generations ended, from the generations."""

    model = models.TextField()
    provider = models.TextField()
    requests = models.BigIntegerField()
    errors = models.BigIntegerField()
    finish_length = models.BigIntegerField()
    finish_content_filter = models.BigIntegerField()
    finish_tool_calls = models.BigIntegerField()
    latency_ms = models.FloatField(null=True)  # average
    throughput = models.FloatField(null=True)  # average completion tokens per second
    feedback = models.JSONField(default=dict)  # feedback category -> count

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model", "provider"], name="modelquality_key")
        ]

    def __str__(self) -> str:
        return f"{self.model} via {self.provider}"


class Snapshot(models.Model):
    """A chart's data as refresh_rankings computed it (small JSON, read whole by a page)."""

    name = models.CharField(max_length=64, primary_key=True)
    data = models.JSONField()
    computed_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.name


class SyntheticData(models.Model):
    """Present while `seed_usage` demo data is loaded: pages that show it say so."""

    generations = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"synthetic demo data ({self.generations} generations)"


# --- prompt categories and app icons: written by Celery jobs (categories.py, favicons.py) ----


class PromptCategory(models.Model):
    """The classifier's category of one logged prompt: only the category, never the text."""

    generation_id = models.CharField(primary_key=True, max_length=100)
    model = models.TextField()
    category = models.TextField()
    day = models.DateField()  # the generation's UTC day
    tokens = models.BigIntegerField()  # prompt + completion, as rankings count them

    class Meta:
        indexes = [models.Index(fields=["day"], name="promptcategory_day")]

    def __str__(self) -> str:
        return f"{self.generation_id}: {self.category}"


class CategoryDaily(models.Model):
    """Classified generations per UTC day, model and category: what pages and APIs read."""

    day = models.DateField()
    model = models.TextField()
    category = models.TextField()
    requests = models.BigIntegerField()
    tokens = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "model", "category"],
                                               name="categorydaily_key")]
        indexes = [models.Index(fields=["model", "day"], name="categorydaily_model_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.model} {self.category}"


class ContextBucketDaily(models.Model):
    """Tokens per UTC day, model and prompt-size bucket ("1K" … "10M"), for rankings-daily."""

    day = models.DateField()
    model = models.TextField()
    bucket = models.CharField(max_length=4)
    tokens = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "model", "bucket"],
                                               name="contextbucketdaily_key")]

    def __str__(self) -> str:
        return f"{self.day} {self.model} {self.bucket}"


class AppIcon(models.Model):
    """An app's favicon as fetched from its site; `content` is empty when the fetch failed."""

    app = models.OneToOneField(App, on_delete=models.CASCADE, primary_key=True,
                               related_name="icon")
    content = models.BinaryField(default=b"")
    content_type = models.CharField(max_length=40, blank=True)
    error = models.TextField(blank=True)  # why the last fetch gave nothing
    fetched_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"icon of app {self.app_id}"
