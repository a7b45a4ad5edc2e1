"""GET /api/v1/credits: credits granted or bought, and what the gateway has charged."""

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import ApiKeyAuthentication
from accounts.permissions import IsManagementKey, request_key
from billing.ledger import total_credits
from billing.money import nanos_to_usd
from config.redis import get_redis


class CreditsView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [IsManagementKey]

    def get(self, request: Request) -> Response:
        user_id = request_key(request).user_id
        spent = get_redis().hget(f"gw:account:{user_id}", "spent")
        return Response(
            {
                "data": {
                    "total_credits": float(total_credits(user_id)),
                    "total_usage": nanos_to_usd(spent),
                }
            }
        )
