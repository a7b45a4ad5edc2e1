from django.urls import URLPattern, URLResolver, path

from rankings.classifications import TaskClassificationsView
from rankings.datasets import AppRankingsView, RankingsDailyView

urlpatterns: list[URLPattern | URLResolver] = [
    path("datasets/rankings-daily", RankingsDailyView.as_view(), name="api-rankings-daily"),
    path("datasets/app-rankings", AppRankingsView.as_view(), name="api-app-rankings"),
    path("classifications/task", TaskClassificationsView.as_view(),
         name="api-classifications-task"),
]
