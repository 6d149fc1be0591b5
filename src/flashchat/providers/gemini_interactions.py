"""The Gemini provider's Interactions API mode (`api = "interactions"`): `client.aio.interactions.create`.

With `store = true` a turn sends only what is new since the last reply the server keeps, plus what applies to
one interaction only (tools, system_instruction, generation_config), and names that reply in
`previous_interaction_id`. With `store = false`, or when the chain cannot be used (another model, another
endpoint, an id the server no longer knows), it replays the local history as steps, every thought signature
echoed as received. The facts relied on are in shared/notes/interactions.md: the steps event schema only,
arguments as JSON strings in `arguments_delta`, server tool steps possibly after the answer, usage only on
`interaction.completed`, string error codes, SDK retries on by default (off here: the session retries).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any

import httpx2
from google.genai import _interactions_errors as interaction_errors

from flashchat.core.conversation import Conversation, ReplyDraft, ToolCall, Usage
from flashchat.core.errors import ChatError, ErrorKind
from flashchat.core.events import TextDelta, ThoughtDelta, UsageUpdate
from flashchat.providers.interaction_steps import NAME, anchor, endpoint_key, steps_for
from flashchat.providers.server_text import GEMINI_KEY_REJECTED, redirect_message, server_text

if TYPE_CHECKING:
    from google import genai

    from flashchat.config.settings import Settings
    from flashchat.providers.base import StreamEvent

Json = dict[str, Any]

# The schema removed on 2026-06-08; a server still on it is refused rather than half read.
LEGACY_EVENTS = frozenset(
    {"interaction.start", "interaction.complete", "content.start", "content.delta", "content.stop"}
)
LEGACY_MESSAGE = (
    "The server answered with the legacy Interactions schema (content.* events), which flashchat does not "
    "read; use a server with the current steps schema, or `--api generate`."
)
EXPIRED_NOTICE = (
    "The server no longer has this conversation (its stored interaction expired or is unknown): "
    "the whole history was sent this turn, and the server keeps it from here."
)
# Interaction statuses and the finish reason a reply gets (others are shown as an early stop).
_FINISH = {"completed": "STOP", "requires_action": "STOP", "incomplete": "MAX_TOKENS"}


def request_body(conversation: Conversation, settings: Settings, *, stateful: bool = True) -> tuple[Json, str]:
    """The create() arguments for the next reply, and a one-line notice when a chain had to be dropped."""
    from flashchat.core.local_tools import DECLARATIONS

    index, notice = anchor(conversation, settings) if stateful else (None, "")
    messages = conversation.messages
    body: Json = {"model": settings.model, "store": settings.store}
    if index is not None:
        body["previous_interaction_id"] = messages[index].interaction_id
        body["input"] = steps_for(messages[index + 1 :])
    else:
        body["input"] = steps_for(messages)
    config: Json = {
        "thinking_level": settings.thinking_level,
        # "auto" returned empty signatures that broke the next turn (googleapis/js-genai#1735): only on request.
        "thinking_summaries": "auto" if settings.show_thoughts else "none",
    }
    optional = {
        "max_output_tokens": settings.max_output_tokens,
        "temperature": settings.temperature,
        "top_p": settings.top_p,
    }
    config |= {key: value for key, value in optional.items() if value is not None}
    body["generation_config"] = config
    if settings.system_prompt:
        body["system_instruction"] = settings.system_prompt
    if settings.response_schema is not None:
        # `-p --schema`: the SDK's typed form (TextResponseFormat), per interaction like the tools.
        schema = dict(settings.response_schema)
        body["response_format"] = {"type": "text", "mime_type": "application/json", "schema": schema}
        body["response_mime_type"] = "application/json"
    tools: list[Json] = [
        {"type": switch} for switch in ("google_search", "url_context", "code_execution") if getattr(settings, switch)
    ]
    if settings.local_tools:
        tools += [{"type": "function", **declaration} for declaration in DECLARATIONS]
    if tools:
        body["tools"] = tools
    return body, notice


def carried_tokens(conversation: Conversation, body: Json) -> int:
    """Context the server holds for a stateful turn: the conversation as of the reply it continues from."""
    if "previous_interaction_id" not in body:
        return 0
    return conversation.context_tokens()


async def stream_interaction(
    client: genai.Client, conversation: Conversation, settings: Settings, draft: ReplyDraft
) -> AsyncGenerator[StreamEvent, None]:
    """Stream one reply into `draft`; raises `ChatError` for every failure, like the generateContent path."""
    draft.provider = NAME
    reader = _StepReader(draft, settings)
    draft.native_content = reader.native
    body, notice = request_body(conversation, settings)
    try:
        try:
            response = await _create(client, body, settings)
        except interaction_errors.APIStatusError as error:
            if "previous_interaction_id" not in body or error.status_code not in (400, 404):
                raise
            # The stored interaction is gone (retention is 1 day on the free tier, 55 on paid ones) or this
            # server never had it: the local history is complete, so send all of it.
            body, notice = request_body(conversation, settings, stateful=False)[0], EXPIRED_NOTICE
            response = await _create(client, body, settings)
        draft.notice = notice
        reader.carried = carried_tokens(conversation, body)
        if not hasattr(response, "__aiter__"):  # a 200 that is not an event stream: one finished Interaction
            for event in reader.absorb_body(response.model_dump(mode="json", by_alias=True, exclude_none=True)):
                yield event
            return
        # The SDK's AsyncStream closes with close(), not aclose(): closed at once when the user stops.
        async with contextlib.AsyncExitStack() as closing:
            closing.push_async_callback(getattr(response, "close", None) or response.aclose)
            async for item in response:
                for event in reader.absorb(item.model_dump(mode="json", by_alias=True, exclude_none=True)):
                    yield event
    except interaction_errors.APIStatusError as error:
        raise classify_error(error.status_code, error.body, settings) from error
    except interaction_errors.APITimeoutError as error:
        raise ChatError(
            ErrorKind.NETWORK,
            f"Could not connect to {endpoint_key(settings)} within {settings.connect_timeout:g} s.",
            detail=repr(error),
        ) from error
    except (interaction_errors.APIConnectionError, httpx2.TransportError, httpx2.StreamError, OSError) as error:
        if (redirect := _redirect_in(error)) is not None:
            message = redirect_message(endpoint_key(settings), redirect.status, redirect.location)
            raise ChatError(ErrorKind.BAD_RESPONSE, message, status=redirect.status) from error
        raise ChatError(ErrorKind.NETWORK, _transport_message(draft, settings), detail=repr(error)) from error
    except interaction_errors.GeminiNextGenAPIClientError as error:
        raise ChatError(
            ErrorKind.BAD_RESPONSE,
            "The server sent a response flashchat could not read: " + server_text(str(error), settings.api_key),
        ) from error


def _redirect_in(error: BaseException) -> Any:
    """The redirect the Gemini provider's transport refused (gemini.RedirectRefused, told apart by its fields so
    this module does not import gemini.py, which imports it), wherever the SDK wrapped it."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, httpx2.TransportError) and hasattr(seen, "location") and hasattr(seen, "status"):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


async def _create(client: genai.Client, body: Json, settings: Settings) -> Any:
    """`input` goes in `extra_body`, merged into the JSON as given: the SDK would otherwise validate the whole
    history through its models on every request (10 s for a 2,000-message replay, bench/interactions.py) and
    re-serialise steps that are its own dumps already, exactly as received."""
    typed = {key: value for key, value in body.items() if key != "input"}
    # The SDK's own hops would sum usage and can repeat text; a reply that needs one says so instead.
    return await client.aio.interactions.create(
        **typed,
        input="",
        extra_body={"input": body["input"]},
        stream=settings.stream,
        automatic_continuation=False,
    )


def _transport_message(draft: ReplyDraft, settings: Settings) -> str:
    if draft.received_content:
        return "The connection dropped in the middle of the reply."
    return f"The connection to {endpoint_key(settings)} failed before the reply started."


class _StepReader:
    """Builds the reply's steps from streamed events, routed by `index`, exactly as they arrived."""

    def __init__(self, draft: ReplyDraft, settings: Settings) -> None:
        self.draft = draft
        self.settings = settings
        self.steps: dict[int, Json] = {}
        self._arguments: dict[int, str] = {}  # function_call arguments, JSON text until step.stop
        self.carried = 0

    def native(self) -> Json | None:
        steps = [self.steps[index] for index in sorted(self.steps)]
        return {"steps": steps} if steps else None

    # -- events

    def absorb(self, event: Json) -> list[StreamEvent]:
        kind = event.get("event_type")
        if kind in LEGACY_EVENTS:
            raise ChatError(ErrorKind.BAD_RESPONSE, LEGACY_MESSAGE)
        if kind == "interaction.created":
            self._started(event.get("interaction") or {})
        elif kind == "step.start":
            step = dict(event.get("step") or {})
            if step.get("type") == "function_call":
                step["arguments"] = step.get("arguments") or {}
            self.steps[int(event.get("index") or 0)] = step
            self.draft.mark_content()
        elif kind == "step.delta":
            return self._delta(int(event.get("index") or 0), event.get("delta") or {})
        elif kind == "step.stop":
            self._stopped(int(event.get("index") or 0))
        elif kind == "interaction.completed":
            return self._completed(event.get("interaction") or {})
        elif kind == "error":
            error = event.get("error") or {}
            raise classify_error(None, {"error": error}, self.settings)
        return []  # interaction.status_update and event types added later change nothing shown

    def absorb_body(self, interaction: Json) -> list[StreamEvent]:
        """A non-streamed Interaction: its steps (a leading echoed user_input is skipped), then its end."""
        if interaction.get("steps") is None and interaction.get("outputs") is not None:
            raise ChatError(ErrorKind.BAD_RESPONSE, LEGACY_MESSAGE)
        self._started(interaction)
        events: list[StreamEvent] = []
        for step in interaction.get("steps") or []:
            if step.get("type") == "user_input":
                continue
            index = len(self.steps)
            self.steps[index] = dict(step)
            self.draft.mark_content()
            events += self._shown(step)
            self._stopped(index)
        return events + self._completed(interaction)

    def _started(self, interaction: Json) -> None:
        if interaction.get("id"):  # "" (or absent) with store: false
            self.draft.interaction_id = str(interaction["id"])
            self.draft.interaction_endpoint = endpoint_key(self.settings)
        if interaction.get("model"):
            self.draft.model_version = str(interaction["model"])

    def _delta(self, index: int, delta: Json) -> list[StreamEvent]:
        step = self.steps.setdefault(index, {"type": _step_type_of(delta)})
        self.draft.mark_content()
        kind = delta.get("type")
        if kind == "text":
            content = step.setdefault("content", [])
            if content and content[-1].get("type") == "text" and "annotations" not in content[-1]:
                content[-1]["text"] += delta.get("text") or ""
            else:
                content.append({"type": "text", "text": delta.get("text") or ""})
            return self._text(delta.get("text") or "")
        if kind == "thought_signature":
            step["signature"] = delta.get("signature") or ""
        elif kind == "thought_summary":
            summary = delta.get("content") or {}
            step.setdefault("summary", []).append(summary)
            text = summary.get("text") or "" if isinstance(summary, dict) else ""
            if text:
                self.draft.thought_pieces.append(text)
                return [ThoughtDelta(text)]
        elif kind == "arguments_delta":
            self._arguments[index] = self._arguments.get(index, "") + str(delta.get("arguments") or "")
        elif kind == "text_annotation_delta":
            content = step.setdefault("content", [{"type": "text", "text": ""}])
            content[-1].setdefault("annotations", []).extend(delta.get("annotations") or [])
            self._cite(delta.get("annotations") or [])
        elif kind and kind.endswith("_call") and kind == step.get("type"):
            step["arguments"] = delta.get("arguments")
            return self._shown(step)
        elif kind and kind.endswith("_result") and kind == step.get("type"):
            step["result"] = delta.get("result")
            if "is_error" in delta:
                step["is_error"] = delta["is_error"]
            return self._shown(step)
        return []

    def _stopped(self, index: int) -> None:
        step = self.steps.get(index) or {}
        if step.get("type") != "function_call":
            return
        if index in self._arguments:
            try:
                step["arguments"] = json.loads(self._arguments.pop(index) or "{}")
            except ValueError as error:
                raise ChatError(
                    ErrorKind.BAD_RESPONSE, f"The model's function call {step.get('name')!r} had unreadable arguments."
                ) from error
        arguments = step.get("arguments")
        self.draft.function_calls.append(
            ToolCall(
                name=str(step.get("name") or ""),
                args=arguments if isinstance(arguments, dict) else {},
                id=str(step.get("id") or "") or None,
            )
        )

    def _completed(self, interaction: Json) -> list[StreamEvent]:
        status = str(interaction.get("status") or "completed")
        if status == "failed":
            raise ChatError(ErrorKind.SERVER, "The interaction failed on the server (status failed).")
        self.draft.finish_reason = _FINISH.get(status, status.upper())
        self._started(interaction)
        usage = interaction.get("usage")
        if not isinstance(usage, dict):
            return []
        self.draft.usage = Usage(
            prompt=int(usage.get("total_input_tokens") or 0),
            output=int(usage.get("total_output_tokens") or 0),
            thoughts=int(usage.get("total_thought_tokens") or 0),
            cached=int(usage.get("total_cached_tokens") or 0),
            tool_use=int(usage.get("total_tool_use_tokens") or 0),
            total=int(usage.get("total_tokens") or 0),
            carried=self.carried,
        )
        return [UsageUpdate(self.draft.usage)]

    # -- what the user sees

    def _text(self, text: str) -> list[StreamEvent]:
        if not text:
            return []
        self.draft.text_pieces.append(text)
        return [TextDelta(text)]

    def _shown(self, step: Json) -> list[StreamEvent]:
        """A whole step (non-streamed body, or a tool step once its delta arrived) as text and sources."""
        kind = step.get("type")
        if kind == "model_output":
            events: list[StreamEvent] = []
            for item in step.get("content") or []:
                if item.get("type") == "text":
                    events += self._text(item.get("text") or "")
                    self._cite(item.get("annotations") or [])
            return events
        if kind == "thought":
            texts = [s.get("text") or "" for s in step.get("summary") or [] if isinstance(s, dict)]
            shown = [ThoughtDelta(text) for text in texts if text]
            self.draft.thought_pieces += [event.text for event in shown]
            return list(shown)
        given = step.get("arguments")
        arguments: Json = given if isinstance(given, dict) else {}
        if kind == "google_search_call":
            grounding = self.draft.extras.setdefault("grounding", {})
            queries = grounding.setdefault("web_search_queries", [])
            queries += [str(query) for query in arguments.get("queries") or [] if query not in queries]
        elif kind == "url_context_call":
            urls = [{"retrieved_url": str(url)} for url in arguments.get("urls") or []]
            self.draft.extras.setdefault("url_context", {}).setdefault("url_metadata", []).extend(urls)
        elif kind == "code_execution_call" and arguments.get("code"):
            language = str(arguments.get("language") or "python").lower()
            return self._text(f"\n\n```{language}\n{str(arguments['code']).rstrip()}\n```\n\n")
        elif kind == "code_execution_result" and step.get("result") is not None:
            label = "Output (error):" if step.get("is_error") else "Output:"
            return self._text(f"{label}\n\n```text\n{str(step['result']).rstrip()}\n```\n\n")
        return []

    def _cite(self, annotations: list[Json]) -> None:
        """url_citation annotations become the sources list shown under a grounded reply."""
        citations = [item for item in annotations if isinstance(item, dict) and item.get("type") == "url_citation"]
        if not citations:
            return
        chunks = self.draft.extras.setdefault("grounding", {}).setdefault("grounding_chunks", [])
        seen = {chunk["web"].get("uri") for chunk in chunks}
        for citation in citations:
            if citation.get("url") not in seen:
                seen.add(citation.get("url"))
                chunks.append(
                    {"web": {"uri": str(citation.get("url") or ""), "title": str(citation.get("title") or "")}}
                )


def _step_type_of(delta: Json) -> str:
    kind = str(delta.get("type") or "")
    if kind in ("text", "text_annotation_delta"):
        return "model_output"
    if kind in ("thought_signature", "thought_summary"):
        return "thought"
    return "function_call" if kind == "arguments_delta" else kind


def classify_error(status: int | None, body: Any, settings: Settings) -> ChatError:
    """An Interactions error body (`{"error": {"code": "<string>", "message": ...}}`) as a ChatError kind."""
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    code = server_text(str(error.get("code") or ""), settings.api_key, limit=60)
    message = server_text(str(error.get("message") or ""), settings.api_key)
    detail = f"{status} {code}: {message}"
    if status == 401 or code in ("unauthenticated", "invalid_api_key") or "API key not valid" in message:
        return ChatError(
            ErrorKind.BAD_KEY,
            GEMINI_KEY_REJECTED,
            status=status,
            detail=detail,
        )
    if status == 403 or code == "permission_denied":
        return ChatError(
            ErrorKind.PERMISSION,
            f"Permission denied ({message or 'no details'}): the key may not have access to "
            f"{settings.model} or to the Interactions API.",
            status=status,
            detail=detail,
        )
    if status == 404 or code == "not_found":
        return ChatError(
            ErrorKind.NOT_FOUND,
            f"Not found ({message or 'no details'}): check the model {settings.model!r} (--model) "
            "or use `--api generate`.",
            status=status,
            detail=detail,
        )
    if status == 429 or code in ("resource_exhausted", "rate_limit_exceeded"):
        return ChatError(
            ErrorKind.RATE_LIMIT,
            "Rate limited or out of quota (429)" + (f": {message}" if message else "."),
            status=status,
            detail=detail,
        )
    if (status or 0) >= 500 or code in ("internal", "unavailable", "deadline_exceeded", "internal_error"):
        return ChatError(
            ErrorKind.SERVER,
            f"The Gemini API had a server error ({status or code})" + (f": {message}" if message else "."),
            status=status,
            detail=detail,
        )
    return ChatError(
        ErrorKind.BAD_REQUEST,
        f"The API rejected the request ({status or ''} {code})".replace("( ", "(") + f": {message or 'no details'}",
        status=status,
        detail=detail,
    )
