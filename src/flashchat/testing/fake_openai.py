"""A fake OpenAI-compatible server (`POST /v1/chat/completions`) for tests, benchmarks and screenshots.

The counterpart of ``fake_gemini`` for the OpenAI-compatible provider: real HTTP on 127.0.0.1, the real
client code, no mocks. The wire format follows the OpenAI chat completions API and Gemini's compatible
endpoint (``tests/wire`` and its CATALOG.md): ``data: <json>\\n\\n`` SSE chunks ending with ``data: [DONE]``, a final
usage chunk with empty ``choices`` when ``stream_options.include_usage`` is set, reasoning text in
``delta.reasoning_content`` or ``delta.reasoning``, thought signatures in
``extra_content.google.thought_signature``, and error bodies ``{"error": {"message", "type", "param",
"code"}}`` with ``Retry-After`` on 429 and ``x-request-id`` on every response.

Standard library only (the HTTP server is shared with ``fake_gemini``).

    with FakeOpenAI() as fake:
        fake.enqueue(Reply.text("Hello", reasoning="The user greets me."))
        settings = Settings(provider="openai", base_url=fake.url, api_key=fake.api_key)

Chat calls take the next queued ``Reply``, else ``responder(request)``, else an echo of the last user
message. ``FakeOpenAI(api_keys=())`` accepts requests without a key, like a local llama.cpp server;
``reject_reasoning_effort=True`` (or a set of levels) answers 400 to requests that carry the field, like an
endpoint that does not know it. The fake remembers every signature it issued and answers 400 to a history
that alters one or drops the signature of a tool call.

Run ``python -m flashchat.testing.fake_openai [--port N] [--delay S] [--no-key]`` for an echo server.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import re
import secrets
import sys
import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flashchat.testing import fake_gemini
from flashchat.testing._scripted_server import Outgoing, RawReply, ReceivedRequest, ScriptedServer, load_recording
from flashchat.testing.fake_gemini import estimate_tokens

Json = dict[str, Any]

DEFAULT_MODEL = "gemini-3.5-flash"
DEFAULT_API_KEY = "sk-fake-openai-test-key-0001"
# The Gemini fake's signature bytes, in standard base64 as Gemini's compatible endpoint sends it ("+" and "/").
DEFAULT_SIGNATURE = base64.b64encode(fake_gemini.DEFAULT_SIGNATURE).decode("ascii")
REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high")

# Status -> (type, code, message) as the model's guide documents the error bodies.
ERROR_DEFAULTS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request: the request body is not valid for this endpoint."),
    401: ("authentication_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("permission_error", None, "You are not allowed to use this model."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist or you do not have access to it."),
    409: ("conflict_error", None, "The request conflicted with another one; try again."),
    422: ("invalid_request_error", None, "The request body could not be processed."),
    429: ("rate_limit_error", "rate_limit_exceeded", "Rate limit reached for requests. Please try again later."),
    500: ("internal_error", None, "The server had an error while processing your request. Sorry about that!"),
    502: ("internal_error", None, "Bad gateway."),
    503: ("overloaded_error", None, "The engine is currently overloaded, please try again later."),
    504: ("internal_error", None, "The server timed out while processing your request."),
}
_NO_KEY_MESSAGE = (
    "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer "
    "auth (i.e. Authorization: Bearer YOUR_KEY)."
)


def _model_entry(name: str, owned_by: str = "google") -> Json:
    return {"id": name, "object": "model", "created": 1_767_225_600, "owned_by": owned_by}


DEFAULT_MODELS: list[Json] = [
    _model_entry("gemini-3.5-flash"),
    _model_entry("gemini-3-pro-preview"),
    _model_entry("gemini-2.5-flash"),
    _model_entry("qwen3-8b-instruct", owned_by="llamacpp"),
]


def error_body(
    status: int,
    message: str | None = None,
    *,
    type: str | None = None,
    param: str | None = None,
    code: str | None = None,
) -> Json:
    default_type, default_code, default_message = ERROR_DEFAULTS.get(status, ("api_error", None, "Error."))
    return {
        "error": {
            "message": default_message if message is None else message,
            "type": type or default_type,
            "param": param,
            "code": code if code is not None else default_code,
        }
    }


def _compact(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _split_text(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), max(1, size))]


def _text_of(content: Any) -> str:
    """A message's text: a string, or the text parts of a content list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def _signatures_in(message: Any) -> list[str]:
    """Every extra_content.google.thought_signature of an assistant message and its tool calls."""
    if not isinstance(message, dict):
        return []
    found = []
    for holder in [message, *(message.get("tool_calls") or [])]:
        if isinstance(holder, dict):
            extra = holder.get("extra_content")
            google = extra.get("google") if isinstance(extra, dict) else None
            if isinstance(google, dict) and isinstance(google.get("thought_signature"), str):
                found.append(google["thought_signature"])
    return found


def _call_key(call: Any) -> str:
    function = call.get("function") if isinstance(call, dict) else None
    if not isinstance(function, dict):
        return ""
    return f"{function.get('name')}\x00{function.get('arguments')}"


# --- requests and replies ------------------------------------------------------------------------------


class RecordedRequest(ReceivedRequest):
    """One HTTP request as the fake received it (every route, including rejected ones)."""

    @property
    def messages(self) -> list[Json]:
        messages = self.body.get("messages") if isinstance(self.body, dict) else None
        return messages if isinstance(messages, list) else []

    @property
    def model(self) -> str | None:
        return self.body.get("model") if isinstance(self.body, dict) else None

    @property
    def stream(self) -> bool:
        return isinstance(self.body, dict) and self.body.get("stream") is True

    @property
    def reasoning_effort(self) -> str | None:
        """The field exactly as sent; None when the request did not carry it."""
        return self.body.get("reasoning_effort") if isinstance(self.body, dict) else None

    @property
    def api_key(self) -> str | None:
        """The Bearer token, or None when no Authorization header was sent."""
        header = self.headers.get("authorization")
        if header is None:
            return None
        return header[7:].strip() if header.lower().startswith("bearer ") else header

    def include_usage(self) -> bool:
        options = self.body.get("stream_options") if isinstance(self.body, dict) else None
        return isinstance(options, dict) and options.get("include_usage") is True

    def is_completion(self) -> bool:
        return self.method == "POST" and self.path.rstrip("/").endswith("/chat/completions")

    def roles(self) -> list[str]:
        return [str(message.get("role")) for message in self.messages if isinstance(message, dict)]

    def user_texts(self) -> list[str]:
        return [_text_of(m.get("content")) for m in self.messages if isinstance(m, dict) and m.get("role") == "user"]

    def assistant_messages(self) -> list[Json]:
        return [m for m in self.messages if isinstance(m, dict) and m.get("role") == "assistant"]

    def system_prompt(self) -> str | None:
        for message in self.messages:
            if isinstance(message, dict) and message.get("role") in ("system", "developer"):
                return _text_of(message.get("content"))
        return None

    def prompt_tokens(self) -> int:
        return estimate_tokens("".join(_text_of(m.get("content")) for m in self.messages if isinstance(m, dict)))


@dataclass
class Reply:
    """What the fake answers to one chat call. Build it with the classmethods.

    ``deltas`` are the streamed ``choices[0].delta`` objects in order (a non-streamed reply merges them into
    one message); ``finish_reason`` goes on the last delta's chunk. Usage is computed from the texts unless
    ``usage`` gives the exact object to send.
    """

    status: int = 200
    deltas: list[Json] = field(default_factory=list)
    finish_reason: str | None = "stop"
    usage: Json | None = None
    model: str | None = None
    message_extra: Json = field(default_factory=dict)  # extra top-level fields of a non-streamed message
    chunks: list[Json] | None = None  # Reply.events: chunk objects sent exactly as given
    completion: Json | None = None  # Reply.completion_object: the non-streamed body exactly as given
    error_json: Json | None = None
    headers: dict[str, str] = field(default_factory=dict)
    recording: Json | None = None
    done: bool = True
    error_after: int | None = None
    delay_s: float = 0.0
    first_delay_s: float = 0.0
    drop_after: int | None = None

    # -- successful replies

    @classmethod
    def text(
        cls,
        text: str,
        *,
        reasoning: str | list[str] | None = None,
        reasoning_field: str = "reasoning_content",
        signature: str | None = DEFAULT_SIGNATURE,
        chunk_chars: int = 24,
        chunks: list[str] | None = None,
        finish_reason: str = "stop",
        usage: Json | None = None,
        model: str | None = None,
        truncate: bool = False,
        no_done: bool = False,
        error_after: int | None = None,
        delay_s: float = 0.0,
        first_delay_s: float = 0.0,
        drop_after: int | None = None,
    ) -> Reply:
        """A role chunk, reasoning chunks, then text chunks; the last text chunk carries the signature.

        ``truncate`` ends the body cleanly with no finish_reason, signature or [DONE]; ``no_done`` keeps the
        finish_reason but leaves out [DONE]; ``drop_after=N`` aborts the connection after N SSE events;
        ``error_after=N`` sends N delta chunks, then a ``data: {"error": ...}`` event, then ends.
        """
        reasoning_pieces = [reasoning] if isinstance(reasoning, str) else list(reasoning or [])
        text_pieces = list(chunks) if chunks is not None else _split_text(text, chunk_chars)
        deltas: list[Json] = [{"role": "assistant", "content": ""}]
        deltas += [{reasoning_field: piece} for piece in reasoning_pieces]
        deltas += [{"content": piece} for piece in text_pieces]
        if signature is not None and not truncate:
            if not text_pieces:
                deltas.append({"content": ""})
            deltas[-1]["extra_content"] = {"google": {"thought_signature": signature}}
        return cls(
            deltas=deltas,
            finish_reason=None if truncate else finish_reason,
            usage=usage,
            model=model,
            done=not (truncate or no_done),
            error_after=error_after,
            delay_s=delay_s,
            first_delay_s=first_delay_s,
            drop_after=drop_after,
            # Gemini's compatible endpoint also repeats the signature at the top of a non-streamed message.
            message_extra={"thought_signature": signature} if signature is not None else {},
        )

    @classmethod
    def tool_calls(
        cls,
        calls: list[tuple[str, dict[str, Any]]],
        *,
        signature: str | None = DEFAULT_SIGNATURE,
        with_ids: bool = True,
        text_before: str | None = None,
        argument_chars: int | None = None,
        **options: Any,
    ) -> Reply:
        """One delta of tool calls; only the first carries the signature (Gemini's parallel-call rule).

        ``argument_chars=N`` streams as vLLM and OpenAI do instead: a first delta per call with its id, name and
        no arguments, then the arguments strings in N-character pieces, the calls' pieces interleaved by index.
        """
        deltas: list[Json] = [{"role": "assistant", "content": text_before}] if text_before else []
        tool_calls = []
        for index, (name, args) in enumerate(calls):
            call: Json = {
                "index": index,
                "id": f"call_{index + 1}" if with_ids else "",
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(args)},
            }
            if index == 0 and signature is not None:
                call["extra_content"] = {"google": {"thought_signature": signature}}
            tool_calls.append(call)
        if argument_chars is None:
            deltas.append({"role": "assistant", "tool_calls": tool_calls} if not deltas else {"tool_calls": tool_calls})
            return cls(deltas=deltas, finish_reason="tool_calls", **options)
        for call in tool_calls:
            head = {**call, "function": {"name": call["function"]["name"], "arguments": ""}}
            deltas.append({"tool_calls": [head]})
        pieces = [_split_text(call["function"]["arguments"], argument_chars) for call in tool_calls]
        for step in range(max(len(p) for p in pieces)):
            for index, call_pieces in enumerate(pieces):
                if step < len(call_pieces):
                    deltas.append({"tool_calls": [{"index": index, "function": {"arguments": call_pieces[step]}}]})
        return cls(deltas=deltas, finish_reason="tool_calls", **options)

    @classmethod
    def events(cls, chunks: list[Json], *, done: bool = True, **timing: Any) -> Reply:
        """Arbitrary chunk objects, sent exactly as given (no ids, usage or model added), then [DONE]."""
        return cls(chunks=[dict(chunk) for chunk in chunks], done=done, **timing)

    @classmethod
    def completion_object(cls, body: Json, **timing: Any) -> Reply:
        """A non-streamed body sent exactly as given, whatever the request asked for."""
        return cls(completion=body, **timing)

    @classmethod
    def replay(cls, source: str | Path | Json) -> Reply:
        """Serve a recording (tests/wire) byte for byte, whatever the request was."""
        recording = load_recording(source)
        return cls(status=int(recording["response"]["status"]), recording=recording)

    # -- errors

    @classmethod
    def error(
        cls,
        status: int,
        message: str | None = None,
        *,
        type: str | None = None,
        param: str | None = None,
        code: str | None = None,
        retry_after: str | None = None,
        request_id: str | None = None,
        headers: dict[str, str] | None = None,
        **timing: Any,
    ) -> Reply:
        """An error status with the documented body; ``Retry-After`` and ``x-request-id`` when given."""
        extra = dict(headers or {})
        if retry_after is not None:
            extra["Retry-After"] = retry_after
        if request_id is not None:
            extra["x-request-id"] = request_id
        body = error_body(status, message, type=type, param=param, code=code)
        return cls(status=status, error_json=body, headers=extra, **timing)

    @classmethod
    def bad_key(cls) -> Reply:
        return cls.error(401)

    @classmethod
    def rate_limited(cls, retry_after: str | None = "2", **timing: Any) -> Reply:
        message = "Rate limit reached for requests" + (f". Please try again in {retry_after}s." if retry_after else ".")
        return cls.error(429, message, retry_after=retry_after, **timing)

    @classmethod
    def server_error(cls, status: int = 500, *, request_id: str | None = None, **timing: Any) -> Reply:
        return cls.error(status, request_id=request_id or f"req_{secrets.token_hex(12)}", **timing)

    # -- serving

    def merged_message(self) -> Json:
        """The non-streamed form: deltas merged into one assistant message."""
        message: Json = {"role": "assistant"}
        calls: dict[int, Json] = {}
        for delta in self.deltas:
            for key, value in delta.items():
                if key in ("content", "reasoning_content", "reasoning") and isinstance(value, str):
                    message[key] = message.get(key, "") + value
                elif key == "tool_calls":
                    for call in value:
                        merged = calls.setdefault(call.get("index", len(calls)), {})
                        for name, piece in call.items():
                            if name == "function" and "function" in merged:
                                arguments = merged["function"].get("arguments", "") + piece.get("arguments", "")
                                merged["function"] = {**merged["function"], **piece, "arguments": arguments}
                            elif name != "index":
                                merged[name] = piece
                elif key != "role":
                    message[key] = value
        if calls:
            message["tool_calls"] = [calls[index] for index in sorted(calls)]
            message.setdefault("content", None)
        message.update(self.message_extra)
        return message

    def compute_usage(self, prompt_tokens: int, *, up_to: int | None = None) -> Json:
        """OpenAI's shape: completion_tokens counts the answer and the reasoning."""
        if self.usage is not None:
            return json.loads(json.dumps(self.usage))
        deltas = self.deltas[:up_to] if up_to is not None else self.deltas
        answer = sum(
            estimate_tokens(d["content"]) for d in deltas if isinstance(d.get("content"), str) and d["content"]
        )
        reasoning = sum(
            estimate_tokens(d.get("reasoning_content") or d.get("reasoning") or "")
            for d in deltas
            if d.get("reasoning_content") or d.get("reasoning")
        )
        completion = answer + reasoning
        return {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": prompt_tokens + completion,
            "prompt_tokens_details": {"cached_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": reasoning},
        }


# --- the fake ------------------------------------------------------------------------------------------


def _json_out(status: int, body: Any, headers: dict[str, str] | None = None, **timing: Any) -> Outgoing:
    return Outgoing(status, "application/json", [_compact(body).encode("utf-8")], False, dict(headers or {}), **timing)


class FakeOpenAI(ScriptedServer[RecordedRequest, Reply | RawReply]):
    """A scripted OpenAI-compatible API on 127.0.0.1. Use as a context manager or start()/stop().

    ``url`` ends in ``/v1`` (use it as base_url). ``requests`` logs every request; ``server_errors``
    collects the fake's own tracebacks (it never prints).
    """

    request_class = RecordedRequest
    url_suffix = "/v1"
    thread_name = "fake-openai"

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_keys: Iterable[str] = (DEFAULT_API_KEY,),
        default_delay_s: float = 0.0,
        reject_reasoning_effort: bool | Collection[str] = False,
    ) -> None:
        super().__init__(
            host=host, port=port, api_keys=api_keys, default_api_key=DEFAULT_API_KEY, default_delay_s=default_delay_s
        )
        self.reject_reasoning_effort = reject_reasoning_effort
        self.models: list[Json] = [dict(model) for model in DEFAULT_MODELS]
        self._signatures: set[str] = set()  # every signature the fake issued
        self._call_signatures: dict[str, set[str]] = {}  # tool call key -> signatures issued with it

    def completion_requests(self) -> list[RecordedRequest]:
        return self._requests_where(RecordedRequest.is_completion)

    # -- routing

    def _route(self, request: RecordedRequest) -> Outgoing:
        out = self._dispatch(request)
        out.headers.setdefault("x-request-id", f"req_{secrets.token_hex(12)}")
        return out

    def _dispatch(self, request: RecordedRequest) -> Outgoing:
        if self.api_keys:
            if request.api_key is None:
                return _json_out(401, error_body(401, _NO_KEY_MESSAGE, code=None))
            if request.api_key not in self.api_keys:
                shown = request.api_key[:3] + "*" * 4 + request.api_key[-4:] if len(request.api_key) > 8 else "****"
                return _json_out(401, error_body(401, f"Incorrect API key provided: {shown}."))
        path = request.path.rstrip("/")
        if path == "/v1/models" and request.method == "GET":
            return _json_out(200, {"object": "list", "data": self.models})
        if (match := re.fullmatch(r"/v1/models/(.+)", path)) and request.method == "GET":
            for model in self.models:
                if model["id"] == match[1]:
                    return _json_out(200, model)
            return _json_out(404, error_body(404, f"The model `{match[1]}` does not exist."))
        if path == "/v1/chat/completions" and request.method == "POST":
            return self._chat(request)
        message = f"Invalid URL ({request.method} {request.path})"
        return _json_out(404, error_body(404, message, type="invalid_request_error", code=None))

    def _chat(self, request: RecordedRequest) -> Outgoing:
        if problem := self._validate(request):
            return _json_out(400, problem)
        reply = self._next_reply(request)
        if isinstance(reply, RawReply):
            return reply.outgoing()
        if reply.recording is not None:
            return self._replay(reply.recording)
        timing = {"delay_s": reply.delay_s, "first_delay_s": reply.first_delay_s, "drop_after": reply.drop_after}
        if reply.error_json is not None:
            return _json_out(reply.status, reply.error_json, reply.headers, **timing)
        if reply.completion is not None:
            self._remember(reply.completion.get("choices", [{}])[0].get("message"))
            return _json_out(reply.status, reply.completion, reply.headers, **timing)
        model = reply.model or request.model or DEFAULT_MODEL
        ident, created = f"chatcmpl-{secrets.token_urlsafe(18)}", int(time.time())
        if not request.stream:
            message = reply.merged_message()
            self._remember(message)
            body = {
                "id": ident,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "message": message, "finish_reason": reply.finish_reason}],
                "usage": reply.compute_usage(request.prompt_tokens()),
            }
            return _json_out(reply.status, body, reply.headers, **timing)
        chunks = self._stream_chunks(reply, request, ident, created, model)
        segments = [f"data: {_compact(chunk)}\n\n".encode() for chunk in chunks]
        if reply.done and reply.error_after is None:
            segments.append(b"data: [DONE]\n\n")
        headers = {"Cache-Control": "no-cache", **reply.headers}
        return Outgoing(reply.status, "text/event-stream; charset=utf-8", segments, True, headers, **timing)

    def _stream_chunks(
        self, reply: Reply, request: RecordedRequest, ident: str, created: int, model: str
    ) -> list[Json]:
        if reply.chunks is not None:
            return reply.chunks
        self._remember(reply.merged_message())
        deltas = reply.deltas if reply.error_after is None else reply.deltas[: reply.error_after]
        chunks = []
        for index, delta in enumerate(deltas):
            last = index == len(reply.deltas) - 1
            choice = {"index": 0, "delta": delta, "finish_reason": reply.finish_reason if last else None}
            chunks.append(
                {
                    "id": ident,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "choices": [choice],
                }
            )
        if reply.error_after is not None:
            chunks.append(error_body(500))
        elif request.include_usage() and reply.finish_reason is not None:
            usage = reply.compute_usage(request.prompt_tokens())
            header = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model}
            chunks.append({**header, "choices": [], "usage": usage})
        return chunks

    def _handler_failed(self) -> Outgoing:
        return _json_out(500, error_body(500, "fake_openai: the handler failed; see FakeOpenAI.server_errors"))

    def _echo(self, request: RecordedRequest) -> Reply:
        last_text = (request.user_texts() or [""])[-1]
        reasoning = None
        if request.reasoning_effort not in (None, "none", "minimal"):
            reasoning = "The user wants their words back, so I repeat them."
        return Reply.text(f"Echo: {last_text}", reasoning=reasoning, delay_s=self.default_delay_s)

    def _replay(self, recording: Json) -> Outgoing:
        response = recording["response"]
        body: str = response["body_text"]
        content_type = (response.get("headers") or {}).get("content-type", "application/json")
        if content_type.startswith("text/event-stream"):
            pieces = [piece for piece in re.split(r"(?<=\n\n)", body) if piece]
            for piece in pieces:
                with contextlib.suppress(ValueError):
                    chunk = json.loads(piece.removeprefix("data: "))
                    for choice in chunk.get("choices") or []:
                        self._remember(choice.get("delta"))
            return Outgoing(int(response["status"]), content_type, [p.encode() for p in pieces], True)
        with contextlib.suppress(ValueError, AttributeError, IndexError):
            self._remember(json.loads(body)["choices"][0]["message"])
        return Outgoing(int(response["status"]), content_type, [body.encode("utf-8")])

    # -- validation the real endpoints do

    def _validate(self, request: RecordedRequest) -> Json | None:
        body = request.body
        if not isinstance(body, dict):
            return error_body(400, "We could not parse the JSON body of your request.")
        if not isinstance(body.get("model"), str) or not body["model"]:
            return error_body(400, "you must provide a model parameter", param="model")
        if not request.messages:
            return error_body(400, "[] is too short - 'messages'", param="messages")
        for position, message in enumerate(request.messages):
            role = message.get("role") if isinstance(message, dict) else None
            if role not in ("system", "developer", "user", "assistant", "tool"):
                allowed = "'system', 'assistant', 'user', 'tool' and 'developer'"
                message_text = f"Invalid value: '{role}'. Supported values are: {allowed}."
                return error_body(400, message_text, param=f"messages.[{position}].role")
            if role != "assistant" and "content" not in message:
                name = f"messages.[{position}].content"
                return error_body(400, f"Missing required parameter: '{name}'.", param=name, code="missing_parameter")
        if "stream_options" in body and body.get("stream") is not True:
            message_text = "The 'stream_options' parameter is only allowed when 'stream' is enabled."
            return error_body(400, message_text, param="stream_options")
        if "reasoning_effort" in body:
            effort, rejected = body["reasoning_effort"], self.reject_reasoning_effort
            if rejected is True or (not isinstance(rejected, bool) and effort in rejected):
                message_text = "Unrecognized request argument supplied: reasoning_effort"
                return error_body(400, message_text, param="reasoning_effort")
            if effort not in REASONING_EFFORTS:
                allowed = ", ".join(f"'{level}'" for level in REASONING_EFFORTS)
                message_text = f"Invalid value: '{effort}'. Supported values are: {allowed}."
                return error_body(400, message_text, param="reasoning_effort", code="invalid_value")
        return self._check_tool_answers(request) or self._check_signatures(request)

    def _check_tool_answers(self, request: RecordedRequest) -> Json | None:
        """OpenAI's rules: each tool call id of an assistant message answered by the tool messages right after it,
        and every tool message answering one of them."""
        messages = [m for m in request.messages if isinstance(m, dict)]
        for position, message in enumerate(messages):
            if message.get("role") == "tool":
                earlier = position - 1
                while earlier >= 0 and messages[earlier].get("role") == "tool":
                    earlier -= 1
                if not isinstance(message.get("tool_call_id"), str) or not message["tool_call_id"]:
                    text = "Missing parameter 'tool_call_id': messages with role 'tool' must have a 'tool_call_id'."
                    return error_body(400, text, param=f"messages.[{position}].tool_call_id")
                if earlier < 0 or not messages[earlier].get("tool_calls"):
                    text = (
                        "Invalid parameter: messages with role 'tool' must be a response to a preceeding message "
                        "with 'tool_calls'."
                    )
                    return error_body(400, text, param=f"messages.[{position}].role")
            if message.get("role") != "assistant" or not message.get("tool_calls"):
                continue
            answered, following = set(), position + 1
            while following < len(messages) and messages[following].get("role") == "tool":
                answered.add(messages[following].get("tool_call_id"))
                following += 1
            ids = [call.get("id") for call in message["tool_calls"] if isinstance(call, dict)]
            missing = [str(ident) for ident in ids if ident not in answered]
            if missing:
                text = (
                    "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
                    f"'tool_call_id'. The following tool_call_ids did not have response messages: {', '.join(missing)}"
                )
                return error_body(400, text, param=f"messages.[{following}].role")
        return None

    def _check_signatures(self, request: RecordedRequest) -> Json | None:
        with self._lock:
            issued, by_call = set(self._signatures), {key: set(values) for key, values in self._call_signatures.items()}
        for position, message in enumerate(request.messages):
            if not isinstance(message, dict) or message.get("role") != "assistant":
                continue
            sent = _signatures_in(message)
            if any(signature not in issued for signature in sent):
                return error_body(400, "Corrupted thought signature.", param=f"messages.[{position}]")
            for call in message.get("tool_calls") or []:
                expected = by_call.get(_call_key(call))
                if expected and not expected & set(sent):
                    name = (call.get("function") or {}).get("name")
                    return error_body(
                        400,
                        f"Function call is missing a thought_signature in functionCall parts. This is required for "
                        f"tools to work correctly. Additional data, function call `default_api:{name}` , position "
                        f"{position + 1}. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures.",
                        param=f"messages.[{position}].tool_calls",
                    )
        return None

    def _remember(self, message: Any) -> None:
        """Note the signatures a reply carries (and which tool calls they belong to)."""
        if not isinstance(message, dict):
            return
        signatures = _signatures_in(message)
        top = message.get("thought_signature")
        with self._lock:
            self._signatures.update(signatures)
            if isinstance(top, str):
                self._signatures.add(top)
            # Only a signature on the call itself makes it required back (Gemini 3); Gemini 2.5 put one on the
            # message and accepted the call without it (the recordings show that history succeeding).
            for call in message.get("tool_calls") or []:
                extra = call.get("extra_content") if isinstance(call, dict) else None
                own = _signatures_in({"extra_content": extra}) if isinstance(extra, dict) else []
                if own and _call_key(call):
                    self._call_signatures.setdefault(_call_key(call), set()).update(own)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m flashchat.testing.fake_openai",
        description="Serve a fake OpenAI-compatible API that echoes the last user message (demos, screenshots).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--delay", type=float, default=0.03, help="seconds between streamed chunks")
    parser.add_argument("--api-key", action="append", help=f"accepted key (repeatable; default {DEFAULT_API_KEY})")
    parser.add_argument("--no-key", action="store_true", help="accept requests without a key, like a local server")
    args = parser.parse_args(argv)
    keys = () if args.no_key else (args.api_key or [DEFAULT_API_KEY])
    fake = FakeOpenAI(host=args.host, port=args.port, api_keys=keys, default_delay_s=args.delay)
    fake.serve_until_interrupted()
    return 0


if __name__ == "__main__":
    sys.exit(main())
