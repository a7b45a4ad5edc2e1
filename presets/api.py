"""GET /api/v1/presets, /presets/<slug>, /presets/<slug>/versions[/<n>] and
POST /presets/<slug>/chat/completions (reference §22), for any key of the owner."""

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import ApiKeyAuthentication
from accounts.permissions import HasApiKey, request_key
from config.api_errors import ApiError
from presets.catalog import unknown_models
from presets.models import Preset
from presets.rules import PresetError, clean_config, models_named, save_version, valid_slug
from presets.serializers import preset_json, version_json, with_designated

DEFAULT_LIMIT = 50
MAX_LIMIT = 100


def _paging(request: Request) -> tuple[int, int]:
    try:
        offset = int(request.query_params.get("offset") or 0)
        limit = int(request.query_params.get("limit") or DEFAULT_LIMIT)
    except ValueError:
        raise ApiError(400, "'offset' and 'limit' must be integers") from None
    if offset < 0 or not 1 <= limit <= MAX_LIMIT:
        raise ApiError(400, f"'offset' must be >= 0 and 'limit' between 1 and {MAX_LIMIT}")
    return offset, limit


def _own(request: Request, slug: str) -> Preset:
    preset = (Preset.objects.select_related("designated_version")
              .filter(user_id=request_key(request).user_id, slug=slug).first())
    if preset is None:
        raise ApiError(404, f"Preset '{slug}' not found")
    return preset


class KeyView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKey]


class PresetList(KeyView):
    def get(self, request: Request) -> Response:
        offset, limit = _paging(request)
        rows = Preset.objects.filter(user_id=request_key(request).user_id).order_by(
            "-updated_at")
        return Response({"data": [preset_json(p) for p in rows[offset:offset + limit]],
                         "total_count": rows.count()})


class PresetDetail(KeyView):
    def get(self, request: Request, slug: str) -> Response:
        return Response({"data": with_designated(_own(request, slug))})


class VersionList(KeyView):
    def get(self, request: Request, slug: str) -> Response:
        offset, limit = _paging(request)
        versions = _own(request, slug).versions.order_by("version")
        return Response({"data": [version_json(v) for v in versions[offset:offset + limit]],
                         "total_count": versions.count()})


class VersionDetail(KeyView):
    def get(self, request: Request, slug: str, version: int) -> Response:
        found = _own(request, slug).versions.filter(version=version).first()
        if found is None:
            raise ApiError(404, f"Version {version} of preset '{slug}' not found")
        return Response({"data": version_json(found)})


class CreateFromChat(KeyView):
    """A normal chat body creates the preset, or its next version."""

    def post(self, request: Request, slug: str) -> Response:
        body: Any = request.data
        try:
            valid_slug(slug)
            config, system_prompt = clean_config(body)
        except PresetError as exc:
            raise ApiError(400, str(exc)) from None
        missing = unknown_models(models_named(config))
        if missing:
            raise ApiError(400, f"Unknown model: {', '.join(missing)}. See GET /api/v1/models.")
        saved = save_version(request_key(request).user, slug, config, system_prompt)
        saved.preset.refresh_from_db()
        return Response({"data": with_designated(saved.preset)})
