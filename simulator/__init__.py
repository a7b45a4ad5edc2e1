"""A local fleet of fake LLM providers speaking the OpenAI, Anthropic and Gemini wire formats.

Run it with ``uvicorn simulator.app:app --port 8003``; see ``simulator/README.md``.
"""
