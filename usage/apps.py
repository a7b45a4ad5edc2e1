from django.apps import AppConfig


class UsageConfig(AppConfig):
    """The usage log: the metering consumer that stores every generation, their content when
    prompt logging is on, an account's /activity dashboard, and the generation and activity
    APIs. The hourly rollups it reads are kept by the rankings app's triggers."""

    name = "usage"
