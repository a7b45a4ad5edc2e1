"""The API surfaces served over the chat-completions engine, by path."""

from gateway.messages import MessagesTranslator
from gateway.responses import ResponsesTranslator
from gateway.surface import Translator

SURFACES: dict[str, type[Translator]] = {
    "/api/v1/messages": MessagesTranslator,
    "/api/v1/responses": ResponsesTranslator,
}
