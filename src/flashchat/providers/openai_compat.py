"""OpenAI-compatible endpoints: `POST {base_url}/chat/completions`, for gateways and local servers.

A thin client on httpx2 rather than the `openai` SDK: httpx2 is already installed (google-genai depends on
it) and imports in ~80 ms, while the SDK would add a dependency tree (httpx, pydantic models, its own
retries that must be switched off because the session owns retries) for what is one POST and an SSE loop.

Facts this module relies on:
- Streaming is SSE: `data: <chunk>` events ending with `data: [DONE]`. A stream that ends without [DONE]
  and without a finish_reason is left with `finish_reason=None`, which the session reports as truncated.
- Reasoning text comes as `delta.reasoning_content` (DeepSeek, vLLM, llama.cpp) or `delta.reasoning`
  (OpenRouter, Ollama, newer vLLM); both are shown as thoughts.
- Gemini's endpoint puts thought signatures in `extra_content.google.thought_signature` (on the message, or
  on each tool call). The assistant message is stored as received and sent back with its extra_content
  untouched, so the signature string goes back byte for byte.
- Usage arrives in a final chunk with no choices (`stream_options.include_usage`). See `usage_from`.
- Endpoints that do not know `reasoning_effort` reject it with a 400; the request is then repeated once
  without it and the reply carries a notice. That is the one retry a provider makes: the session retries
  everything else.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import time
from collections.abc import AsyncGenerator, Mapping
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import httpx2

from flashchat import __version__
from flashchat.config.input_checks import api_key_problem
from flashchat.config.settings import GOOGLE_OPENAI_BASE_URL, Settings
from flashchat.core.conversation import Conversation, Message, ReplyDraft, ToolCall, Usage
from flashchat.core.errors import ChatError, ErrorKind, retry_info_delay
from flashchat.core.events import TextDelta, ThoughtDelta, UsageUpdate
from flashchat.providers import CAPABILITIES, OPENAI_IMAGE_TYPES
from flashchat.providers.identity_memo import IdentityMemo
from flashchat.providers.openai_content import merge_blocks, split_blocks, text_only
from flashchat.providers.openai_tools import (
    answer_unanswered,
    calls_in,
    tool_declarations,
    tool_results_message,
    with_call_ids,
)
from flashchat.providers.server_text import redirect_message
from flashchat.providers.server_text import server_text as bounded_server_text
from flashchat.providers.tls_context import shared_ssl_context

if TYPE_CHECKING:
    from flashchat.providers.base import ModelInfo, StreamEvent

NAME = "openai"

# OpenAI finish reasons in the names the session and front ends already know from Gemini.
FINISH_REASONS = {
    "stop": "STOP",
    "length": "MAX_TOKENS",
    "content_filter": "SAFETY",
    "tool_calls": "TOOL_CALLS",
    "function_call": "TOOL_CALLS",
}
REASONING_FIELDS = ("reasoning_content", "reasoning")
# Fields of a received assistant message that are not sent back: reasoning text (DeepSeek answers 400 when
# it comes back), response-only annotations, and Gemini's duplicate top-level copy of the signature (the
# one in extra_content is the documented place).
_NOT_SENT_BACK = frozenset({*REASONING_FIELDS, "annotations", "thought_signature"})


def base_url(settings: Settings) -> str:
    url = (settings.base_url or GOOGLE_OPENAI_BASE_URL).rstrip("/")
    return url.removesuffix("/chat/completions")


def _host(settings: Settings) -> str:
    return base_url(settings).split("://", 1)[-1].split("/", 1)[0]


# --- request -------------------------------------------------------------------------------------------


def openai_messages(
    conversation: Conversation, settings: Settings, memo: IdentityMemo | None = None
) -> list[dict[str, Any]]:
    """System prompt, then user and assistant messages in order.

    Replies made through this provider go back as stored (extra_content and tool calls included); replies
    from another provider go back as their text; replies with nothing in them are left out. With the provider's
    `memo`, each message's request form is built once and kept while the message is in the conversation.
    """
    memo = memo or IdentityMemo()
    messages: list[dict[str, Any]] = []
    if settings.system_prompt:
        messages.append({"role": "system", "content": settings.system_prompt})
    for message in conversation.messages:
        if message.role == "user" and message.provider == NAME and message.native:
            messages += memo.value("tool", (message.native,), _tool_messages, message.native)  # answers to tool calls
        elif message.role == "user" and message.media:
            messages.append({"role": "user", "content": _content_with_images(message, conversation)})
        elif message.role == "user":
            messages.append(memo.value("user", (message, message.text), _role_text, "user", message.text))
        elif message.provider == NAME and message.native:
            if (outgoing := memo.value("assistant", (message.native,), assistant_message, message.native)) is not None:
                messages.append(outgoing)
        elif message.text:
            messages.append(memo.value("text", (message, message.text), _role_text, "assistant", message.text))
    return answer_unanswered(messages)


def _tool_messages(native: Mapping[str, Any]) -> list[dict[str, Any]]:
    return copy.deepcopy(native.get("tool_messages") or [])


def _role_text(role: str, text: str) -> dict[str, Any]:
    return {"role": role, "content": text}


def _content_with_images(message: Message, conversation: Conversation) -> list[dict[str, Any]]:
    """The user's text, then each attached image as an `image_url` data URL (the vision message format).

    A conversation begun on Gemini can hold audio, video or a PDF; this endpoint takes none of them, so the
    request is not sent rather than sent without them."""
    import base64

    from flashchat.core.media import SHORT_NAMES, MediaError

    content: list[dict[str, Any]] = [{"type": "text", "text": message.text}] if message.text else []
    for ref in message.media:
        if ref.mime_type not in OPENAI_IMAGE_TYPES:
            kind = SHORT_NAMES.get(ref.mime_type, ref.mime_type)
            raise ChatError(
                ErrorKind.BAD_REQUEST,
                f"This conversation holds {ref.name} ({kind}); OpenAI-compatible endpoints take PNG, JPEG, WebP and "
                "GIF images only: switch back to Gemini or start a new conversation.",
            )
        try:
            data = conversation.media.read(ref.sha256)
        except MediaError as error:
            raise ChatError(ErrorKind.BAD_REQUEST, f"{error}; nothing was sent.") from None
        url = f"data:{ref.mime_type};base64,{base64.b64encode(data).decode('ascii')}"
        content.append({"type": "image_url", "image_url": {"url": url}})
    return content


def assistant_message(native: Mapping[str, Any]) -> dict[str, Any] | None:
    """The request form of a stored assistant message, or None when it has nothing to send."""
    outgoing = {key: copy.deepcopy(value) for key, value in native.items() if value is not None}
    signature = outgoing.pop("thought_signature", None)
    for key in _NOT_SENT_BACK:
        outgoing.pop(key, None)
    if isinstance(signature, str):
        google = outgoing.setdefault("extra_content", {}).setdefault("google", {})
        google.setdefault("thought_signature", signature)
    if "content" in outgoing:
        outgoing["content"] = text_only(outgoing["content"])
    if isinstance(outgoing.get("tool_calls"), list):
        outgoing["tool_calls"] = with_call_ids(outgoing["tool_calls"])
    if not outgoing.get("content") and not outgoing.get("tool_calls"):
        if not outgoing.get("extra_content"):
            return None
        outgoing["content"] = ""  # a signature alone still goes back, on an empty message
    outgoing["role"] = "assistant"
    return outgoing


def request_body(
    conversation: Conversation, settings: Settings, *, reasoning_effort: bool = True, memo: IdentityMemo | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": settings.model,
        "messages": openai_messages(conversation, settings, memo),
        "stream": settings.stream,
    }
    if settings.stream:
        body["stream_options"] = {"include_usage": True}
    optional = {"max_tokens": settings.max_output_tokens, "temperature": settings.temperature, "top_p": settings.top_p}
    body.update({key: value for key, value in optional.items() if value is not None})
    if reasoning_effort:
        body["reasoning_effort"] = settings.thinking_level
    if settings.local_tools:
        body["tools"] = tool_declarations()
    if settings.response_schema is not None:
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "reply", "schema": dict(settings.response_schema)},
        }
    return body


def request_bytes(body: dict[str, Any], memo: IdentityMemo | None = None) -> bytes:
    """`body` encoded as httpx2 encodes `json=` (compact, not ASCII-escaped, no NaN), each message encoded once while
    `memo` holds it: a long conversation's 4 MB were encoded again every turn (~25 ms)."""
    memo = memo or IdentityMemo()
    if list(body)[:2] != ["model", "messages"]:
        return _json_bytes(body)
    encoded = [memo.value("json", (message,), _json_bytes, message) for message in body["messages"]]
    rest = {key: value for key, value in body.items() if key not in ("model", "messages")}
    head = _json_bytes({"model": body["model"]})[:-1] + b',"messages":['
    return head + b",".join(encoded) + b"]" + (b"," + _json_bytes(rest)[1:] if rest else b"}")


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


# --- response ------------------------------------------------------------------------------------------


def usage_from(data: Mapping[str, Any]) -> Usage:
    """Map OpenAI usage onto flashchat's: `output` is the visible answer, `thoughts` the reasoning.

    OpenAI counts reasoning inside completion_tokens (completion = answer + reasoning_tokens), so output is
    completion - reasoning. Gemini's compatible endpoint leaves thoughts out of completion_tokens and only
    counts them in total_tokens; that shape (prompt + completion + reasoning == total, or reasoning larger
    than completion, or a total above prompt + completion with no details) keeps completion as the output.
    `total` is always the server's total; `cached` (prompt_tokens_details.cached_tokens) is part of prompt.
    """
    prompt = _int(data.get("prompt_tokens"))
    completion = _int(data.get("completion_tokens"))
    reasoning = _int(_get(data, "completion_tokens_details", "reasoning_tokens"))
    cached = _int(_get(data, "prompt_tokens_details", "cached_tokens"))
    total = _int(data.get("total_tokens")) or prompt + completion + reasoning
    if not reasoning:
        output, reasoning = completion, max(0, total - prompt - completion)
    elif reasoning > completion or prompt + completion + reasoning == total:
        output = completion
    else:
        output = completion - reasoning
    return Usage(prompt=prompt, output=output, thoughts=reasoning, cached=cached, total=total)


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _get(data: Any, *keys: str | int) -> Any:
    """data[k1][k2]... or None when any step is missing (ints index lists)."""
    for key in keys:
        if isinstance(key, int):
            data = data[key] if isinstance(data, list) and -len(data) <= key < len(data) else None
        else:
            data = data.get(key) if isinstance(data, Mapping) else None
    return data


def _merge(target: dict[str, Any], extra: Mapping[str, Any]) -> None:
    """Deep-merge `extra` into `target` (extra_content may arrive in pieces; later values win)."""
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


class _MessageBuilder:
    """Rebuilds the assistant message from streamed deltas, keeping every field it does not know.

    Text fields are concatenated, tool calls merged by index (arguments concatenated), dicts such as
    extra_content deep-merged, anything else kept as last received.
    """

    _TEXT_FIELDS = frozenset({"content", "refusal", *REASONING_FIELDS})

    def __init__(self) -> None:
        self.fields: dict[str, Any] = {}
        self.tool_calls: dict[int, dict[str, Any]] = {}
        self.received: dict[str, Any] | None = None  # a whole message (non-streamed reply), kept verbatim

    def add(self, delta: Mapping[str, Any]) -> None:
        for key, value in delta.items():
            if value is None:
                continue
            if key == "content" and isinstance(value, Mapping):
                self._add_blocks([value])
            elif key == "content" and (isinstance(value, list) or isinstance(self.fields.get(key), list)):
                self._add_blocks(value)
            elif key in self._TEXT_FIELDS and isinstance(value, str):
                self.fields[key] = self.fields.get(key, "") + value
            elif key == "tool_calls" and isinstance(value, list):
                for position, call in enumerate(value):
                    if isinstance(call, Mapping):
                        self._add_call(call, position)
            elif isinstance(value, Mapping) and isinstance(self.fields.get(key), dict):
                _merge(self.fields[key], value)
            else:
                self.fields[key] = copy.deepcopy(value)

    def _add_blocks(self, value: Any) -> None:
        """Typed content blocks (see openai_content.py); text that came as a string before them is a text block."""
        kept = self.fields.get("content")
        if not isinstance(kept, list):
            kept = [{"type": "text", "text": kept}] if isinstance(kept, str) and kept else []
            self.fields["content"] = kept
        merge_blocks(kept, value if isinstance(value, list) else [{"type": "text", "text": str(value)}])

    def _call_slot(self, delta: Mapping[str, Any], position: int) -> int:
        """Which call a piece belongs to. Its `index`, unless that call is already whole and this piece starts
        another one (gateways that give every parallel call index 0); without an index, the call with its id, a
        new call for a new id or a new whole call, else the call before it (Gemini splits arguments over
        indexless pieces, and may send a call's extra_content in a piece of its own)."""
        index = delta.get("index")
        ident = delta.get("id") if isinstance(delta.get("id"), str) and delta.get("id") else None
        if ident is not None:
            known = next((slot for slot, entry in self.tool_calls.items() if entry.get("id") == ident), None)
            if known is not None:
                return known
        if isinstance(index, int) and not isinstance(index, bool):
            entry = self.tool_calls.get(index)
            if entry is None or not _starts_another_call(entry, delta, ident):
                return index
            return max(self.tool_calls) + 1
        if not self.tool_calls:
            return position
        last = max(self.tool_calls)
        return last + 1 if _starts_another_call(self.tool_calls[last], delta, ident) else last

    def function_calls(self) -> list[ToolCall]:
        return calls_in(self.native())

    def _add_call(self, delta: Mapping[str, Any], position: int) -> None:
        entry = self.tool_calls.setdefault(self._call_slot(delta, position), {})
        for key, value in delta.items():
            if key == "index" or value is None:
                continue
            if key == "function" and isinstance(value, Mapping):
                function = entry.setdefault("function", {})
                for name, piece in value.items():
                    if name == "arguments" and isinstance(piece, str) and isinstance(function.get(name, ""), str):
                        function["arguments"] = function.get("arguments", "") + piece
                    elif piece is not None:
                        function[name] = piece
            elif isinstance(value, Mapping) and isinstance(entry.get(key), dict):
                _merge(entry[key], value)
            else:
                entry[key] = copy.deepcopy(value)

    def native(self) -> dict[str, Any] | None:
        if self.received is not None:
            return copy.deepcopy(self.received)
        if not self.fields and not self.tool_calls:
            return None
        message = {"role": "assistant", **copy.deepcopy(self.fields)}
        if self.tool_calls:
            message["tool_calls"] = [copy.deepcopy(self.tool_calls[index]) for index in sorted(self.tool_calls)]
        return message


def _starts_another_call(entry: Mapping[str, Any], delta: Mapping[str, Any], ident: str | None) -> bool:
    """Whether `delta` is a new call rather than more of `entry`: a new id, or a name after `entry`'s arguments
    are already a whole JSON object."""
    if ident is not None and entry.get("id") and entry.get("id") != ident:
        return True
    function = delta.get("function")
    named = isinstance(function, Mapping) and bool(function.get("name"))
    arguments = (entry.get("function") or {}).get("arguments")
    if not named or not entry.get("function", {}).get("name"):
        return False
    if isinstance(arguments, Mapping):
        return True
    try:
        return isinstance(json.loads(arguments), dict) if isinstance(arguments, str) else False
    except ValueError:
        return False


def _reasoning_text(delta: Mapping[str, Any]) -> str:
    for name in REASONING_FIELDS:
        value = delta.get(name)
        if isinstance(value, str) and value:
            return value
    return ""


def _absorb_delta(
    delta: Mapping[str, Any], draft: ReplyDraft, builder: _MessageBuilder, show_thoughts: bool
) -> list[StreamEvent]:
    """One streamed delta (or a whole non-streamed message) into the draft; returns the events to show."""
    events: list[StreamEvent] = []
    builder.add(delta)
    content, block_thoughts = split_blocks(delta.get("content"))
    if isinstance(delta.get("refusal"), str):
        content += delta["refusal"]  # the model's refusal is its answer (content is null then)
    reasoning = _reasoning_text(delta) + block_thoughts
    if reasoning or content or delta.get("tool_calls") or delta.get("extra_content"):
        draft.mark_content()
    if delta.get("tool_calls"):
        draft.function_calls = builder.function_calls()
    if reasoning:
        draft.thought_pieces.append(reasoning)
        if show_thoughts:
            events.append(ThoughtDelta(reasoning))
    if content:
        draft.text_pieces.append(content)
        events.append(TextDelta(content))
    return events


def _absorb_chunk(
    chunk: Mapping[str, Any], draft: ReplyDraft, builder: _MessageBuilder, settings: Settings
) -> list[StreamEvent]:
    events: list[StreamEvent] = []
    if isinstance(chunk.get("model"), str) and chunk["model"]:
        draft.model_version = chunk["model"]
    if isinstance(chunk.get("id"), str) and chunk["id"]:
        draft.extras["response_id"] = chunk["id"]  # kept with the message, as Gemini's responseId is
    choices = chunk.get("choices")
    choice = choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], Mapping) else None
    if choice is not None:
        # `message` instead of `delta`: a server that answered a streamed request with whole messages.
        delta = choice.get("delta") if isinstance(choice.get("delta"), Mapping) else choice.get("message")
        if isinstance(delta, Mapping):
            events += _absorb_delta(delta, draft, builder, settings.show_thoughts)
        if isinstance(choice.get("finish_reason"), str):
            reason = choice["finish_reason"]
            draft.finish_reason = FINISH_REASONS.get(reason, reason.upper())
    if isinstance(chunk.get("usage"), Mapping):
        draft.usage = usage_from(chunk["usage"])
        events.append(UsageUpdate(draft.usage))
    return events


_DONE = object()


async def _sse_events(response: httpx2.Response) -> AsyncGenerator[Any, None]:
    """The parsed `data:` payloads of an SSE body, then `_DONE` for `data: [DONE]`.

    Each `data:` line is normally one JSON document; a payload split over several `data:` lines (allowed by
    SSE, sent by no server we know of) is joined until it parses or the event's blank line arrives.
    """
    pending: list[str] = []
    async for line in response.aiter_lines():
        if not line:
            if pending:
                raise ValueError("\n".join(pending))
            continue
        if line.startswith(":"):
            continue  # a comment or keep-alive (OpenRouter sends ": OPENROUTER PROCESSING")
        field, _, value = line.partition(":")
        if field != "data":
            continue  # event:, id:, retry:
        pending.append(value.removeprefix(" "))
        joined = "\n".join(pending)
        if joined == "[DONE]":
            yield _DONE
            return
        try:
            parsed = json.loads(joined)
        except (ValueError, RecursionError):
            continue
        pending = []
        yield parsed
    if pending:
        raise ValueError("\n".join(pending))


# --- errors --------------------------------------------------------------------------------------------


def _error_fields(body: Any) -> tuple[str, str, str, str]:
    """(message, type, param, code) from an OpenAI error body, Gemini's `[{"error": ...}]` form, vLLM's
    top-level `{"object": "error", "message": ...}` or FastAPI's `{"detail": ...}`."""
    if isinstance(body, list) and body:
        body = body[0]
    if not isinstance(body, Mapping):
        return "", "", "", ""
    error = body.get("error", body)
    if isinstance(error, str):
        return error, "", "", ""
    if not isinstance(error, Mapping):
        return "", "", "", ""
    message = error.get("message")
    if message is None and "detail" in error:
        message = error["detail"] if isinstance(error["detail"], str) else json.dumps(error["detail"])
    kind = error.get("type") or error.get("status") or ""
    code = error.get("code")
    return str(message or ""), str(kind), str(error.get("param") or ""), "" if code is None else str(code)


def retry_after_from(headers: Mapping[str, str], body: Any) -> float | None:
    """Seconds to wait from `retry-after-ms`, `Retry-After` (seconds or an HTTP date) or a RetryInfo."""
    with contextlib.suppress(KeyError, ValueError):
        return max(0.0, float(headers["retry-after-ms"]) / 1000)
    value = headers.get("retry-after")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            with contextlib.suppress(TypeError, ValueError):
                return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    return retry_info_delay(_get(body[0] if isinstance(body, list) and body else body, "error"))


def classify_http_error(
    status: int, body_text: str, headers: Mapping[str, str], settings: Settings, *, key_sent: bool
) -> ChatError:
    """A ChatError whose message says what to fix, from an error response of the endpoint."""
    try:
        body: Any = json.loads(body_text) if body_text else None
    except (ValueError, RecursionError):
        body = None
    message, kind, param, code = _error_fields(body)
    if not message and body is None:
        message = body_text
    # Bounded, an HTML page reduced to its title, and the key masked if the server echoed it back.
    message = bounded_server_text(str(message), settings.api_key)
    request_id = headers.get("x-request-id") or (body.get("id") if isinstance(body, Mapping) else None) or ""
    label = " ".join(part for part in (str(status), kind) if part)
    said = f": {message}" if message else "."
    detail = f"{label}{f' ({code})' if code else ''}: {message}" + (f" (request id {request_id})" if request_id else "")
    host = _host(settings)
    where = f" in [endpoints.{settings.endpoint}]" if settings.endpoint else " in the config file"
    bad_key = status == 401 or (status == 400 and ("API_KEY_INVALID" in body_text or "API key not valid" in message))
    if bad_key and not key_sent:
        text = (
            f"{host} wants an API key ({label}): set OPENAI_API_KEY, or api_key_env (the name of a variable "
            f"holding the key) or api_key{where}."
        )
        return ChatError(ErrorKind.BAD_KEY, text, status=status, detail=detail)
    if bad_key:
        source = settings.origins.get("api_key", "config")
        source = f"the key from {source}" if not source.startswith(("config", "[")) else f"api_key{where}"
        text = f"{host} rejected the API key ({label}){said} Check {source}."
        return ChatError(ErrorKind.BAD_KEY, text, status=status, detail=detail)
    if status == 403:
        text = f"{host} denied permission ({label}){said} The key may not have access to {settings.model!r}."
        return ChatError(ErrorKind.PERMISSION, text, status=status, detail=detail)
    if status == 404:
        text = (
            f"Not found at {base_url(settings)}/chat/completions ({label}){said} Check model ({settings.model!r}) "
            "and base_url (it usually ends in /v1)."
        )
        return ChatError(ErrorKind.NOT_FOUND, text, status=status, detail=detail)
    if status == 429:
        text = f"Rate limited by {host} ({label}){said}"
        retry_after = retry_after_from(headers, body)
        return ChatError(ErrorKind.RATE_LIMIT, text, status=status, retry_after=retry_after, detail=detail)
    if status >= 500 or status in (408, 409):
        ident = f", request id {request_id}" if request_id else ""
        text = f"{host} had a server error ({label}{ident}){said}"
        return ChatError(ErrorKind.SERVER, text, status=status, detail=detail)
    about = f", param {param!r}" if param else ""
    text = f"{host} rejected the request ({label}{about}){said}"
    return ChatError(ErrorKind.BAD_REQUEST, text, status=status, detail=detail)


def _refuse_redirect(response: httpx2.Response, settings: Settings) -> None:
    """An API endpoint that redirects has the wrong address (or a misconfigured gateway in front of it)."""
    if 300 <= response.status_code < 400:
        message = redirect_message(_host(settings), response.status_code, response.headers.get("location", ""))
        raise ChatError(ErrorKind.BAD_RESPONSE, message, status=response.status_code)


def _stream_error(chunk: Mapping[str, Any], settings: Settings) -> ChatError:
    """An error sent as an SSE event after a 200 (`data: {"error": {...}}`)."""
    code = _get(chunk, "error", "code")
    status = code if isinstance(code, int) and 400 <= code < 600 else 500
    return classify_http_error(status, json.dumps(chunk), {}, settings, key_sent=bool(settings.api_key))


def rejects_reasoning_effort(status: int, body_text: str) -> bool:
    """A 400/422 that names reasoning_effort: an unknown field, or a level this model does not take."""
    return status in (400, 422) and "reasoning_effort" in body_text


# --- the provider --------------------------------------------------------------------------------------


class OpenAICompatProvider:
    name = NAME
    capabilities = CAPABILITIES[NAME]
    tool_results_message = staticmethod(tool_results_message)

    def __init__(self) -> None:
        # One client per event loop and connect timeout: httpx pools belong to the loop that made them.
        self._clients: dict[tuple[int, float], httpx2.AsyncClient] = {}
        # (base_url, model, level) combinations that rejected reasoning_effort: not sent to them again.
        self._no_reasoning_effort: set[tuple[str, str, str]] = set()
        self._kept = IdentityMemo()  # each message's request form, built once (identity_memo.py)

    def warm_up(self, settings: Settings, loop: asyncio.AbstractEventLoop) -> None:
        """Run in a thread while a UI idles: the TLS context, the HTTP stack and the client for `loop` (nothing is
        sent)."""
        from flashchat.providers.tls_context import prepare_http_stack

        prepare_http_stack()
        self._client(settings, loop)

    def _client(self, settings: Settings, loop: asyncio.AbstractEventLoop | None = None) -> httpx2.AsyncClient:
        key = (id(loop or asyncio.get_running_loop()), settings.connect_timeout)
        client = self._clients.get(key)
        if client is None:
            # Read timeouts stay off: the session owns them (first token vs. the gap between chunks).
            timeout = httpx2.Timeout(
                connect=settings.connect_timeout, read=None, write=60.0, pool=settings.connect_timeout
            )
            client = httpx2.AsyncClient(
                timeout=timeout,
                headers={"User-Agent": f"flashchat/{__version__}"},
                verify=shared_ssl_context(),  # built once per process (a UI builds it while idle)
            )
            self._clients[key] = client
        return client

    def _headers(self, settings: Settings, *, stream: bool) -> dict[str, str]:
        headers = {"Accept": "text/event-stream" if stream else "application/json"}
        if problem := api_key_problem(settings.api_key):
            raise ChatError(ErrorKind.BAD_KEY, problem[0].upper() + problem[1:] + ".")
        if settings.api_key:
            headers["Authorization"] = f"Bearer {settings.api_key}"
        return headers

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            with contextlib.suppress(Exception):
                await client.aclose()

    async def list_models(self, settings: Settings) -> list[ModelInfo]:
        from flashchat.providers.base import ModelInfo

        try:
            response = await self._client(settings).get(
                f"{base_url(settings)}/models", headers=self._headers(settings, stream=False)
            )
        except (httpx2.HTTPError, httpx2.InvalidURL, OSError) as error:
            raise _transport_error(error, settings, None) from error
        _refuse_redirect(response, settings)
        if response.status_code >= 400:
            raise classify_http_error(
                response.status_code, response.text, response.headers, settings, key_sent=bool(settings.api_key)
            )
        try:
            data = response.json().get("data")
        except (ValueError, AttributeError, RecursionError):
            data = None
        if not isinstance(data, list):
            raise ChatError(ErrorKind.BAD_RESPONSE, f"{_host(settings)} sent a model list flashchat could not read.")
        return [
            ModelInfo(name=model["id"], display_name=str(model.get("display_name") or model["id"]))
            for model in data
            if isinstance(model, Mapping) and isinstance(model.get("id"), str)
        ]

    async def stream(
        self, conversation: Conversation, settings: Settings, draft: ReplyDraft
    ) -> AsyncGenerator[StreamEvent, None]:
        draft.provider = NAME
        builder = _MessageBuilder()
        draft.native_content = builder.native
        url = f"{base_url(settings)}/chat/completions"
        effort_key = (base_url(settings), settings.model, settings.thinking_level)
        send_effort = effort_key not in self._no_reasoning_effort
        try:
            client = self._client(settings)
            while True:
                body = request_body(conversation, settings, reasoning_effort=send_effort, memo=self._kept)
                data = request_bytes(body, self._kept)
                self._kept.next_request()
                headers = {**self._headers(settings, stream=settings.stream), "Content-Type": "application/json"}
                draft.mark_sent()
                async with client.stream("POST", url, content=data, headers=headers) as response:
                    _refuse_redirect(response, settings)
                    if response.status_code >= 400:
                        text = (await response.aread()).decode("utf-8", "replace")
                        if send_effort and rejects_reasoning_effort(response.status_code, text):
                            # The one retry a provider makes: same request without the field, at once.
                            self._no_reasoning_effort.add(effort_key)
                            send_effort = False
                            draft.notice = (
                                f"{_host(settings)} does not accept reasoning_effort={settings.thinking_level!r} "
                                f"for {settings.model}: sent without it, so the thinking level has no effect here."
                            )
                            continue
                        raise classify_http_error(
                            response.status_code, text, response.headers, settings, key_sent=bool(settings.api_key)
                        )
                    content_type = response.headers.get("content-type", "")
                    if content_type.startswith("text/event-stream"):
                        async for event in self._read_stream(response, draft, builder, settings):
                            yield event
                    else:
                        # stream=false, or a server that ignored stream=true: one completion object.
                        for event in self._read_completion(await response.aread(), draft, builder, settings):
                            yield event
                return
        except (httpx2.HTTPError, httpx2.InvalidURL, httpx2.StreamError, OSError) as error:
            raise _transport_error(error, settings, draft) from error

    async def _read_stream(
        self, response: httpx2.Response, draft: ReplyDraft, builder: _MessageBuilder, settings: Settings
    ) -> AsyncGenerator[StreamEvent, None]:
        done = False
        events = _sse_events(response)
        async with contextlib.aclosing(events):
            while True:
                try:
                    chunk = await anext(events)
                except StopAsyncIteration:
                    break
                except ValueError as error:
                    raise _bad_response(settings, f"an SSE event that is not JSON: {str(error)[:120]!r}") from None
                if chunk is _DONE:
                    done = True
                    break
                if not isinstance(chunk, Mapping):
                    raise _bad_response(settings, f"an SSE event that is not an object: {str(chunk)[:120]!r}")
                if "error" in chunk and not chunk.get("choices"):
                    raise _stream_error(chunk, settings)
                for event in _absorb_chunk(chunk, draft, builder, settings):
                    yield event
        if done and draft.finish_reason is None and draft.received_content:
            draft.finish_reason = "STOP"  # [DONE] says the reply is complete even when no reason was given

    def _read_completion(
        self, raw: bytes, draft: ReplyDraft, builder: _MessageBuilder, settings: Settings
    ) -> list[StreamEvent]:
        try:
            completion = json.loads(raw)
        except (ValueError, RecursionError):
            raise _bad_response(settings, f"a body that is not JSON: {raw[:120]!r}") from None
        if not isinstance(completion, Mapping):
            raise _bad_response(settings, "a completion that is not a JSON object")
        if "error" in completion and not completion.get("choices"):
            raise _stream_error(completion, settings)
        if not isinstance(completion.get("choices"), list):
            raise _bad_response(settings, "a completion without choices")
        events = _absorb_chunk(completion, draft, builder, settings)
        message = _get(completion, "choices", 0, "message") if completion["choices"] else None
        if isinstance(message, Mapping):
            builder.received = dict(message)  # stored exactly as received, nulls and all
            draft.function_calls = builder.function_calls()
        return events


def _bad_response(settings: Settings, what: str) -> ChatError:
    return ChatError(ErrorKind.BAD_RESPONSE, f"{_host(settings)} sent {what}; flashchat could not read it.")


def _transport_error(error: BaseException, settings: Settings, draft: ReplyDraft | None) -> ChatError:
    host = _host(settings)
    if isinstance(error, (httpx2.UnsupportedProtocol, httpx2.InvalidURL)):
        return ChatError(
            ErrorKind.BAD_REQUEST,
            f"base_url {base_url(settings)!r} is not an http:// or https:// URL: fix it in the config file.",
            detail=repr(error),
        )
    if isinstance(error, httpx2.ConnectTimeout):
        text = f"Could not connect to {host} within {settings.connect_timeout:g} s."
    elif draft is not None and draft.received_content:
        text = "The connection dropped in the middle of the reply."
    elif isinstance(error, httpx2.ConnectError):
        text = f"Could not connect to {host}: is the server running? (check base_url: {base_url(settings)})"
    else:
        text = f"The connection to {host} failed before the reply started."
    return ChatError(ErrorKind.NETWORK, text, detail=repr(error))
