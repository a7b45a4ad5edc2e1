"""GET /api/v1/activity (management key): the account's daily usage per model and endpoint;
POST /api/v1/generation/feedback; GET /api/v1/generation/content."""

from datetime import timedelta

from django.http import HttpResponse
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import ApiKeyAuthentication
from accounts.models import ApiKey
from accounts.permissions import HasApiKey, IsManagementKey, request_key
from config.api_errors import ApiError
from rankings.dates import last_completed_day, parse_day
from usage import content, feedback
from usage.activity import activity_body
from usage.generations import requested_generation
from usage.models import Generation

WINDOW_DAYS = 30


class ActivityView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [IsManagementKey]

    def get(self, request: Request) -> HttpResponse:
        key = request_key(request)
        params = request.query_params
        if params.get("group_by") or params.get("workspace_id"):
            raise ApiError(400, "Workspaces are not supported: every account is one workspace")
        if params.get("user_id") not in (None, "", str(key.user_id)):
            raise ApiError(400, "user_id filters organization members; this account has none")
        end = last_completed_day()
        start = end - timedelta(days=WINDOW_DAYS - 1)
        day = parse_day(params.get("date"), "date")
        if day is not None:
            if not start <= day <= end:
                raise ApiError(400, f"date must be within the last {WINDOW_DAYS} completed "
                                    f"UTC days ({start} to {end})")
            start = end = day
        key_id = None
        if params.get("api_key_hash"):
            found = ApiKey.objects.filter(user_id=key.user_id, hash=params["api_key_hash"]).first()
            if found is None:
                raise ApiError(404, "No API key with this hash on this account")
            key_id = found.pk
        body = activity_body(key.user_id, start, end, key_id)
        return HttpResponse(body, content_type="application/json")


class FeedbackView(APIView):
    """POST /api/v1/generation/feedback with either key of the generation's account."""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKey]

    def post(self, request: Request) -> Response:
        body = request.data if isinstance(request.data, dict) else {}
        generation_id = body.get("generation_id")
        category = body.get("category")
        comment = body.get("comment") or ""
        if not isinstance(generation_id, str) or not generation_id:
            raise ApiError(400, "generation_id is required")
        if not isinstance(category, str) or not isinstance(comment, str):
            raise ApiError(400, "category and comment must be strings")
        owner = request_key(request).user_id
        generation = Generation.objects.filter(pk=generation_id[:200], user_id=owner).first()
        if generation is None:
            raise ApiError(404, "Generation not found")
        try:
            feedback.record(generation, category, comment)
        except feedback.InvalidFeedback as exc:
            raise ApiError(400, str(exc)) from None
        return Response({"data": {"success": True}})


class GenerationContentView(APIView):
    """GET /api/v1/generation/content?id=…: the stored input and output, for the generation's
    own account (either key), only if prompt logging was on when it ran."""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKey]

    def get(self, request: Request) -> Response:
        generation = requested_generation(request)
        stored = None
        if generation is not None:
            stored = content.content_of(generation.id, request_key(request).user_id)
        if generation is None or stored is None:
            # Someone else's generation, or one whose content was not logged or has expired.
            raise ApiError(404, "Generation content not found")
        failure = content.failure_of(generation, stored)
        return Response({"data": content.api_data(stored, failure)})
