"""A fake Gemini Interactions API (`POST /{version}/interactions`) for tests and benchmarks.

It speaks the wire format of the recordings in `shared/wire-interactions` (see its CATALOG.md and
`shared/notes/interactions.md`): `event: <type>\\ndata: <compact JSON>\\n\\n` frames (interaction.created,
interaction.status_update, step.start / step.delta / step.stop, interaction.completed, then `event: done`),
non-streamed bodies with `steps[]`, and error bodies with a *string* code (`{"error": {"code":
"invalid_request", "message": ...}}`). It keeps what a stored interaction holds (`store` true, the default),
so `previous_interaction_id` works, can forget one (`expire`), and rejects a history whose thought
signatures or function results do not match what it sent.

Standard library only, never importing `google.genai`, like fake_gemini. The fault modes are fake_gemini's:
errors (`IReply.error`, `rate_limited`, `server_error`), delays (`delay_s`, `first_delay_s`), drops
(`drop_after=N` frames), an `error` event mid-stream (`error_after=N`), plus the removed `content.*` schema.

    with FakeInteractions() as fake:
        fake.enqueue(IReply.text("Hello", thoughts="Greeting the user."))
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import secrets
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flashchat.testing._scripted_server import Outgoing, ReceivedRequest, ScriptedServer, load_recording
from flashchat.testing.fake_gemini import (
    DEFAULT_API_KEY,
    DEFAULT_MODEL,
    DEFAULT_SIGNATURE,
    FakeGemini,
    decode_signature,
    encode_signature,
    estimate_tokens,
)
from flashchat.testing.fake_gemini import RecordedRequest as GenerateRequest

Json = dict[str, Any]

# Codes as the Interactions API spells them (a string, not the generateContent integer plus status).
ERROR_CODES = {
    400: "invalid_request",
    401: "unauthenticated",
    403: "permission_denied",
    404: "not_found",
    409: "conflict",
    429: "resource_exhausted",
    500: "internal",
    503: "unavailable",
    504: "deadline_exceeded",
}
_DEFAULT_MESSAGES = {
    400: "Request contains an invalid argument.",
    401: "API key not valid. Please pass a valid API key.",
    403: "The caller does not have permission",
    404: "Requested entity was not found.",
    429: "You exceeded your current quota, please check your plan and billing details.",
    500: "An internal error has occurred.",
    503: "The model is overloaded. Please try again later.",
}
LEGACY_SCHEMA_MESSAGE = (
    "The legacy Interactions API schema is no longer supported. Please upgrade your google-genai Python SDK "
    "to version >= 2.0.0."
)


def error_body(status: int, message: str | None = None, code: str | None = None) -> Json:
    return {
        "error": {
            "message": message or _DEFAULT_MESSAGES.get(status, "Error."),
            "code": code or ERROR_CODES.get(status, "unknown"),
        }
    }


def _compact(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def frame(event: Json) -> bytes:
    """One SSE frame as the server writes it: the event type, then the compact JSON payload."""
    return f"event: {event['event_type']}\ndata: {_compact(event)}\n\n".encode()


DONE_FRAME = b"event: done\ndata: [DONE]\n\n"


def _step_text(step: Json) -> str:
    return "".join(
        item.get("text", "")
        for item in step.get("content") or []
        if isinstance(item, dict) and item.get("type") == "text"
    )


def _input_steps(body: Any) -> list[Json]:
    """`input` as a list of steps: a string is one user_input, a list of Content is one user_input too."""
    value = body.get("input") if isinstance(body, dict) else None
    if isinstance(value, str):
        return [{"type": "user_input", "content": [{"type": "text", "text": value}]}]
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        return []
    steps = [item for item in value if isinstance(item, dict)]
    if steps and all(item.get("type") in ("text", "image", "audio", "document", "video") for item in steps):
        return [{"type": "user_input", "content": steps}]
    return steps


class RecordedRequest(ReceivedRequest):
    """One HTTP request as the fake received it."""

    @property
    def api_key(self) -> str | None:
        return self.headers.get("x-goog-api-key") or self.query.get("key")

    def is_create(self) -> bool:
        return self.method == "POST" and self.path.rstrip("/").endswith("/interactions")

    @property
    def input_steps(self) -> list[Json]:
        return _input_steps(self.body)

    @property
    def previous_interaction_id(self) -> str | None:
        return self.body.get("previous_interaction_id") if isinstance(self.body, dict) else None

    @property
    def store(self) -> bool:
        return not isinstance(self.body, dict) or self.body.get("store", True) is not False

    @property
    def streamed(self) -> bool:
        return isinstance(self.body, dict) and bool(self.body.get("stream"))

    def user_texts(self) -> list[str]:
        """The text of each user_input step sent (this request only, not the stored history)."""
        return [_step_text(step) for step in self.input_steps if step.get("type") == "user_input" and _step_text(step)]

    def signatures(self) -> list[bytes]:
        """Every thought signature in `input`, decoded."""
        found = []
        for step in self.input_steps:
            if step.get("type") == "thought" and isinstance(step.get("signature"), str):
                decoded = decode_signature(step["signature"])
                if decoded is not None:
                    found.append(decoded)
        return found

    def generation_config(self) -> Json:
        config = self.body.get("generation_config") if isinstance(self.body, dict) else None
        return config if isinstance(config, dict) else {}


@dataclass
class IReply:
    """What the fake answers to one create call: output steps (as a finished body holds them) and how to send.

    When streamed, each step becomes step.start (its type and ids), deltas (text in `chunk_chars` pieces, the
    signature, arguments as a JSON string, tool results) and step.stop, as the recordings show.
    """

    steps: list[Json] = field(default_factory=list)
    status: str = "completed"
    usage: Json | None = None
    model: str = ""
    http_status: int = 200
    failure: Json | None = None  # an error body, sent with http_status
    recording: Json | None = None
    legacy: bool = False
    chunk_chars: int = 24
    delay_s: float = 0.0
    first_delay_s: float = 0.0
    drop_after: int | None = None
    error_after: int | None = None

    @classmethod
    def text(
        cls,
        text: str,
        *,
        thoughts: str | None = None,
        signature: bytes | None = DEFAULT_SIGNATURE,
        annotations: list[Json] | None = None,
        status: str = "completed",
        **options: Any,
    ) -> IReply:
        """A thought step (its summary only when asked for with thinking_summaries "auto") and the answer."""
        steps: list[Json] = []
        if signature is not None or thoughts:
            thought: Json = {"type": "thought"}
            if signature is not None:
                thought["signature"] = encode_signature(signature)
            if thoughts:
                thought["summary"] = [{"type": "text", "text": thoughts}]
            steps.append(thought)
        content: Json = {"type": "text", "text": text}
        if annotations:
            content["annotations"] = annotations
        steps.append({"type": "model_output", "content": [content]})
        return cls(steps=steps, status=status, **options)

    @classmethod
    def function_call(
        cls,
        name: str,
        arguments: Json,
        *,
        call_id: str = "",
        signature: bytes | None = DEFAULT_SIGNATURE,
        **options: Any,
    ) -> IReply:
        """A thought step and one function_call; the interaction ends `requires_action`."""
        steps: list[Json] = []
        if signature is not None:
            steps.append({"type": "thought", "signature": encode_signature(signature)})
        steps.append(
            {"type": "function_call", "id": call_id or secrets.token_hex(4), "name": name, "arguments": arguments}
        )
        return cls(steps=steps, status="requires_action", **options)

    @classmethod
    def google_search(cls, text: str, queries: list[str], sources: list[tuple[str, str]], **options: Any) -> IReply:
        """The answer with url_citation annotations, then the search call and its result (after the answer)."""
        annotations = [
            {"type": "url_citation", "url": url, "title": title, "start_index": 0, "end_index": len(text)}
            for title, url in sources
        ]
        reply = cls.text(text, annotations=annotations, **options)
        call_id = secrets.token_hex(4)
        reply.steps += [
            {
                "type": "google_search_call",
                "id": call_id,
                "arguments": {"queries": queries},
                "search_type": "web_search",
            },
            {
                "type": "google_search_result",
                "call_id": call_id,
                "result": [{"search_suggestions": "<div>suggestions</div>"}],
                "is_error": False,
            },
        ]
        return reply

    @classmethod
    def code_execution(cls, code: str, output: str, text: str, **options: Any) -> IReply:
        reply = cls.text(text, **options)
        call_id = secrets.token_hex(4)
        reply.steps[-1:-1] = [
            {"type": "code_execution_call", "id": call_id, "arguments": {"code": code, "language": "python"}},
            {"type": "code_execution_result", "call_id": call_id, "result": output, "is_error": False},
        ]
        return reply

    @classmethod
    def error(cls, status: int, *, message: str | None = None, code: str | None = None, **options: Any) -> IReply:
        return cls(http_status=status, failure=error_body(status, message, code), **options)

    @classmethod
    def rate_limited(cls, **options: Any) -> IReply:
        return cls.error(429, **options)

    @classmethod
    def server_error(cls, status: int = 500, **options: Any) -> IReply:
        return cls.error(status, **options)

    @classmethod
    def legacy_schema(cls, text: str = "Hello") -> IReply:
        """The `content.*` event schema removed on 2026-06-08 (outputs[], content.start/delta/stop)."""
        return cls(steps=[{"type": "model_output", "content": [{"type": "text", "text": text}]}], legacy=True)

    @classmethod
    def replay(cls, source: str | Path | Json) -> IReply:
        """Serve a recording (shared/wire-interactions) as recorded, whatever the request was."""
        return cls(recording=load_recording(source))

    # -- serving

    def usage_for(self, input_tokens: int) -> Json:
        output = sum(estimate_tokens(_step_text(step)) for step in self.steps if step["type"] == "model_output")
        thought = 12 if any(step["type"] == "thought" for step in self.steps) else 0
        usage: Json = {
            "total_tokens": input_tokens + output + thought,
            "total_input_tokens": input_tokens,
            "input_tokens_by_modality": [{"modality": "text", "tokens": input_tokens}],
            "total_cached_tokens": 0,
            "total_output_tokens": output,
            "total_tool_use_tokens": 0,
            "total_thought_tokens": thought,
        }
        return usage | (self.usage or {})

    def events(self, interaction: Json) -> list[Json]:
        """Every event of the stream, in the recorded order."""
        opened = {key: interaction[key] for key in ("id", "status", "object", "model")} | {"status": "in_progress"}
        events: list[Json] = [
            {"interaction": opened, "event_type": "interaction.created"},
            {"interaction_id": interaction["id"], "status": "in_progress", "event_type": "interaction.status_update"},
        ]
        for index, step in enumerate(self.steps):
            events += self._step_events(index, step)
        events.append({"interaction": interaction, "event_type": "interaction.completed"})
        return events

    def _step_events(self, index: int, step: Json) -> list[Json]:
        kind = step["type"]
        start: Json = {"type": kind}
        deltas: list[Json] = []
        if kind == "thought":
            for summary in step.get("summary") or []:
                deltas.append({"content": summary, "type": "thought_summary"})
            if step.get("signature"):
                deltas.append({"signature": step["signature"], "type": "thought_signature"})
        elif kind == "model_output":
            for content in step.get("content") or []:
                text = content.get("text", "")
                deltas += [
                    {"text": text[i : i + self.chunk_chars], "type": "text"}
                    for i in range(0, len(text), max(1, self.chunk_chars))
                ]
                if content.get("annotations"):
                    deltas.append({"annotations": content["annotations"], "type": "text_annotation_delta"})
        elif kind == "function_call":
            start = {"id": step["id"], "signature": "", "type": kind, "name": step["name"], "arguments": {}}
            deltas.append({"arguments": _compact(step["arguments"]), "type": "arguments_delta"})
        elif kind.endswith("_call"):
            start = {"id": step["id"], "signature": "", "type": kind}
            deltas.append({"arguments": step.get("arguments") or {}, "type": kind})
        elif kind.endswith("_result"):
            start = {"call_id": step["call_id"], "signature": "", "type": kind}
            deltas.append({"result": step.get("result"), "is_error": step.get("is_error", False), "type": kind})
        else:
            start = dict(step)
        return [
            {"index": index, "step": start, "event_type": "step.start"},
            *({"index": index, "delta": delta, "event_type": "step.delta"} for delta in deltas),
            {"index": index, "event_type": "step.stop"},
        ]

    def legacy_frames(self, interaction_id: str) -> list[bytes]:
        text = _step_text(self.steps[0]) if self.steps else ""
        events = [
            {"interaction": {"id": interaction_id, "status": "in_progress"}, "event_type": "interaction.start"},
            {"index": 0, "content": {"type": "text"}, "event_type": "content.start"},
            {"index": 0, "delta": {"type": "text", "text": text}, "event_type": "content.delta"},
            {"index": 0, "event_type": "content.stop"},
            {"interaction": {"id": interaction_id, "status": "completed"}, "event_type": "interaction.complete"},
        ]
        return [frame(event) for event in events] + [DONE_FRAME]


def _without_summary(step: Json) -> Json:
    return {key: value for key, value in step.items() if not (step["type"] == "thought" and key == "summary")}


# --- HTTP ----------------------------------------------------------------------------------------------


def _json_response(status: int, body: Json, **kwargs: Any) -> Outgoing:
    return Outgoing(status, "application/json; charset=UTF-8", [json.dumps(body, indent=2).encode()], **kwargs)


@dataclass
class StoredInteraction:
    id: str
    model: str
    timeline: list[Json]  # every step of the chain so far: inputs and outputs, oldest first


class FakeInteractions(ScriptedServer[RecordedRequest, IReply]):
    """A scripted Interactions API on 127.0.0.1 (`url` is its base URL; clients add `/v1/interactions`)."""

    request_class = RecordedRequest
    thread_name = "fake-interactions"

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
        # generateContent and the model list on the same host, as Google serves both: this fake's routes, not a
        # second server (`generate.enqueue(...)` scripts them, `generate.requests` logs them).
        self.generate = FakeGemini(api_keys=api_keys)
        self.stored: dict[str, StoredInteraction] = {}
        # The signature fake_gemini's replies carry counts as issued: the same model made it, on the same host.
        self._issued_signatures: set[bytes] = {DEFAULT_SIGNATURE}
        self._issued_calls: dict[str, str] = {}  # function_call id -> name
        self._state_lock = threading.Lock()

    def create_requests(self) -> list[RecordedRequest]:
        return self._requests_where(RecordedRequest.is_create)

    def accept_signatures(self, signatures: Iterable[bytes]) -> None:
        """Count these as signatures this server issued (a history built by a benchmark, not by this fake)."""
        with self._state_lock:
            self._issued_signatures.update(signatures)

    def expire(self, interaction_id: str | None = None) -> None:
        """Forget one stored interaction (all of them without an id), as retention does after 1 or 55 days."""
        with self._state_lock:
            if interaction_id is None:
                self.stored.clear()
            else:
                self.stored.pop(interaction_id, None)

    # -- routing

    def _route(self, request: RecordedRequest) -> Outgoing:
        if "/interactions" not in request.path:
            generate_request = GenerateRequest(**vars(request))
            self.generate._record(generate_request)
            return self.generate._route(generate_request)
        if not request.api_key:
            return _json_response(403, error_body(403, "Method doesn't allow unregistered callers."))
        if request.api_key not in self.api_keys:
            return _json_response(400, error_body(400, _DEFAULT_MESSAGES[401], "invalid_api_key"))
        if not request.is_create():
            return _json_response(404, error_body(404))
        if not isinstance(request.body, dict):
            return _json_response(400, error_body(400, "Invalid JSON payload received."))
        reply = self._next_reply(request)
        if reply.recording is not None:
            return self._replay(reply.recording)
        if reply.failure is not None:
            return _json_response(reply.http_status, reply.failure, first_delay_s=reply.first_delay_s)
        if problem := self._validate(request):
            return _json_response(*problem)
        return self._answer(request, reply)

    def _validate(self, request: RecordedRequest) -> tuple[int, Json] | None:
        body = request.body
        previous = request.previous_interaction_id
        if previous is not None:
            if not request.store:
                return 400, error_body(400, "previous_interaction_id requires store to be true.")
            with self._state_lock:
                known = self.stored.get(previous)
            if known is None:
                return 404, error_body(404, f"Interaction {previous} was not found.")
        if "input" not in body or not request.input_steps:
            return 400, error_body(400, "input is required.")
        with self._state_lock:
            issued, calls = set(self._issued_signatures), dict(self._issued_calls)
        for step in request.input_steps:
            kind = step.get("type")
            if kind not in ("user_input", "model_output", "thought", "function_call", "function_result") and not str(
                kind
            ).endswith(("_call", "_result")):
                # A role-shaped Content ({"role", "content"}) is accepted but ignored by the real server.
                continue
            if kind == "thought":
                signature = step.get("signature")
                if not signature or decode_signature(signature) not in issued:
                    return 400, error_body(400, "Request contains an invalid argument.")
            if kind == "function_result" and calls.get(str(step.get("call_id"))) not in (None, step.get("name")):
                return 400, error_body(400, "function_result name does not match the function_call.")
            if kind == "function_result" and str(step.get("call_id")) not in calls:
                return 400, error_body(400, f"No function_call with id {step.get('call_id')!r}.")
        return None

    def _answer(self, request: RecordedRequest, reply: IReply) -> Outgoing:
        body = request.body
        model = str(body.get("model") or DEFAULT_MODEL)
        interaction_id = "v1_" + secrets.token_urlsafe(24) if request.store else ""
        inputs = request.input_steps
        if request.generation_config().get("thinking_summaries") != "auto":
            reply = dataclasses.replace(reply, steps=[_without_summary(step) for step in reply.steps])
        input_tokens = estimate_tokens(
            json.dumps([_step_text(s) for s in inputs]) + str(body.get("system_instruction") or "")
        )
        interaction: Json = {
            "id": interaction_id,
            "status": reply.status,
            "usage": reply.usage_for(input_tokens),
            "created": "2026-12-02T00:00:00Z",
            "updated": "2026-12-02T00:00:00Z",
            "service_tier": "standard",
            "object": "interaction",
            "model": reply.model or model,
        }
        self._remember(request, reply, interaction_id, model)
        delay_s, first_delay_s = reply.delay_s or self.default_delay_s, reply.first_delay_s
        timing = {"delay_s": delay_s, "first_delay_s": first_delay_s, "drop_after": reply.drop_after}
        if reply.legacy:
            return Outgoing(200, "text/event-stream", reply.legacy_frames(interaction_id), True, **timing)
        if not request.streamed:
            finished = {key: value for key, value in interaction.items() if key not in ("object", "model")}
            finished |= {"steps": reply.steps, "object": "interaction", "model": interaction["model"]}
            if not request.store:
                finished.pop("id")
            return _json_response(200, finished, **timing)
        events = reply.events(interaction)
        if reply.error_after is not None:
            failure = {"error": error_body(500)["error"], "event_type": "error"}
            events = [*events[: reply.error_after], failure]
            frames = [frame(event) for event in events]
        else:
            frames = [frame(event) for event in events] + [DONE_FRAME]
        return Outgoing(200, "text/event-stream", frames, True, **timing)

    def _remember(self, request: RecordedRequest, reply: IReply, interaction_id: str, model: str) -> None:
        with self._state_lock:
            for step in reply.steps:
                if step.get("type") == "thought" and step.get("signature"):
                    decoded = decode_signature(step["signature"])
                    if decoded is not None:
                        self._issued_signatures.add(decoded)
                if step.get("type") == "function_call":
                    self._issued_calls[str(step["id"])] = str(step["name"])
            if not interaction_id:
                return
            previous = self.stored.get(request.previous_interaction_id or "")
            timeline = [*(previous.timeline if previous else []), *request.input_steps, *reply.steps]
            self.stored[interaction_id] = StoredInteraction(interaction_id, model, timeline)

    def _handler_failed(self) -> Outgoing:
        return _json_response(500, error_body(500, "fake_interactions: the handler failed; see server_errors"))

    def _echo(self, request: RecordedRequest) -> IReply:
        last = (request.user_texts() or [""])[-1]
        return IReply.text(f"Echo: {last}", thoughts="Repeating the user's words.")

    def _replay(self, recording: Json) -> Outgoing:
        response = recording["response"]
        body: str = response["body_text"]
        content_type = (response.get("headers") or {}).get("content-type", "application/json")
        if content_type.startswith("text/event-stream"):
            pieces = [piece.encode() for piece in re.split(r"(?<=\n\n)", body) if piece]
            return Outgoing(int(response["status"]), content_type, pieces, streamed=True)
        return Outgoing(int(response["status"]), content_type, [body.encode()])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m flashchat.testing.fake_interactions",
        description="Serve a fake Gemini Interactions API that echoes the last user input (for demos).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--delay", type=float, default=0.03, help="seconds between streamed events")
    args = parser.parse_args(argv)
    FakeInteractions(host=args.host, port=args.port, default_delay_s=args.delay).serve_until_interrupted()
    return 0


if __name__ == "__main__":
    sys.exit(main())
