.PHONY: run test services-test lint fmt

# Everything: bootstrap, private Postgres and Redis under .var/, every service, on :8000.
run:
	bin/run

# Bootstrap, test servers on their own ports, ruff, mypy, pytest. ARGS=... goes to pytest.
test:
	bin/test $(ARGS)

lint:
	.venv/bin/ruff check .
	.venv/bin/mypy .

fmt:
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .
