"""GET /api/v1/credits: credits granted or bought, and what has been charged.

Both figures come from the ledger. The gateway charges a generation in Redis (`spent`) the
moment it ends and the meter writes its ledger row a moment later, so `total_usage` is the
larger of the ledger's usage and Redis's `spent`: usage not yet persisted shows at once. When
Redis does not answer, the ledger alone answers (usage of the last second or so may be
missing) rather than failing.
"""

from decimal import Decimal

import redis
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import ApiKeyAuthentication
from accounts.permissions import IsManagementKey, request_key
from billing.ledger import balance
from billing.money import NANOS_PER_USD
from config import gateway_state
from config.redis import get_redis


def _spent_in_redis(user_id: int) -> Decimal | None:
    try:
        spent = get_redis().hget(gateway_state.account(user_id), "spent")
    except (redis.ConnectionError, redis.TimeoutError):
        return None
    return None if spent is None else Decimal(int(spent)) / NANOS_PER_USD


class CreditsView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [IsManagementKey]

    def get(self, request: Request) -> Response:
        user_id = request_key(request).user_id
        book = balance(user_id)
        usage = max(book.usage, _spent_in_redis(user_id) or Decimal(0))
        return Response(
            {"data": {"total_credits": float(book.credits), "total_usage": float(usage)}}
        )
