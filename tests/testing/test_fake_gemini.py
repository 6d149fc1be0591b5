"""Tests of the fake Gemini server itself, driven by the real google-genai SDK over real HTTP.

If these pass, the engine's tests against the fake exercise the same SDK code paths as the real API
would: SSE parsing, signature bytes, error mapping and transport failures.
"""

from __future__ import annotations

import http.client
import json
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
from google import genai
from google.genai import errors, types

from flashchat.testing.fake_gemini import DEFAULT_SIGNATURE, FakeGemini, Reply
from support import RECORDINGS, SSE_RECORDINGS, WIRE, default_sigint

MODEL = "gemini-3.5-flash"


@pytest.fixture
def fake() -> Iterator[FakeGemini]:
    with FakeGemini() as server:
        yield server
    assert server.server_errors == []


def make_client(fake: FakeGemini, **http_options: Any) -> genai.Client:
    options = types.HttpOptions(base_url=fake.url, **http_options)
    return genai.Client(api_key=fake.api_key, vertexai=False, http_options=options)


@pytest.fixture
async def client(fake: FakeGemini) -> AsyncIterator[genai.Client]:
    sdk_client = make_client(fake)
    yield sdk_client
    await sdk_client.aio.aclose()


def config(**kwargs: Any) -> types.GenerateContentConfig:
    return types.GenerateContentConfig(automatic_continuation=False, **kwargs)


async def collect(client: genai.Client, contents: Any = "hi", **kwargs: Any) -> list[Any]:
    stream = await client.aio.models.generate_content_stream(model=MODEL, contents=contents, config=config(**kwargs))
    return [chunk async for chunk in stream]


def parts_of(chunks: list[Any]) -> list[types.Part]:
    return [
        part
        for chunk in chunks
        if chunk.candidates and chunk.candidates[0].content
        for part in chunk.candidates[0].content.parts or []
    ]


@dataclass
class RawResponse:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


def raw_post(port: int, path: str, body: Any, key: str = "test-key") -> RawResponse:
    """POST with the standard library, to see the exact bytes the SDK would have parsed."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        headers = {"content-type": "application/json"} | ({"x-goog-api-key": key} if key else {})
        connection.request("POST", path, json.dumps(body), headers)
        response = connection.getresponse()
        return RawResponse(response.status, response.headers, response.read())
    finally:
        connection.close()


# --- successful streams -------------------------------------------------------------------------------


async def test_text_reply_with_thoughts_and_signature(fake: FakeGemini, client: genai.Client) -> None:
    fake.enqueue(Reply.text("Hello there, this is a streamed answer.", thoughts="**Plan**\n\nGreet them."))
    thinking = types.ThinkingConfig(thinking_level=types.ThinkingLevel.HIGH, include_thoughts=True)
    chunks = await collect(client, thinking_config=thinking)

    parts = parts_of(chunks)
    assert parts[0].thought is True and parts[0].text == "**Plan**\n\nGreet them."
    assert "".join(p.text for p in parts if not p.thought) == "Hello there, this is a streamed answer."
    assert parts[-1].text == "" and parts[-1].thought_signature == DEFAULT_SIGNATURE
    assert [p for p in parts if p.thought_signature] == [parts[-1]]
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP
    assert all(c.candidates[0].finish_reason is None for c in chunks[:-1])
    assert {c.model_version for c in chunks} == {MODEL} and len({c.response_id for c in chunks}) == 1

    (request,) = fake.wait_for_requests(1)
    assert fake.generate_requests() == [request]
    assert request.path == f"/v1/models/{MODEL}:streamGenerateContent" and request.query == {"alt": "sse"}
    assert request.thinking_level() == "HIGH" and request.user_texts() == ["hi"]
    with pytest.raises(TimeoutError):
        fake.wait_for_requests(2, timeout=0.01)


async def test_sse_framing_is_exact(fake: FakeGemini) -> None:
    fake.enqueue(Reply.text("Ünïcode – text\u2028with a line separator", thoughts="thinking"))
    response = raw_post(fake.port, f"/v1beta/models/{MODEL}:streamGenerateContent?alt=sse", {"contents": []})
    body = response.body.decode("utf-8")

    assert response.status == 200
    assert response.headers["Content-Type"] == "text/event-stream"
    assert response.headers["Transfer-Encoding"] == "chunked"
    assert re.fullmatch(r"(data: [^\r\n]+\r\n\r\n)+", body)
    events = [event.removeprefix("data: ") for event in body.split("\r\n\r\n") if event]
    for event in events:
        assert event == json.dumps(json.loads(event), separators=(",", ": "), ensure_ascii=False)
    assert '"role": "model"},"index": 0}]' in events[0]  # Google's spacing: none after ","


async def test_json_array_stream_without_alt(fake: FakeGemini) -> None:
    fake.enqueue(Reply.text("Two chunks here please", chunk_chars=12))
    response = raw_post(fake.port, f"/v1beta/models/{MODEL}:streamGenerateContent", {"contents": []})
    body = response.body.decode()
    assert response.headers["Content-Type"] == "application/json; charset=UTF-8"
    assert body.startswith('[{\n  "candidates"') and body.endswith("\n}\n]") and body.count("\n,\r\n") == 2
    texts = [chunk["candidates"][0]["content"]["parts"][0]["text"] for chunk in json.loads(body)]
    assert texts == ["Two chunks h", "ere please", ""]


async def test_usage_is_a_running_total(fake: FakeGemini, client: genai.Client) -> None:
    usage = dict(prompt=100, candidates=40, thoughts=30, cached=20)
    fake.enqueue(Reply.text("x" * 96, thoughts=["t" * 40, "t" * 40], chunk_chars=16, usage=usage))
    metas = [chunk.usage_metadata for chunk in await collect(client)]
    assert all(m.prompt_token_count == 100 and m.cached_content_token_count == 20 for m in metas)
    counts = [m.candidates_token_count or 0 for m in metas]
    assert counts == sorted(counts) and counts[0] == 0 and counts[-1] == 40
    assert (metas[-1].thoughts_token_count, metas[-1].total_token_count) == (30, 170)
    for meta in metas:
        parts = meta.prompt_token_count + (meta.candidates_token_count or 0) + (meta.thoughts_token_count or 0)
        assert meta.total_token_count == parts

    fake.enqueue(Reply.text("y" * 40))
    estimated = (await collect(client, contents="p" * 80))[-1].usage_metadata
    assert (estimated.prompt_token_count, estimated.candidates_token_count) == (20, 10)


async def test_default_echo_and_responder(fake: FakeGemini, client: genai.Client) -> None:
    parts = parts_of(await collect(client, "ping", thinking_config=types.ThinkingConfig(include_thoughts=True)))
    assert parts[0].thought and "".join(p.text for p in parts if not p.thought) == "Echo: ping"

    fake.responder = lambda request: Reply.text(f"level={request.thinking_level()}")
    parts = parts_of(await collect(client, thinking_config=types.ThinkingConfig(thinking_level="low")))
    assert "".join(p.text for p in parts) == "level=LOW"


async def test_non_streaming_generate_merges_chunks(fake: FakeGemini, client: genai.Client) -> None:
    fake.enqueue(Reply.text("merged into one part", thoughts="thought", chunk_chars=5))
    response = await client.aio.models.generate_content(model=MODEL, contents="hi", config=config())
    parts = response.candidates[0].content.parts
    assert [(p.text, p.thought) for p in parts] == [("thought", True), ("merged into one part", None)]
    assert parts[1].thought_signature == DEFAULT_SIGNATURE
    assert response.candidates[0].finish_reason == types.FinishReason.STOP
    assert response.usage_metadata.candidates_token_count == 4


# --- errors and faults --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "error_type", "code", "status"),
    [
        (Reply.bad_key(), errors.ClientError, 400, "INVALID_ARGUMENT"),
        (Reply.error(401), errors.ClientError, 401, "UNAUTHENTICATED"),
        (Reply.error(403), errors.ClientError, 403, "PERMISSION_DENIED"),
        (Reply.error(404), errors.ClientError, 404, "NOT_FOUND"),
        (Reply.rate_limited(), errors.ClientError, 429, "RESOURCE_EXHAUSTED"),
        (Reply.server_error(500), errors.ServerError, 500, "INTERNAL"),
        (Reply.server_error(503), errors.ServerError, 503, "UNAVAILABLE"),
    ],
    ids=lambda value: str(value) if isinstance(value, int) else None,
)
async def test_error_replies_map_to_sdk_errors(
    fake: FakeGemini, client: genai.Client, reply: Reply, error_type: type, code: int, status: str
) -> None:
    fake.enqueue(reply)
    with pytest.raises(error_type) as caught:
        await collect(client)
    assert (caught.value.code, caught.value.status) == (code, status)
    assert caught.value.response.headers["content-type"] == "application/json; charset=UTF-8"
    details = caught.value.details["error"].get("details", [])
    if code == 429:
        assert {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "2s"} in details
    if code == 404:
        assert caught.value.message.startswith(f"models/{MODEL} is not found for API version v1, or is not")
    if code == 503:
        assert caught.value.message == "The model is overloaded. Please try again later."


async def test_rate_limit_without_retry_delay(fake: FakeGemini, client: genai.Client) -> None:
    fake.enqueue(Reply.rate_limited(retry_delay=None))
    with pytest.raises(errors.ClientError) as caught:
        await collect(client)
    assert "RetryInfo" not in json.dumps(caught.value.details)


async def test_bad_key_is_400_api_key_invalid(fake: FakeGemini) -> None:
    bad = genai.Client(api_key="wrong", vertexai=False, http_options=types.HttpOptions(base_url=fake.url))
    with pytest.raises(errors.ClientError) as caught:
        await bad.aio.models.generate_content(model=MODEL, contents="hi")
    await bad.aio.aclose()
    assert (caught.value.code, caught.value.status) == (400, "INVALID_ARGUMENT")
    assert caught.value.details["error"]["details"][0]["reason"] == "API_KEY_INVALID"
    assert raw_post(fake.port, f"/v1/models/{MODEL}:generateContent?key=test-key", {}, key="").status == 200


async def test_drop_after_raises_transport_error_after_earlier_chunks(fake: FakeGemini, client: genai.Client) -> None:
    fake.enqueue(Reply.text("abcdefghij" * 5, chunk_chars=10, drop_after=3))
    received = []
    stream = await client.aio.models.generate_content_stream(model=MODEL, contents="hi", config=config())
    with pytest.raises(httpx2.RemoteProtocolError, match="incomplete chunked read"):
        async for chunk in stream:
            received.append(chunk.text)
    assert received == ["abcdefghij"] * 3


async def test_truncate_ends_cleanly_without_finish_reason(fake: FakeGemini, client: genai.Client) -> None:
    fake.enqueue(Reply.text("cut short", truncate=True))
    chunks = await collect(client)
    assert "".join(c.text for c in chunks) == "cut short"
    assert all(c.candidates[0].finish_reason is None for c in chunks)
    assert not any(p.thought_signature for p in parts_of(chunks))


async def test_error_event_mid_stream(fake: FakeGemini, client: genai.Client) -> None:
    fake.enqueue(Reply.text("abcdefghij" * 3, chunk_chars=10, error_after=2))
    received = []
    with pytest.raises(errors.ServerError) as caught:
        async for chunk in await client.aio.models.generate_content_stream(model=MODEL, contents="hi"):
            received.append(chunk.text)
    assert received == ["abcdefghij"] * 2 and caught.value.code == 500


async def test_safety_max_tokens_and_blocked_prompt_shapes(fake: FakeGemini, client: genai.Client) -> None:
    fake.enqueue(Reply.safety(text="Partial answer"), Reply.max_tokens_no_parts(), Reply.blocked_prompt())

    safety = await collect(client)
    assert "".join(c.text or "" for c in safety[:-1]) == "Partial answer"
    final = safety[-1].candidates[0]
    assert final.finish_reason == types.FinishReason.SAFETY and final.content.parts is None
    assert any(rating.blocked for rating in final.safety_ratings)

    (max_tokens,) = await collect(client)
    candidate = max_tokens.candidates[0]
    assert candidate.finish_reason == types.FinishReason.MAX_TOKENS and candidate.content.role == "model"
    assert candidate.content.parts is None

    (blocked,) = await collect(client)
    assert blocked.candidates is None and blocked.prompt_feedback.block_reason == types.BlockedReason.SAFETY
    assert blocked.usage_metadata.prompt_token_count >= 1


async def test_events_are_sent_as_given(fake: FakeGemini, client: genai.Client) -> None:
    chunk = {"candidates": [{"content": {"parts": [{"text": "raw"}], "role": "model"}, "index": 0}]}
    fake.enqueue(Reply.events([chunk, chunk]))
    chunks = await collect(client)
    assert [c.text for c in chunks] == ["raw", "raw"] and chunks[0].usage_metadata is None


def test_client_disconnect_mid_stream_is_quiet(fake: FakeGemini, capfd: pytest.CaptureFixture[str]) -> None:
    fake.enqueue(Reply.text("slow " * 20, chunk_chars=5, delay_s=0.01))
    request = f"POST /v1/models/{MODEL}:streamGenerateContent?alt=sse HTTP/1.1\r\nHost: x\r\n"
    request += "x-goog-api-key: test-key\r\nContent-Length: 2\r\n\r\n{}"
    with socket.create_connection(("127.0.0.1", fake.port), timeout=5) as sock:
        sock.sendall(request.encode())
        assert sock.recv(100).startswith(b"HTTP/1.1 200 OK")
    time.sleep(0.1)  # the fake's next writes now fail
    assert fake.server_errors == [] and capfd.readouterr() == ("", "")


# --- validation the real API does ---------------------------------------------------------------------


async def test_thinking_level_and_budget_together_is_400(fake: FakeGemini, client: genai.Client) -> None:
    fake.enqueue(Reply.text("kept for later"))
    with pytest.raises(errors.ClientError) as caught:
        await collect(client, thinking_config=types.ThinkingConfig(thinking_level="high", thinking_budget=1024))
    assert (caught.value.code, caught.value.status) == (400, "INVALID_ARGUMENT")
    assert "thinking budget and thinking level" in caught.value.message
    assert len(fake.generate_requests()) == 1 and fake.queued == 1


def tool_history(model_parts: list[types.Part]) -> list[types.Content]:
    responses = [
        types.Part(
            function_response=types.FunctionResponse(
                id=part.function_call.id, name=part.function_call.name, response={"ok": True}
            )
        )
        for part in model_parts
    ]
    return [
        types.Content(role="user", parts=[types.Part(text="weather and time?")]),
        types.Content(role="model", parts=model_parts),
        types.Content(role="user", parts=responses),
    ]


async def test_function_call_signatures_must_come_back(fake: FakeGemini, client: genai.Client) -> None:
    fake.enqueue(Reply.function_calls([("get_weather", {"city": "Paris"}), ("get_time", {"tz": "CET"})]))
    parts = parts_of(await collect(client, contents="weather and time?"))
    calls = [(p.function_call.name, p.function_call.id) for p in parts]
    assert calls == [("get_weather", "fc-1"), ("get_time", "fc-2")]
    assert parts[0].thought_signature == DEFAULT_SIGNATURE and parts[1].thought_signature is None

    unsigned = [part.model_copy(update={"thought_signature": None}) for part in parts]
    with pytest.raises(errors.ClientError) as caught:
        await collect(client, contents=tool_history(unsigned))
    assert caught.value.code == 400 and "thought_signature" in caught.value.message
    assert "`default_api:get_weather` , position 2" in caught.value.message

    corrupted = [parts[0].model_copy(update={"thought_signature": b"other"}), parts[1]]
    with pytest.raises(errors.ClientError, match="Corrupted thought signature"):
        await collect(client, contents=tool_history(corrupted))

    fake.enqueue(Reply.text("It is sunny."))
    assert "".join(c.text for c in await collect(client, contents=tool_history(parts))) == "It is sunny."
    echoed = fake.generate_requests()[-1].contents[1]["parts"][0]["thoughtSignature"]
    assert "-" in echoed or "_" in echoed  # the SDK re-encodes URL-safe; the fake compared bytes


# --- replay of recorded traffic -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def wire_fake() -> Iterator[FakeGemini]:
    """One server for the many replay cases keeps the suite fast."""
    with FakeGemini() as server:
        yield server
    assert server.server_errors == []


@pytest.mark.parametrize("recording", RECORDINGS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_replay_serves_recorded_bytes(wire_fake: FakeGemini, recording: Path) -> None:
    data = json.loads(recording.read_text())
    wire_fake.enqueue(Reply.replay(recording))
    response = raw_post(wire_fake.port, f"/v1beta/models/{MODEL}:streamGenerateContent?alt=sse", {})
    assert response.status == data["response"]["status"]
    assert response.headers["Content-Type"] == data["response"]["headers"]["content-type"]
    assert response.body == data["response"]["body_text"].encode("utf-8")


@pytest.mark.parametrize("recording", SSE_RECORDINGS, ids=lambda p: p.stem)
async def test_replayed_sse_parses_in_sdk(wire_fake: FakeGemini, recording: Path) -> None:
    body = json.loads(recording.read_text())["response"]["body_text"]
    wire_fake.enqueue(Reply.replay(recording))
    client = make_client(wire_fake)
    chunks = await collect(client)
    await client.aio.aclose()
    assert len(chunks) == body.count("\r\n\r\n") and chunks[-1].response_id


async def test_replayed_function_call_signature_is_enforced(fake: FakeGemini, client: genai.Client) -> None:
    fake.enqueue(Reply.replay(WIRE / "pydantic-ai/test_google_streaming_tool_call_thought_signature__00.json"))
    parts = parts_of(await collect(client, contents="Call the tool"))
    assert parts[0].function_call.name == "get_country" and parts[0].thought_signature

    answer = types.Part(function_response=types.FunctionResponse(name="get_country", response={"r": "Mexico"}))
    for model_parts, expected in [
        ([p.model_copy(update={"thought_signature": None}) for p in parts], 400),
        (parts, 200),
    ]:
        history = [
            types.Content(role="user", parts=[types.Part(text="Call the tool")]),
            types.Content(role="model", parts=model_parts),
            types.Content(role="user", parts=[answer]),
        ]
        try:
            await collect(client, contents=history)
            status = 200
        except errors.ClientError as error:
            status = error.code
        assert status == expected


# --- other routes -------------------------------------------------------------------------------------


async def test_models_list_pages_and_get(fake: FakeGemini, client: genai.Client) -> None:
    pager = await client.aio.models.list(config={"page_size": 2})
    names = [model.name async for model in pager]
    assert "models/gemini-3.5-flash" in names and len(names) == len(fake.models)
    assert [request.query.get("pageToken") for request in fake.requests] == [None, "2", "4"]

    model = await client.aio.models.get(model=MODEL)
    assert (model.input_token_limit, model.output_token_limit, model.thinking) == (1048576, 65536, True)
    assert "generateContent" in model.supported_actions and model.display_name == "Gemini 3.5 Flash"
    with pytest.raises(errors.ClientError) as caught:
        await client.aio.models.get(model="gemini-nope")
    assert caught.value.code == 404


async def test_count_tokens(client: genai.Client) -> None:
    result = await client.aio.models.count_tokens(model=MODEL, contents="x" * 40)
    assert result.total_tokens == 10


async def test_v1beta_v1_and_path_prefix_are_routed(fake: FakeGemini) -> None:
    for base_url, api_version, path in [
        (fake.url, "v1beta", f"/v1beta/models/{MODEL}:generateContent"),
        (fake.url, None, f"/v1/models/{MODEL}:generateContent"),
        (fake.url + "/proxy/", None, f"/proxy/v1/models/{MODEL}:generateContent"),
    ]:
        options = types.HttpOptions(base_url=base_url, api_version=api_version)
        sdk_client = genai.Client(api_key=fake.api_key, vertexai=False, http_options=options)
        response = await sdk_client.aio.models.generate_content(model=MODEL, contents="route me")
        await sdk_client.aio.aclose()
        assert response.text == "Echo: route me" and fake.requests[-1].path == path
    assert raw_post(fake.port, "/v1/unknown", {}).status == 404


def test_command_line_server_prints_url_and_stops_on_ctrl_c() -> None:
    command = [sys.executable, "-m", "flashchat.testing.fake_gemini", "--delay", "0"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint
    )
    url = process.stdout.readline().strip()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
    port = int(url.rsplit(":", 1)[1])
    assert raw_post(port, f"/v1/models/{MODEL}:generateContent", {"contents": []}).status == 200
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=5)
    assert (process.returncode, stdout, stderr) == (0, "", "")
