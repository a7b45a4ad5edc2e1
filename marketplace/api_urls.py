from django.urls import URLPattern, URLResolver, path

from marketplace import api, api_lists

urlpatterns: list[URLPattern | URLResolver] = [
    path("models", api.models, name="api-models"),
    path("models/count", api.models_count, name="api-models-count"),
    path("models/<str:author>/<str:slug>/endpoints", api.model_endpoints, name="api-endpoints"),
    path("model/<str:author>/<str:slug>", api.model_detail, name="api-model"),
    path("providers", api.providers, name="api-providers"),
    path("models/user", api_lists.user_models, name="api-models-user"),
    path("embeddings/models", api_lists.embedding_models, name="api-embedding-models"),
    path("endpoints/zdr", api_lists.zdr_endpoints, name="api-endpoints-zdr"),
]
