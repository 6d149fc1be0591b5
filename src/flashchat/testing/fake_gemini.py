"""A fake Gemini Developer API server for tests, benchmarks and screenshots.

No machine running the test suite can reach Google, and mocking the SDK would hide exactly the bugs that
matter (signature encoding, SSE framing, mid-stream drops). So the real ``google-genai`` client talks to
this server over real HTTP on 127.0.0.1. The wire format copies recorded traffic from the real API (see
``tests/wire`` and its CATALOG.md): ``data: <json>\\r\\n\\r\\n`` SSE events with Google's JSON spacing, usage as a
running total on every chunk, google.rpc error bodies, and the 400s the real API gives for a missing
thought signature or for setting both a thinking level and a budget.

Standard library only, and it never imports ``google.genai``: benchmarks use it to time the client alone.

    with FakeGemini() as fake:
        fake.enqueue(Reply.text("Hello", thoughts="**Plan**\\n\\nSay hello."))
        client = genai.Client(api_key=fake.api_key, http_options=HttpOptions(base_url=fake.url))

Generate calls take the next queued ``Reply``, else ``responder(request)``, else an echo of the last user
message. Model names are not checked on generate calls (enqueue ``Reply.error(404)`` for that case); the
fake remembers every signed functionCall it sent and rejects histories that drop or alter the signature.
``inline_data`` and ``file_data`` parts are checked and counted, and ``fake.files`` is the Files API (uploads
as the SDK speaks them, 48-hour expiry, ``fake.files.expire()``): see testing/fake_files.py.

Run ``python -m flashchat.testing.fake_gemini [--port N] [--delay S]`` for an echo server to demo against.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import re
import secrets
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flashchat.testing._scripted_server import Outgoing, RawReply, ReceivedRequest, ScriptedServer, load_recording
from flashchat.testing.fake_files import FakeFiles, first_spelling

Json = dict[str, Any]

# Not valid UTF-8 and encodes with both "+" and "/" in standard base64, so a client that compares
# signature strings instead of bytes, or mangles them through text, fails loudly.
DEFAULT_SIGNATURE = b"\xfa\xfb\xfc-flashchat-fake-signature-\xff\xfe"
DEFAULT_MODEL = "gemini-3.5-flash"
DEFAULT_API_KEY = "test-key"

_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_DEFAULT_MESSAGES = {
    400: "Request contains an invalid argument.",
    401: "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or "
    "other valid authentication credential. See "
    "https://developers.google.com/identity/sign-in/web/devconsole-project.",
    403: "The caller does not have permission",
    429: "You exceeded your current quota, please check your plan and billing details. For more "
    "information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
    500: "An internal error has occurred. Please retry or report in "
    "https://developers.generativeai.google/guide/troubleshooting",
    503: "The model is overloaded. Please try again later.",
    504: "Deadline expired before operation could complete.",
}
_BAD_KEY_MESSAGE = "API key not valid. Please pass a valid API key."
_UNREGISTERED_MESSAGE = (
    "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or "
    "other form of API consumer identity to call this API."
)
_MISSING_SIGNATURE_MESSAGE = (
    "Function call is missing a thought_signature in functionCall parts. This is required for tools to "
    "work correctly, and missing thought_signature may lead to degraded model performance. Additional "
    "data, function call `default_api:{name}` , position {position}. Please refer to "
    "https://ai.google.dev/gemini-api/docs/thought-signatures for more details."
)
_SAFETY_RATINGS = [
    {"category": "HARM_CATEGORY_HARASSMENT", "probability": "HIGH", "blocked": True},
    {"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_SEXUALLY_EXPLICIT", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "NEGLIGIBLE"},
]
_GENERATE_METHODS = ["generateContent", "countTokens", "createCachedContent", "batchGenerateContent"]


def _model_info(name: str, display_name: str, version: str, description: str, **overrides: Any) -> Json:
    info = {
        "name": f"models/{name}",
        "version": version,
        "displayName": display_name,
        "description": description,
        "inputTokenLimit": 1048576,
        "outputTokenLimit": 65536,
        "supportedGenerationMethods": _GENERATE_METHODS,
        "temperature": 1,
        "topP": 0.95,
        "topK": 64,
        "maxTemperature": 2,
        "thinking": True,
    }
    return info | overrides


DEFAULT_MODELS: list[Json] = [
    _model_info("gemini-3.5-flash", "Gemini 3.5 Flash", "3.5", "Fast, frontier-class multimodal model."),
    _model_info("gemini-3-flash-preview", "Gemini 3 Flash Preview", "3.0", "Preview of Gemini 3 Flash."),
    _model_info("gemini-3-pro-preview", "Gemini 3 Pro Preview", "3.0", "Preview of Gemini 3 Pro."),
    _model_info("gemini-2.5-flash", "Gemini 2.5 Flash", "001", "Stable version of Gemini 2.5 Flash."),
    _model_info("gemini-2.5-flash-lite", "Gemini 2.5 Flash-Lite", "001", "Stable Gemini 2.5 Flash-Lite."),
    _model_info(
        "gemini-embedding-001",
        "Gemini Embedding 001",
        "001",
        "Obtain a distributed representation of a text.",
        inputTokenLimit=2048,
        outputTokenLimit=1,
        supportedGenerationMethods=["embedContent", "countTextTokens", "countTokens"],
        thinking=False,
    ),
]


# --- small helpers -------------------------------------------------------------------------------------


def encode_signature(signature: bytes) -> str:
    """Standard base64, as the real server sends it (the SDK answers with the URL-safe alphabet)."""
    return base64.b64encode(signature).decode("ascii")


def decode_signature(value: str) -> bytes | None:
    """Decode either base64 alphabet, padded or not; None when it is not base64 at all."""
    text = value.strip().replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def estimate_tokens(text: str) -> int:
    return max(1, len(text) // 4)


def _sse_json(obj: Any) -> str:
    # Google's spacing: a space after ":" but none after ",".
    return json.dumps(obj, separators=(",", ": "), ensure_ascii=False)


def _pretty_json(obj: Any) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False)


_first = first_spelling  # the value under the first spelling present (camelCase or snake_case)


def _texts(content: Any) -> list[str]:
    parts = _first(content, "parts") or []
    return [part["text"] for part in parts if isinstance(part, dict) and isinstance(part.get("text"), str)]


def _call_key(call: Json) -> str:
    return f"{call.get('name')}\x00{json.dumps(call.get('args') or {}, sort_keys=True, separators=(',', ':'))}"


def _split_text(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), max(1, size))]


def _candidate_chunk(parts: list[Json] | None, finish_reason: str | None = None, **extra: Any) -> Json:
    candidate: Json = {"content": {"parts": parts, "role": "model"} if parts is not None else {}}
    if finish_reason:
        candidate["finishReason"] = finish_reason
    candidate["index"] = 0
    return {"candidates": [candidate | extra]}


def _error_body(code: int, status: str | None, message: str | None, details: list[Json] | None) -> Json:
    error: Json = {"code": code, "message": message, "status": status or _STATUS_NAMES.get(code, "UNKNOWN")}
    if details:
        error["details"] = details
    return {"error": error}


# --- requests and replies ------------------------------------------------------------------------------


class RecordedRequest(ReceivedRequest):
    """One HTTP request as the fake received it (every route, including rejected ones)."""

    @property
    def contents(self) -> list[Json]:
        contents = self.body.get("contents") if isinstance(self.body, dict) else None
        return contents if isinstance(contents, list) else []

    @property
    def model(self) -> str | None:
        match = re.search(r"/models/([^/:]+)", self.path)
        return match.group(1) if match else None

    @property
    def api_key(self) -> str | None:
        return self.headers.get("x-goog-api-key") or self.query.get("key")

    def is_generate(self) -> bool:
        return self.path.endswith((":streamGenerateContent", ":generateContent"))

    def thinking_config(self) -> Json:
        config = _first(self.body, "generationConfig", "generation_config")
        return _first(config, "thinkingConfig", "thinking_config") or {}

    def thinking_level(self) -> str | None:
        """The thinking level exactly as sent, e.g. "HIGH"."""
        return _first(self.thinking_config(), "thinkingLevel", "thinking_level")

    def include_thoughts(self) -> bool:
        return bool(_first(self.thinking_config(), "includeThoughts", "include_thoughts"))

    def user_texts(self) -> list[str]:
        """The text of each user turn that has text (function responses are skipped)."""
        texts = ["".join(_texts(c)) for c in self.contents if c.get("role", "user") == "user"]
        return [text for text in texts if text]

    def prompt_tokens(self) -> int:
        system = _first(self.body, "systemInstruction", "system_instruction")
        texts = [t for c in [*self.contents, system] for t in _texts(c)]
        return estimate_tokens("".join(texts))


@dataclass
class Reply:
    """What the fake answers to one generate call. Build it with the classmethods.

    ``chunks`` are the response objects in order. When ``progress`` is set (one running
    (candidates, thoughts) token estimate per chunk), each chunk gets ``usageMetadata``,
    ``modelVersion`` and ``responseId`` when it is served, since the prompt size is only known then.
    """

    status: int = 200
    chunks: list[Json] = field(default_factory=list)
    progress: list[tuple[int, int]] | None = None
    usage: dict[str, int] | None = None
    model_version: str = DEFAULT_MODEL
    error_body: Json | None = None
    recording: Json | None = None
    delay_s: float = 0.0
    first_delay_s: float = 0.0
    drop_after: int | None = None

    # -- successful replies

    @classmethod
    def text(
        cls,
        text: str,
        *,
        thoughts: str | list[str] | None = None,
        signature: bytes | None = DEFAULT_SIGNATURE,
        chunk_chars: int = 24,
        chunks: list[str] | None = None,
        finish_reason: str = "STOP",
        usage: dict[str, int] | None = None,
        model_version: str = DEFAULT_MODEL,
        delay_s: float = 0.0,
        first_delay_s: float = 0.0,
        drop_after: int | None = None,
        truncate: bool = False,
        signature_on_empty_part: bool = True,
        error_after: int | None = None,
    ) -> Reply:
        """Thought chunks, text chunks, then ``{"text": "", "thoughtSignature": ...}`` with finishReason.

        ``truncate`` ends the body cleanly without finishReason or signature; ``drop_after=N`` aborts the
        connection after N chunks; ``error_after=N`` sends N chunks then a ``data: {"error": ...}`` event.
        """
        thought_pieces = [thoughts] if isinstance(thoughts, str) else list(thoughts or [])
        text_pieces = list(chunks) if chunks is not None else _split_text(text, chunk_chars)
        parts = [[{"text": t, "thought": True}] for t in thought_pieces] + [[{"text": t}] for t in text_pieces]
        progress, answered, thought = [], 0, 0
        for piece in parts:
            if piece[0].get("thought"):
                thought += estimate_tokens(piece[0]["text"])
            else:
                answered += estimate_tokens(piece[0]["text"])
            progress.append((answered, thought))
        finish: str | None = None
        if not truncate:
            finish = finish_reason
            if signature_on_empty_part or not text_pieces:
                parts.append([{"text": ""}])
                progress.append((answered, thought))
            if signature is not None:
                parts[-1][-1]["thoughtSignature"] = encode_signature(signature)
        built = [_candidate_chunk(p, finish if i == len(parts) - 1 else None) for i, p in enumerate(parts)]
        reply = cls(
            chunks=built,
            progress=progress,
            usage=usage,
            model_version=model_version,
            delay_s=delay_s,
            first_delay_s=first_delay_s,
            drop_after=drop_after,
        )
        return reply._with_error_after(error_after) if error_after is not None else reply

    @classmethod
    def function_calls(
        cls,
        calls: list[tuple[str, dict[str, Any]]],
        *,
        text_before: str | None = None,
        thoughts: str | None = None,
        signature: bytes | None = DEFAULT_SIGNATURE,
        with_ids: bool = True,
        finish_chunk: bool = False,
        **options: Any,
    ) -> Reply:
        """One chunk of functionCall parts; only the first carries the signature (Gemini's parallel rule).

        ``finish_chunk=True`` sends finishReason in a trailing ``{"text": ""}`` chunk instead, which is
        what recorded Gemini 3 streams do. ``options`` are Reply fields (usage, delay_s, drop_after, ...).
        """
        chunks: list[Json] = []
        progress: list[tuple[int, int]] = []
        answered = 0
        thought = estimate_tokens(thoughts) if thoughts else 0
        if thoughts:
            chunks.append(_candidate_chunk([{"text": thoughts, "thought": True}]))
            progress.append((0, thought))
        if text_before:
            answered += estimate_tokens(text_before)
            chunks.append(_candidate_chunk([{"text": text_before}]))
            progress.append((answered, thought))
        call_parts = []
        for number, (name, args) in enumerate(calls, start=1):
            call: Json = {"name": name, "args": args}
            if with_ids:
                call["id"] = f"fc-{number}"
            part: Json = {"functionCall": call}
            if number == 1 and signature is not None:
                part["thoughtSignature"] = encode_signature(signature)
            call_parts.append(part)
            answered += estimate_tokens(name + json.dumps(args))
        chunks.append(_candidate_chunk(call_parts, None if finish_chunk else "STOP"))
        progress.append((answered, thought))
        if finish_chunk:
            chunks.append(_candidate_chunk([{"text": ""}], "STOP"))
            progress.append((answered, thought))
        return cls(chunks=chunks, progress=progress, **options)

    @classmethod
    def safety(cls, *, text: str | None = None, ratings: list[Json] | None = None, **options: Any) -> Reply:
        """Optional text chunks, then a candidate with ``content: {}`` and finishReason SAFETY."""
        partial = cls.text(text or "", signature=None, truncate=True)
        final = _candidate_chunk(None, "SAFETY", safetyRatings=ratings or _SAFETY_RATINGS)
        progress = partial.progress or []
        progress = [*progress, progress[-1] if progress else (0, 0)]
        return cls(chunks=[*partial.chunks, final], progress=progress, **options)

    @classmethod
    def max_tokens_no_parts(cls, **options: Any) -> Reply:
        """finishReason MAX_TOKENS whose content has a role but no parts (thinking used the budget)."""
        chunk = {"candidates": [{"content": {"role": "model"}, "finishReason": "MAX_TOKENS", "index": 0}]}
        return cls(chunks=[chunk], progress=[(0, 0)], **options)

    @classmethod
    def blocked_prompt(cls, reason: str = "SAFETY", **options: Any) -> Reply:
        """promptFeedback.blockReason and no candidates at all."""
        chunk = {"promptFeedback": {"blockReason": reason, "safetyRatings": _SAFETY_RATINGS}}
        return cls(chunks=[chunk], progress=[(0, 0)], **options)

    @classmethod
    def events(cls, chunks: list[Json], **timing: Any) -> Reply:
        """Arbitrary response objects, sent exactly as given (no usage or ids added)."""
        return cls(chunks=[dict(chunk) for chunk in chunks], **timing)

    @classmethod
    def replay(cls, source: str | Path | Json) -> Reply:
        """Serve a recording (tests/wire) byte for byte, whatever the request was."""
        recording = load_recording(source)
        return cls(status=int(recording["response"]["status"]), recording=recording)

    # -- errors

    @classmethod
    def error(
        cls,
        code: int,
        *,
        status: str | None = None,
        message: str | None = None,
        reason: str | None = None,
        retry_delay: str | None = None,
        details: list[Json] | None = None,
        **timing: Any,
    ) -> Reply:
        """A google.rpc error body. A 404 without a message gets the real "models/X is not found" text."""
        details = list(details or [])
        if reason:
            details.append(
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": reason,
                    "domain": "googleapis.com",
                    "metadata": {"service": "generativelanguage.googleapis.com"},
                }
            )
        if retry_delay:
            details.append({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay})
        message = message if message is not None else _DEFAULT_MESSAGES.get(code)
        return cls(status=code, error_body=_error_body(code, status, message, details), **timing)

    @classmethod
    def bad_key(cls) -> Reply:
        """What the real API answers to an unknown key: 400 (not 401) with reason API_KEY_INVALID."""
        reply = cls.error(400, message=_BAD_KEY_MESSAGE, reason="API_KEY_INVALID")
        assert reply.error_body is not None
        localized = {"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": "en-US"}
        reply.error_body["error"]["details"].append(localized | {"message": _BAD_KEY_MESSAGE})
        return reply

    @classmethod
    def rate_limited(cls, retry_delay: str | None = "2s", **timing: Any) -> Reply:
        seconds = retry_delay.removesuffix("s") if retry_delay else None
        message = _DEFAULT_MESSAGES[429] + (f"\n* Please retry in {seconds}s." if seconds else "")
        details: list[Json] = [
            {
                "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [
                    {
                        "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                        "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                        "quotaDimensions": {"location": "global", "model": DEFAULT_MODEL},
                        "quotaValue": "10",
                    }
                ],
            },
            {
                "@type": "type.googleapis.com/google.rpc.Help",
                "links": [
                    {
                        "description": "Learn more about Gemini API quotas",
                        "url": "https://ai.google.dev/gemini-api/docs/rate-limits",
                    }
                ],
            },
        ]
        return cls.error(429, message=message, retry_delay=retry_delay, details=details, **timing)

    @classmethod
    def server_error(cls, code: int = 500, **timing: Any) -> Reply:
        return cls.error(code, **timing)

    # -- serving

    def _with_error_after(self, count: int) -> Reply:
        self.chunks = [*self.chunks[:count], _error_body(500, None, _DEFAULT_MESSAGES[500], None)]
        if self.progress is not None:
            self.progress = self.progress[:count]
        return self

    def render(self, prompt_tokens: int, response_id: str) -> list[Json]:
        """The chunks to send, with running-total usage filled in."""
        if self.progress is None:
            return [dict(chunk) for chunk in self.chunks]
        final = self.progress[-1] if self.progress else (0, 0)
        rendered = []
        for index, chunk in enumerate(self.chunks):
            if "error" in chunk or index >= len(self.progress):
                rendered.append(dict(chunk))
                continue
            usage = self._usage(prompt_tokens, self.progress[index], final)
            extra = {"usageMetadata": usage, "modelVersion": self.model_version, "responseId": response_id}
            rendered.append(chunk | extra)
        return rendered

    def _usage(self, prompt_estimate: int, marks: tuple[int, int], final: tuple[int, int]) -> Json:
        explicit = self.usage or {}

        def scaled(name: str, mark: int, final_mark: int) -> int:
            if name not in explicit:
                return mark
            if mark >= final_mark:
                return explicit[name]
            return explicit[name] * mark // final_mark

        prompt = explicit.get("prompt", prompt_estimate)
        candidates = scaled("candidates", marks[0], final[0])
        thoughts = scaled("thoughts", marks[1], final[1])
        tool_use = explicit.get("tool_use", 0)
        # Like the real server, zero counts are left out rather than sent as 0.
        usage: Json = {"promptTokenCount": prompt}
        if candidates:
            usage["candidatesTokenCount"] = candidates
        usage["totalTokenCount"] = prompt + candidates + thoughts + tool_use
        if explicit.get("cached"):
            usage["cachedContentTokenCount"] = explicit["cached"]
        usage["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": prompt}]
        if thoughts:
            usage["thoughtsTokenCount"] = thoughts
        if tool_use:
            usage["toolUsePromptTokenCount"] = tool_use
        return usage


def merge_chunks(chunks: list[Json]) -> Json:
    """The non-streaming form: one object, text deltas joined, the last usage and finishReason."""
    merged: Json = {}
    candidate: Json | None = None
    shell: Json = {}
    parts: list[Json] = []
    for chunk in chunks:
        merged.update({key: value for key, value in chunk.items() if key != "candidates"})
        if not chunk.get("candidates"):
            continue
        current = chunk["candidates"][0]
        candidate = (candidate or {}) | {key: value for key, value in current.items() if key != "content"}
        content = current.get("content") or {}
        shell = {key: value for key, value in content.items() if key != "parts"}
        for part in content.get("parts") or []:
            previous = parts[-1] if parts else None
            joinable = (
                previous is not None
                and isinstance(part.get("text"), str)
                and isinstance(previous.get("text"), str)
                and bool(part.get("thought")) == bool(previous.get("thought"))
                and "thoughtSignature" not in previous
            )
            if joinable and previous is not None:
                # The final empty signed part folds into the text, as in real non-streamed replies.
                previous["text"] += part["text"]
                if "thoughtSignature" in part:
                    previous["thoughtSignature"] = part["thoughtSignature"]
            else:
                parts.append(dict(part))
    if candidate is None:
        return merged
    content = {"parts": parts, "role": "model"} if parts else shell
    return {"candidates": [{"content": content, **candidate}], **merged}


# --- HTTP ----------------------------------------------------------------------------------------------


def _json_response(status: int, body: Json, **kwargs: Any) -> Outgoing:
    data = _pretty_json(body).encode("utf-8")
    return Outgoing(status, "application/json; charset=UTF-8", [data], **kwargs)


def _rpc_error(code: int, message: str) -> Outgoing:
    return _json_response(code, _error_body(code, None, message, None))


# --- the fake ------------------------------------------------------------------------------------------


_RESPONSE_COUNT_MESSAGE = (
    "Please ensure that the number of function response parts is equal to the number of function call parts of "
    "the function call turn."
)


def _unanswered_calls(contents: list[Json]) -> str | None:
    """The API's check: a model turn's function calls are each answered by the turn right after it."""
    for position, content in enumerate(contents):
        parts = content.get("parts") or [] if isinstance(content, dict) else []
        calls = sum(1 for part in parts if _first(part, "functionCall", "function_call") is not None)
        if content.get("role") != "model" or not calls:
            continue
        following = contents[position + 1] if position + 1 < len(contents) else {}
        answers = sum(
            1 for part in following.get("parts") or [] if _first(part, "functionResponse", "function_response")
        )
        if following and answers != calls:
            return _RESPONSE_COUNT_MESSAGE
    return None


class FakeGemini(ScriptedServer[RecordedRequest, Reply | RawReply]):
    """A scripted Gemini Developer API on 127.0.0.1. Use as a context manager or start()/stop().

    Generate calls take replies from a FIFO (``enqueue``), then ask ``responder``, then echo the last
    user message. ``requests`` logs every request; ``server_errors`` collects the fake's own tracebacks
    (it never prints).
    """

    request_class = RecordedRequest
    thread_name = "fake-gemini"

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_keys: Iterable[str] = (DEFAULT_API_KEY,),
        default_delay_s: float = 0.0,
    ) -> None:
        super().__init__(
            host=host, port=port, api_keys=api_keys, default_api_key=DEFAULT_API_KEY, default_delay_s=default_delay_s
        )
        self.models: list[Json] = [dict(model) for model in DEFAULT_MODELS]
        self.files = FakeFiles()  # the Files API: uploads, metadata, expiry
        self._signatures: dict[str, set[bytes]] = {}  # functionCall key -> signatures the fake issued

    def generate_requests(self) -> list[RecordedRequest]:
        return self._requests_where(RecordedRequest.is_generate)

    # -- routing

    def _route(self, request: RecordedRequest) -> Outgoing:
        key = request.api_key
        if "upload_id" in request.query:  # an upload's chunks: the session id in the URL is the credential
            return self._files_route(request) or _rpc_error(404, "Requested entity was not found.")
        if not key:
            return _rpc_error(403, _UNREGISTERED_MESSAGE)
        if key not in self.api_keys:
            return self._error_response(Reply.bad_key(), request)
        if files_route := self._files_route(request):
            return files_route
        match = re.search(r"(?:^|/)models(?:/([^/:]+)(?::(\w+))?)?/?$", request.path)
        model, method = (match.group(1), match.group(2)) if match else (None, None)
        if request.method == "POST" and request.raw and request.body is None:
            return _rpc_error(400, "Invalid JSON payload received. Unexpected token.")
        if match and request.method == "GET" and method is None:
            return self._get_model(model, request) if model else self._list_models(request)
        if match and request.method == "POST" and method in ("streamGenerateContent", "generateContent"):
            return self._generate(request, stream=method == "streamGenerateContent")
        if match and request.method == "POST" and method == "countTokens":
            if problem := self.files.check_parts(request.contents):
                return _rpc_error(*problem)
            texts = [t for content in request.contents for t in _texts(content)]
            total = len("".join(texts)) // 4 + self.files.tokens(request.contents)
            details = [{"modality": "TEXT", "tokenCount": total}]
            return _json_response(200, {"totalTokens": total, "promptTokensDetails": details})
        return _rpc_error(404, "Requested entity was not found.")

    def _files_route(self, request: RecordedRequest) -> Outgoing | None:
        """The Files API (testing/fake_files.py): upload sessions, their chunks, and file metadata."""
        if request.method == "POST" and re.search(r"(?:^|/)upload/v\w+/files$", request.path):
            if "upload_id" in request.query:
                data, request.raw = request.raw, b""  # the bytes are hashed, not kept
                status, body, headers = self.files.chunk(request.query, request.headers, data, self.url)
            else:
                status, body, headers = self.files.start(request.headers, request.body, self.url)
            return _json_response(status, body, headers=headers)
        named = re.search(r"(?:^|/)v\w+/(files/[\w-]+)$", request.path)
        if named and request.method == "GET":
            status, body = self.files.get(named.group(1), self.url)
            return _json_response(status, body)
        return None

    def _list_models(self, request: RecordedRequest) -> Outgoing:
        size = int(request.query.get("pageSize") or 50)
        start = int(request.query.get("pageToken") or 0)
        body: Json = {"models": self.models[start : start + size]}
        if start + size < len(self.models):
            body["nextPageToken"] = str(start + size)
        return _json_response(200, body)

    def _get_model(self, model: str, request: RecordedRequest) -> Outgoing:
        for info in self.models:
            if info["name"] == f"models/{model}":
                return _json_response(200, info)
        return self._error_response(Reply.error(404), request, method="get")

    def _error_response(self, reply: Reply, request: RecordedRequest, method: str | None = None) -> Outgoing:
        body = json.loads(json.dumps(reply.error_body))
        if body["error"].get("message") is None:
            version = re.search(r"/(v\d\w*)/", request.path)
            method = method or request.path.rpartition(":")[2]
            body["error"]["message"] = (
                f"models/{request.model} is not found for API version {version[1] if version else 'v1'}, "
                f"or is not supported for {method}. Call ListModels to see the list of available models "
                "and their supported methods."
            )
        return _json_response(reply.status, body, first_delay_s=reply.first_delay_s)

    def _generate(self, request: RecordedRequest, *, stream: bool) -> Outgoing:
        if problem := self._validate(request):
            return _rpc_error(400, problem)
        if gone := self.files.check_parts(request.contents):
            return _rpc_error(*gone)
        reply = self._next_reply(request)
        if isinstance(reply, RawReply):
            return reply.outgoing()
        if reply.recording is not None:
            return self._replay(reply.recording, request)
        if reply.error_body is not None:
            return self._error_response(reply, request)
        prompt_tokens = request.prompt_tokens() + self.files.tokens(request.contents)
        chunks = reply.render(prompt_tokens, secrets.token_urlsafe(17)[:23])
        self._remember_signatures(chunks)
        timing = {"delay_s": reply.delay_s, "first_delay_s": reply.first_delay_s, "drop_after": reply.drop_after}
        if not stream:
            if errors := [chunk for chunk in chunks if "error" in chunk]:
                return _json_response(errors[0]["error"]["code"], errors[0], **timing)
            return _json_response(reply.status, merge_chunks(chunks), **timing)
        if request.query.get("alt") == "sse":
            segments = [f"data: {_sse_json(chunk)}\r\n\r\n".encode() for chunk in chunks]
            headers = {"Content-Disposition": "attachment"}
            return Outgoing(reply.status, "text/event-stream", segments, True, headers, **timing)
        # Without alt=sse the server streams one JSON array of pretty-printed objects.
        pieces = [("[" if i == 0 else ",\r\n") + _pretty_json(chunk) + "\n" for i, chunk in enumerate(chunks)]
        segments = [piece.encode() for piece in [*pieces, "]" if chunks else "[]"]]
        return Outgoing(reply.status, "application/json; charset=UTF-8", segments, True, **timing)

    def _handler_failed(self) -> Outgoing:
        return _rpc_error(500, "fake_gemini: the handler failed; see FakeGemini.server_errors")

    def _echo(self, request: RecordedRequest) -> Reply:
        last_text = (request.user_texts() or [""])[-1]
        thoughts = None
        if request.include_thoughts():
            thoughts = "**Echoing the message**\n\nThe user wants their words back, so I repeat them.\n\n"
        return Reply.text(f"Echo: {last_text}", thoughts=thoughts, delay_s=self.default_delay_s)

    def _replay(self, recording: Json, request: RecordedRequest) -> Outgoing:
        response = recording["response"]
        body: str = response["body_text"]
        content_type = (response.get("headers") or {}).get("content-type", "application/json; charset=UTF-8")
        sse = content_type.startswith("text/event-stream")
        streamed = sse or (body.startswith("[") and request.path.endswith(":streamGenerateContent"))
        if sse:  # one HTTP chunk per event, so the client sees it arrive as a stream
            pieces = [piece for piece in re.split(r"(?<=\r\n\r\n)", body) if piece]
        elif streamed:
            pieces = [piece for piece in re.split(r"(?=,\r\n)", body) if piece]
        else:
            pieces = [body]
        try:
            if sse:
                parsed = [json.loads(p.removeprefix("data: ")) for p in pieces if p.startswith("data: {")]
            else:
                parsed = json.loads(body)
            self._remember_signatures(parsed if isinstance(parsed, list) else [parsed])
        except ValueError:
            pass  # a replay is served as recorded, parsable or not
        segments = [piece.encode("utf-8") for piece in pieces]
        return Outgoing(int(response["status"]), content_type, segments, streamed=streamed)

    # -- validation the real API does

    def _validate(self, request: RecordedRequest) -> str | None:
        thinking = request.thinking_config()
        level = _first(thinking, "thinkingLevel", "thinking_level")
        budget = _first(thinking, "thinkingBudget", "thinking_budget")
        if level is not None and budget is not None:
            return "You can only set only one of thinking budget and thinking level."
        if problem := _unanswered_calls(request.contents):
            return problem
        with self._lock:
            issued = {key: set(values) for key, values in self._signatures.items()}
        for position, content in enumerate(request.contents, start=1):
            if content.get("role") != "model":
                continue
            sent: dict[str, list[bytes | None]] = {}
            names: dict[str, str] = {}
            for part in content.get("parts") or []:
                call = _first(part, "functionCall", "function_call")
                if not isinstance(call, dict):
                    continue
                signature = _first(part, "thoughtSignature", "thought_signature")
                key = _call_key(call)
                sent.setdefault(key, []).append(decode_signature(signature) if signature else None)
                names[key] = str(call.get("name"))
            for key, signatures in sent.items():
                expected = issued.get(key)
                if not expected or expected & set(signatures):
                    continue
                if any(signature is not None for signature in signatures):
                    return "Corrupted thought signature."
                return _MISSING_SIGNATURE_MESSAGE.format(name=names[key], position=position)
        return None

    def _remember_signatures(self, chunks: list[Any]) -> None:
        for chunk in chunks:
            for candidate in (chunk.get("candidates") or []) if isinstance(chunk, dict) else []:
                for part in (candidate.get("content") or {}).get("parts") or []:
                    call, signature = part.get("functionCall"), part.get("thoughtSignature")
                    decoded = decode_signature(signature) if isinstance(signature, str) else None
                    if isinstance(call, dict) and decoded is not None:
                        with self._lock:
                            self._signatures.setdefault(_call_key(call), set()).add(decoded)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m flashchat.testing.fake_gemini",
        description="Serve a fake Gemini API that echoes the last user message (for demos and screenshots).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--delay", type=float, default=0.03, help="seconds between streamed chunks")
    parser.add_argument("--api-key", action="append", help=f"accepted key (repeatable; default {DEFAULT_API_KEY})")
    args = parser.parse_args(argv)
    fake = FakeGemini(
        host=args.host, port=args.port, api_keys=args.api_key or [DEFAULT_API_KEY], default_delay_s=args.delay
    )
    fake.serve_until_interrupted()
    return 0


if __name__ == "__main__":
    sys.exit(main())
