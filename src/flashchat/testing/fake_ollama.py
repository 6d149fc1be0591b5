"""A fake Ollama server for benchmarks and tests: Ollama's own ``/api`` routes and its OpenAI-compatible ``/v1``.

The counterpart of ``fake_openai`` for clients that speak to Ollama (oterm, the ``ollama`` Python client). Real
HTTP on 127.0.0.1, standard library only. Ollama serves two APIs on one port, and so does this fake:

- ``GET /`` answers ``Ollama is running``; ``GET /api/version`` ``{"version": ...}``.
- ``GET /api/tags`` lists the models (name, model, modified_at, size, digest, details); ``POST /api/show`` gives
  one model's modelfile, parameters, template, details, model_info and capabilities; ``GET /api/ps`` the loaded
  models with their context length. An unknown model is a 404 ``{"error": "model 'x' not found"}``.
- ``POST /api/chat`` streams NDJSON (``application/x-ndjson``), one object a line:
  ``{"model", "created_at", "message": {"role": "assistant", "content": <piece>}, "done": false}``, reasoning
  pieces in ``message.thinking``, then a last line with ``"done": true``, ``done_reason`` and the counters
  (``total_duration``, ``load_duration``, ``prompt_eval_count``, ``prompt_eval_duration``, ``eval_count``,
  ``eval_duration``, in nanoseconds). ``"stream": false`` gets the merged message as one object.
- ``/v1/...`` is ``fake_openai`` without keys (Ollama accepts any key there): oterm lists models through
  ``/api`` and chats through ``/v1/chat/completions`` (pydantic-ai's OllamaProvider).

Both chat routes take the same queued ``fake_openai.Reply``, so one scripted stream serves either API:

    with FakeOllama() as fake:
        fake.enqueue(Reply.text("Hello", chunk_chars=2, delay_s=0.01))
        env = {"OLLAMA_HOST": fake.host_port}

Run ``python -m flashchat.testing.fake_ollama [--port N] [--delay S]`` for an echo server.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from flashchat.testing._scripted_server import Outgoing, RawReply
from flashchat.testing.fake_gemini import estimate_tokens
from flashchat.testing.fake_openai import FakeOpenAI, RecordedRequest, Reply

Json = dict[str, Any]

VERSION = "0.12.6"
DEFAULT_MODEL = "llama3.2:latest"
_DIGEST = "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72"
_MODIFIED_AT = "2025-05-04T17:37:44.706015396-07:00"
_TEMPLATE = "{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n{{ .Content }}<|eot_id|>{{ end }}"


def model_entry(name: str, *, family: str = "llama", parameter_size: str = "3.2B", size: int = 2_019_393_189) -> Json:
    """One model as /api/tags lists it."""
    return {
        "name": name,
        "model": name,
        "modified_at": _MODIFIED_AT,
        "size": size,
        "digest": _DIGEST,
        "details": {
            "parent_model": "",
            "format": "gguf",
            "family": family,
            "families": [family],
            "parameter_size": parameter_size,
            "quantization_level": "Q4_K_M",
        },
    }


DEFAULT_MODELS: list[Json] = [
    model_entry(DEFAULT_MODEL),
    model_entry("qwen3:8b", family="qwen3", parameter_size="8.2B"),
]


def _created_at() -> str:
    """Ollama's timestamp: RFC 3339 with nanoseconds and Z."""
    now = time.time_ns()
    return datetime.fromtimestamp(now // 1_000_000_000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{now % 10**9:09d}Z"


def _ndjson(obj: Json) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\n"


def _json_out(status: int, body: Any) -> Outgoing:
    return Outgoing(status, "application/json; charset=utf-8", [json.dumps(body).encode("utf-8")])


def _error(status: int, message: str) -> Outgoing:
    return _json_out(status, {"error": message})


def _native_message(delta: Json) -> Json | None:
    """A /v1 delta as /api/chat streams it: content and thinking; role-only and empty deltas are not sent."""
    message: Json = {"role": "assistant", "content": delta.get("content") or ""}
    thinking = delta.get("reasoning_content") or delta.get("reasoning")
    if thinking:
        message["thinking"] = thinking
    calls = [
        {"function": {"name": call["function"]["name"], "arguments": json.loads(call["function"]["arguments"] or "{}")}}
        for call in delta.get("tool_calls") or []
        if isinstance(call.get("function"), dict) and "name" in call["function"]
    ]
    if calls:
        message["tool_calls"] = calls
    return message if message["content"] or len(message) > 2 else None


class FakeOllama(FakeOpenAI):
    """A scripted Ollama on 127.0.0.1. ``url`` is ``http://host:port`` (OLLAMA_HOST takes ``host_port``)."""

    url_suffix = ""
    thread_name = "fake-ollama"

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, default_delay_s: float = 0.0) -> None:
        super().__init__(host=host, port=port, api_keys=(), default_delay_s=default_delay_s)
        self.models = [dict(model) for model in DEFAULT_MODELS]
        self.context_length = 131_072

    @property
    def host_port(self) -> str:
        return f"{self.host}:{self.port}"

    def native_chat_requests(self) -> list[RecordedRequest]:
        return self._requests_where(lambda request: request.path == "/api/chat")

    def _find(self, name: Any) -> Json | None:
        if not isinstance(name, str):
            return None
        wanted = name if ":" in name else f"{name}:latest"
        return next((model for model in self.models if model["name"] == wanted), None)

    def _dispatch(self, request: RecordedRequest) -> Outgoing:
        path, method = request.path.rstrip("/") or "/", request.method
        if path.startswith("/v1/") and path != "/v1/models":
            return super()._dispatch(request)
        if path == "/v1/models" and method == "GET":
            listed = [
                {"id": model["name"], "object": "model", "created": 1_746_405_464, "owned_by": "library"}
                for model in self.models
            ]
            return _json_out(200, {"object": "list", "data": listed})
        if path == "/" and method in ("GET", "HEAD"):
            return Outgoing(200, "text/plain; charset=utf-8", [b"Ollama is running"])
        if path == "/api/version" and method == "GET":
            return _json_out(200, {"version": VERSION})
        if path == "/api/tags" and method == "GET":
            return _json_out(200, {"models": self.models})
        if path == "/api/ps" and method == "GET":
            return _json_out(200, {"models": [self._loaded(model) for model in self.models[:1]]})
        if path == "/api/show" and method == "POST":
            body = request.body if isinstance(request.body, dict) else {}
            model = self._find(body.get("model") or body.get("name"))
            if model is None:
                return _error(404, f"model '{body.get('model') or body.get('name')}' not found")
            return _json_out(200, self._show(model))
        if path == "/api/chat" and method == "POST":
            return self._native_chat(request)
        return Outgoing(404, "text/plain", [b"404 page not found"])

    def _loaded(self, model: Json) -> Json:
        return {
            **{key: model[key] for key in ("name", "model", "size", "digest", "details")},
            "expires_at": "2099-01-01T00:00:00.000000000Z",
            "size_vram": model["size"],
            "context_length": self.context_length,
        }

    def _show(self, model: Json) -> Json:
        family = model["details"]["family"]
        return {
            "license": "LLAMA 3.2 COMMUNITY LICENSE AGREEMENT",
            "modelfile": f'# Modelfile generated by "ollama show"\nFROM {model["name"]}\n'
            f'TEMPLATE """{_TEMPLATE}"""\nPARAMETER stop <|eot_id|>\n',
            "parameters": 'stop                           "<|eot_id|>"',
            "template": _TEMPLATE,
            "details": model["details"],
            "model_info": {
                "general.architecture": family,
                "general.parameter_count": 3_212_749_888,
                f"{family}.context_length": self.context_length,
                f"{family}.embedding_length": 3072,
            },
            "capabilities": ["completion", "tools"],
            "modified_at": model["modified_at"],
        }

    def _native_chat(self, request: RecordedRequest) -> Outgoing:
        body = request.body
        if not isinstance(body, dict):
            return _error(400, "invalid character in JSON body")
        model = self._find(body.get("model"))
        if model is None:
            return _error(404, f'model "{body.get("model")}" not found, try pulling it first')
        if not isinstance(body.get("messages"), list):
            return _error(400, "messages must be a list")
        reply = self._next_reply(request)
        if isinstance(reply, RawReply):
            return reply.outgoing()
        if reply.error_json is not None:
            message = reply.error_json.get("error", {}).get("message", "error")
            return _error(reply.status, message)
        started = time.monotonic_ns()
        lines = []
        for delta in reply.deltas:
            if (message := _native_message(delta)) is not None:
                lines.append({"model": model["name"], "created_at": _created_at(), "message": message, "done": False})
        merged = reply.merged_message()
        prompt_tokens = request.prompt_tokens()
        eval_count = estimate_tokens((merged.get("content") or "") + (merged.get("reasoning_content") or ""))
        elapsed = time.monotonic_ns() - started
        final = {
            "model": model["name"],
            "created_at": _created_at(),
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": "stop" if reply.finish_reason in ("stop", None) else reply.finish_reason,
            "total_duration": elapsed + 1_000_000,
            "load_duration": 1_000_000,
            "prompt_eval_count": prompt_tokens,
            "prompt_eval_duration": 500_000,
            "eval_count": eval_count,
            "eval_duration": elapsed,
        }
        if body.get("stream") is False:
            whole = {"role": "assistant", "content": "".join(line["message"]["content"] for line in lines)}
            thinking = "".join(line["message"].get("thinking", "") for line in lines)
            if thinking:
                whole["thinking"] = thinking
            return _json_out(200, {**final, "message": whole})
        segments = [_ndjson(line) for line in [*lines, final]]
        timing = {"delay_s": reply.delay_s, "first_delay_s": reply.first_delay_s, "drop_after": reply.drop_after}
        return Outgoing(200, "application/x-ndjson", segments, True, **timing)

    def _echo(self, request: RecordedRequest) -> Reply:
        last_text = (request.user_texts() or [""])[-1]
        return Reply.text(f"Echo: {last_text}", signature=None, delay_s=self.default_delay_s)


def serve(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m flashchat.testing.fake_ollama",
        description="Serve a fake Ollama (native /api and /v1) that echoes the last user message.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--delay", type=float, default=0.03, help="seconds between streamed chunks")
    args = parser.parse_args(None if argv is None else list(argv))
    FakeOllama(host=args.host, port=args.port, default_delay_s=args.delay).serve_until_interrupted()
    return 0


if __name__ == "__main__":
    sys.exit(serve())
