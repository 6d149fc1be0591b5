"""The fake OpenAI-compatible server on its own, over raw HTTP: framing, bodies and fault modes."""

from __future__ import annotations

import json

import httpx2
import pytest

from flashchat.testing.fake_openai import DEFAULT_SIGNATURE, FakeOpenAI, Reply
from support import WIRE as SUPPORT_WIRE

WIRE = SUPPORT_WIRE / "pydantic-ai"
RECORDINGS = sorted(WIRE.glob("test_compatible_api_with_tool_calls_without_id__0*.json"))


def post(fake: FakeOpenAI, body: dict, key: str | None = "default", **headers: str) -> httpx2.Response:
    if key is not None:
        headers["Authorization"] = f"Bearer {fake.api_key if key == 'default' else key}"
    return httpx2.post(f"{fake.url}/chat/completions", json=body, headers=headers, timeout=10)


def chat(stream: bool = True, **extra) -> dict:
    body = {"model": "gemini-3.5-flash", "messages": [{"role": "user", "content": "hi"}], "stream": stream}
    if stream:
        body["stream_options"] = {"include_usage": True}
    return body | extra


def sse_events(text: str) -> list[str]:
    assert text.endswith("\n\n")
    events = text.split("\n\n")[:-1]
    assert all(event.startswith("data: ") for event in events)
    return [event.removeprefix("data: ") for event in events]


def test_streamed_reply_is_sse_chunks_then_usage_then_done(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply.text("Hello world", reasoning="plan", chunk_chars=6))
    response = post(fake_openai, chat())
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-request-id"].startswith("req_")
    events = sse_events(response.text)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    assert {chunk["object"] for chunk in chunks} == {"chat.completion.chunk"}
    assert len({chunk["id"] for chunk in chunks}) == 1
    deltas = [chunk["choices"][0]["delta"] for chunk in chunks[:-1]]
    assert deltas[0] == {"role": "assistant", "content": ""}
    assert deltas[1] == {"reasoning_content": "plan"}
    assert [d.get("content") for d in deltas[2:]] == ["Hello ", "world"]
    assert deltas[-1]["extra_content"] == {"google": {"thought_signature": DEFAULT_SIGNATURE}}
    assert [chunk["choices"][0]["finish_reason"] for chunk in chunks[:-1]] == [None, None, None, "stop"]
    usage_chunk = chunks[-1]
    assert usage_chunk["choices"] == []
    usage = usage_chunk["usage"]
    assert usage["completion_tokens"] == usage["completion_tokens_details"]["reasoning_tokens"] + 2
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_usage_chunk_only_when_asked_for(fake_openai: FakeOpenAI) -> None:
    body = chat()
    del body["stream_options"]
    chunks = [json.loads(event) for event in sse_events(post(fake_openai, body).text)[:-1]]
    assert all("usage" not in chunk for chunk in chunks)


def test_reasoning_under_either_field_name(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply.text("ok", reasoning=["a", "b"], reasoning_field="reasoning"))
    events = sse_events(post(fake_openai, chat()).text)
    deltas = [json.loads(event)["choices"][0]["delta"] for event in events[:-2]]
    assert [d["reasoning"] for d in deltas if "reasoning" in d] == ["a", "b"]


def test_non_streamed_reply_is_one_completion(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply.text("Hello world", reasoning="plan", chunk_chars=3))
    response = post(fake_openai, chat(stream=False))
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["object"] == "chat.completion"
    choice = body["choices"][0]
    assert choice["finish_reason"] == "stop"
    assert choice["message"]["content"] == "Hello world" and choice["message"]["reasoning_content"] == "plan"
    assert choice["message"]["extra_content"]["google"]["thought_signature"] == DEFAULT_SIGNATURE
    assert choice["message"]["thought_signature"] == DEFAULT_SIGNATURE  # like the recordings
    assert body["usage"]["total_tokens"] > 0


def test_echo_when_nothing_is_queued(fake_openai: FakeOpenAI) -> None:
    body = post(fake_openai, chat(stream=False, reasoning_effort="high")).json()
    message = body["choices"][0]["message"]
    assert message["content"] == "Echo: hi" and message["reasoning_content"]
    plain = post(fake_openai, chat(stream=False)).json()["choices"][0]["message"]
    assert "reasoning_content" not in plain


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, "invalid_request_error"),
        (401, "authentication_error"),
        (403, "permission_error"),
        (404, "invalid_request_error"),
        (429, "rate_limit_error"),
        (500, "internal_error"),
        (503, "overloaded_error"),
    ],
)
def test_each_error_status_has_the_documented_body(fake_openai: FakeOpenAI, status: int, kind: str) -> None:
    fake_openai.enqueue(Reply.error(status))
    response = post(fake_openai, chat())
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == kind and error["message"]


def test_rate_limit_sends_retry_after_and_server_error_a_request_id(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply.rate_limited(retry_after="7"), Reply.server_error(request_id="req_abc123"))
    limited = post(fake_openai, chat())
    assert limited.status_code == 429 and limited.headers["retry-after"] == "7"
    assert limited.json()["error"]["code"] == "rate_limit_exceeded"
    failed = post(fake_openai, chat())
    assert failed.status_code == 500 and failed.headers["x-request-id"] == "req_abc123"


def test_authentication(fake_openai: FakeOpenAI) -> None:
    missing = post(fake_openai, chat(), key=None)
    assert missing.status_code == 401 and "didn't provide an API key" in missing.json()["error"]["message"]
    wrong = post(fake_openai, chat(), key="sk-wrong-key-123456")
    assert wrong.status_code == 401 and "sk-wrong-key-123456" not in wrong.text
    assert post(fake_openai, chat()).status_code == 200


def test_a_local_server_needs_no_key() -> None:
    with FakeOpenAI(api_keys=()) as fake:
        assert post(fake, chat(), key=None).status_code == 200
        assert fake.requests[0].api_key is None


def test_reasoning_effort_can_be_rejected_like_an_endpoint_that_does_not_know_it() -> None:
    with FakeOpenAI(reject_reasoning_effort=True) as fake:
        rejected = post(fake, chat(reasoning_effort="low"))
        assert rejected.status_code == 400
        assert rejected.json()["error"] == {
            "message": "Unrecognized request argument supplied: reasoning_effort",
            "type": "invalid_request_error",
            "param": "reasoning_effort",
            "code": None,
        }
        assert post(fake, chat()).status_code == 200
    with FakeOpenAI(reject_reasoning_effort={"minimal"}) as fake:
        assert post(fake, chat(reasoning_effort="minimal")).status_code == 400
        assert post(fake, chat(reasoning_effort="high")).status_code == 200


def test_request_validation(fake_openai: FakeOpenAI) -> None:
    bad = [
        chat(stream=False, stream_options={"include_usage": True}),
        chat(reasoning_effort="extreme"),
        {"messages": [{"role": "user", "content": "x"}]},
        {"model": "m", "messages": []},
        {"model": "m", "messages": [{"role": "robot", "content": "x"}]},
    ]
    for body in bad:
        response = post(fake_openai, body)
        assert response.status_code == 400, body
        assert response.json()["error"]["type"] == "invalid_request_error"
    assert "stream_options" in post(fake_openai, bad[0]).json()["error"]["message"]


def test_drop_mid_stream_ends_the_body_early(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply.text("one two three four", chunk_chars=4, drop_after=3))
    with pytest.raises(httpx2.RemoteProtocolError):
        post(fake_openai, chat())


def test_truncated_stream_has_no_finish_reason_and_no_done(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply.text("cut short", truncate=True))
    events = sse_events(post(fake_openai, chat()).text)
    assert "[DONE]" not in events
    assert all(json.loads(event)["choices"][0]["finish_reason"] is None for event in events)


def test_error_event_mid_stream(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply.text("partial answer", chunk_chars=4, error_after=2))
    events = sse_events(post(fake_openai, chat()).text)
    assert json.loads(events[-1])["error"]["type"] == "internal_error" and len(events) == 3


def test_models_list(fake_openai: FakeOpenAI) -> None:
    headers = {"Authorization": f"Bearer {fake_openai.api_key}"}
    listed = httpx2.get(f"{fake_openai.url}/models", headers=headers).json()
    assert listed["object"] == "list" and "gemini-3.5-flash" in [model["id"] for model in listed["data"]]
    assert httpx2.get(f"{fake_openai.url}/models/gemini-3.5-flash", headers=headers).json()["object"] == "model"
    assert httpx2.get(f"{fake_openai.url}/models/nope", headers=headers).status_code == 404


def test_wrong_path_is_a_404_like_a_base_url_without_v1(fake_openai: FakeOpenAI) -> None:
    url = fake_openai.url.removesuffix("/v1") + "/chat/completions"
    response = httpx2.post(url, json=chat(), headers={"Authorization": f"Bearer {fake_openai.api_key}"})
    assert response.status_code == 404 and "Invalid URL" in response.json()["error"]["message"]


def test_recordings_replay_unchanged(fake_openai: FakeOpenAI) -> None:
    assert len(RECORDINGS) == 2
    for path in RECORDINGS:
        recording = json.loads(path.read_text())
        fake_openai.enqueue(Reply.replay(recording))
        response = post(fake_openai, recording["request"]["body"])
        assert response.status_code == recording["response"]["status"]
        assert response.text == recording["response"]["body_text"]


def test_tool_call_signature_is_required_back(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply.tool_calls([("get_time", {}), ("get_date", {})]))
    first = post(fake_openai, chat(stream=False)).json()["choices"][0]["message"]
    calls = first["tool_calls"]
    assert calls[0]["extra_content"]["google"]["thought_signature"] == DEFAULT_SIGNATURE
    assert "extra_content" not in calls[1]
    history = [{"role": "user", "content": "time?"}]
    results = [{"role": "tool", "tool_call_id": call["id"], "content": "noon"} for call in calls]
    echoed = post(fake_openai, chat(stream=False, messages=[*history, first, *results]))
    assert echoed.status_code == 200
    stripped = json.loads(json.dumps(first))
    del stripped["tool_calls"][0]["extra_content"]
    missing = post(fake_openai, chat(stream=False, messages=[*history, stripped, *results]))
    assert missing.status_code == 400 and "missing a thought_signature" in missing.json()["error"]["message"]
    altered = json.loads(json.dumps(first))
    altered["tool_calls"][0]["extra_content"]["google"]["thought_signature"] = "AAAA"
    corrupted = post(fake_openai, chat(stream=False, messages=[*history, altered, *results]))
    assert corrupted.status_code == 400 and "Corrupted" in corrupted.json()["error"]["message"]
    assert fake_openai.server_errors == []


def test_request_log(fake_openai: FakeOpenAI) -> None:
    post(fake_openai, chat(reasoning_effort="minimal", messages=[{"role": "system", "content": "S"}]))
    request = fake_openai.completion_requests()[-1]
    assert (request.model, request.stream, request.reasoning_effort) == ("gemini-3.5-flash", True, "minimal")
    assert request.system_prompt() == "S" and request.api_key == fake_openai.api_key and request.include_usage()
