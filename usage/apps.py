from django.apps import AppConfig


class UsageConfig(AppConfig):
    """An account's own usage: the /activity dashboard, its generation log and the activity
    API. The data it reads (generations, hourly rollups) is kept by the rankings app."""

    name = "usage"
