"""Catalog read-path speed: GET /api/v1/models, a model page and /models, with the shipped
catalog and with the catalog grown to 2,000 generated models. Prints a table.

Server time is measured in process through Django's test client (full middleware stack, no
network), in a throwaway database, against the test Redis:

    source bin/test-env && .venv/bin/python bench/catalog_api.py [--requests 300]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:63791/45")
os.environ.setdefault("DATABASE_URL", "postgres://marketplace@127.0.0.1:54321/marketplace")
# A database name of its own, so a test run on the same server is never in the way.
os.environ["DATABASE_URL"] += "_bench"

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from config.redis import get_redis  # noqa: E402
from marketplace.loader import DEFAULT_CATALOG, load_catalog, load_catalog_file  # noqa: E402
from marketplace.publish import publish_catalog  # noqa: E402

TARGET_MODELS = 2000


def generated_catalog(count: int) -> dict:
    """`count` extra models, each served by three of the shipped providers."""
    providers = ["deepinfra", "together", "fireworks", "groq", "novita", "nebius"]
    models = []
    for i in range(count):
        endpoints = [
            {
                "provider": providers[(i + k) % len(providers)],
                "context_length": 32768 * (1 + i % 4),
                "max_completion_tokens": 8192,
                "quantization": "fp8",
                "pricing": {"prompt": f"0.000000{1 + (i + k) % 9}", "completion": "0.0000006"},
                "supported_parameters": ["max_tokens", "temperature", "tools"][: 2 + i % 2],
            }
            for k in range(3)
        ]
        models.append(
            {
                "id": f"bench/model-{i:04d}",
                "name": f"Bench: Model {i}",
                "author": "bench",
                "description": "A generated model for the catalog benchmark.",
                "context_length": 32768 * (1 + i % 4),
                "created": 1700000000 + i * 3600,
                "input_modalities": ["text"],
                "output_modalities": ["text"],
                "tokenizer": "Llama3",
                "supported_parameters": ["max_tokens", "temperature", "tools"][: 2 + i % 2],
                "endpoints": endpoints,
            }
        )
    return {"authors": [{"slug": "bench", "name": "Bench"}], "models": models}


def median_ms(
    client: Client, url: str, requests: int, headers: dict[str, str]
) -> tuple[float, float]:
    client.get(url, headers=headers)  # warm the in-process catalog
    samples = []
    for _ in range(requests):
        start = time.perf_counter()
        response = client.get(url, headers=headers)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code in (200, 304), (url, response.status_code)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()

    setup_test_environment()
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    get_redis().flushdb()
    rows: list[tuple[str, str, float, float]] = []
    try:
        load_catalog_file(DEFAULT_CATALOG)
        publish_catalog()
        client = Client(HTTP_HOST="localhost")
        urls: list[tuple[str, str, dict[str, str]]] = [
            ("GET /api/v1/models", "/api/v1/models", {}),
            ("GET /api/v1/models (304)", "/api/v1/models", {"If-None-Match": "*"}),
            (
                "GET /api/v1/models?supported_parameters=tools",
                "/api/v1/models?supported_parameters=tools",
                {},
            ),
            ("GET /api/v1/models/count", "/api/v1/models/count", {}),
            (
                "GET /api/v1/models/<id>/endpoints",
                "/api/v1/models/meta-llama/llama-3.3-70b-instruct/endpoints",
                {},
            ),
            ("model page", "/meta-llama/llama-3.3-70b-instruct", {}),
            ("/models page", "/models", {}),
            (
                "/models page, filtered",
                "/models?supported_parameters=tools&max_price=0.5&sort=pricing-low-to-high",
                {},
            ),
        ]

        def measure(size_label: str) -> None:
            etag = client.get("/api/v1/models")["ETag"]
            for label, url, headers in urls:
                headers = {k: (etag if v == "*" else v) for k, v in headers.items()}
                median, p95 = median_ms(client, url, args.requests, headers)
                rows.append((size_label, label, median, p95))

        count = client.get("/api/v1/models/count").json()["data"]["count"]
        measure(f"{count} models")

        started = time.perf_counter()
        load_catalog(generated_catalog(TARGET_MODELS - 90))
        load_seconds = time.perf_counter() - started
        started = time.perf_counter()
        publish_catalog()
        publish_seconds = time.perf_counter() - started
        count = client.get("/api/v1/models/count").json()["data"]["count"]
        measure(f"{count} models")
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)

    width = max(len(r[1]) for r in rows)
    print(f"\n{'catalog':<12} {'request':<{width}} {'median ms':>10} {'p95 ms':>8}")
    print("-" * (12 + width + 21))
    for size, label, median, p95 in rows:
        print(f"{size:<12} {label:<{width}} {median:>10.2f} {p95:>8.2f}")
    print(
        f"\nloading {TARGET_MODELS - 90} generated models: {load_seconds:.2f} s; "
        f"publishing the 2,000-model snapshot: {publish_seconds:.2f} s"
    )


if __name__ == "__main__":
    main()
