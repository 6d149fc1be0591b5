"""The fake Ollama server over real HTTP: the routes oterm and the ollama client call, in Ollama's wire format."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx2
import pytest

from flashchat.testing.fake_ollama import DEFAULT_MODEL, VERSION, FakeOllama
from flashchat.testing.fake_openai import Reply


@pytest.fixture
def ollama() -> Iterator[FakeOllama]:
    with FakeOllama() as fake:
        yield fake
        assert fake.server_errors == []


def chat(fake: FakeOllama, **body) -> httpx2.Response:
    body = {"model": "llama3.2", "messages": [{"role": "user", "content": "hi"}]} | body
    return httpx2.post(f"{fake.url}/api/chat", json=body, timeout=10)


def test_root_version_tags_show_and_ps_answer_as_ollama_does(ollama: FakeOllama) -> None:
    assert ollama.url == f"http://{ollama.host_port}"
    root = httpx2.get(f"{ollama.url}/", timeout=10)
    assert (root.status_code, root.text) == (200, "Ollama is running")
    assert httpx2.get(f"{ollama.url}/api/version", timeout=10).json() == {"version": VERSION}

    models = httpx2.get(f"{ollama.url}/api/tags", timeout=10).json()["models"]
    assert [model["name"] for model in models] == [DEFAULT_MODEL, "qwen3:8b"]
    assert {"name", "model", "modified_at", "size", "digest", "details"} <= set(models[0])
    assert models[0]["details"]["format"] == "gguf"

    shown = httpx2.post(f"{ollama.url}/api/show", json={"model": "llama3.2"}, timeout=10).json()
    assert shown["capabilities"] == ["completion", "tools"]
    assert shown["model_info"]["llama.context_length"] == ollama.context_length
    assert shown["details"] == models[0]["details"]
    assert {"modelfile", "parameters", "template", "modified_at"} <= set(shown)

    loaded = httpx2.get(f"{ollama.url}/api/ps", timeout=10).json()["models"]
    assert [(model["model"], model["context_length"]) for model in loaded] == [(DEFAULT_MODEL, ollama.context_length)]


def test_unknown_model_is_a_404_with_ollamas_error_body(ollama: FakeOllama) -> None:
    shown = httpx2.post(f"{ollama.url}/api/show", json={"model": "nope"}, timeout=10)
    assert (shown.status_code, shown.json()) == (404, {"error": "model 'nope' not found"})
    answer = chat(ollama, model="nope")
    assert answer.status_code == 404
    assert answer.json() == {"error": 'model "nope" not found, try pulling it first'}
    assert httpx2.get(f"{ollama.url}/api/nothing", timeout=10).status_code == 404


def test_chat_streams_ndjson_pieces_then_a_done_line_with_counters(ollama: FakeOllama) -> None:
    ollama.enqueue(Reply.text("Hello world", reasoning="plan", chunk_chars=6, signature=None))
    answer = chat(ollama, stream=True)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/x-ndjson"
    assert answer.text.endswith("\n")
    lines = [json.loads(line) for line in answer.text.splitlines()]
    assert [line["message"] for line in lines] == [
        {"role": "assistant", "content": "", "thinking": "plan"},
        {"role": "assistant", "content": "Hello "},
        {"role": "assistant", "content": "world"},
        {"role": "assistant", "content": ""},
    ]
    assert [line["done"] for line in lines] == [False, False, False, True]
    assert {line["model"] for line in lines} == {DEFAULT_MODEL}
    assert all(line["created_at"].endswith("Z") and len(line["created_at"]) == 30 for line in lines)
    final = lines[-1]
    assert final["done_reason"] == "stop"
    assert final["prompt_eval_count"] >= 1 and final["eval_count"] >= 1
    assert final["total_duration"] >= final["eval_duration"] > 0
    (request,) = ollama.native_chat_requests()
    assert request.user_texts() == ["hi"]


def test_chat_without_streaming_is_one_merged_object(ollama: FakeOllama) -> None:
    ollama.enqueue(Reply.text("Hello world", chunk_chars=3, signature=None))
    answer = chat(ollama, stream=False).json()
    assert answer["message"] == {"role": "assistant", "content": "Hello world"}
    assert answer["done"] is True


def test_unscripted_chat_echoes_the_last_user_message(ollama: FakeOllama) -> None:
    lines = [json.loads(line) for line in chat(ollama).text.splitlines()]
    assert "".join(line["message"]["content"] for line in lines) == "Echo: hi"


def test_the_openai_compatible_v1_routes_need_no_key_and_take_the_same_replies(ollama: FakeOllama) -> None:
    listed = httpx2.get(f"{ollama.url}/v1/models", timeout=10).json()
    assert [model["id"] for model in listed["data"]] == [DEFAULT_MODEL, "qwen3:8b"]
    ollama.enqueue(Reply.text("Hi there", chunk_chars=4, signature=None))
    body = {"model": DEFAULT_MODEL, "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    answer = httpx2.post(f"{ollama.url}/v1/chat/completions", json=body, timeout=10)
    assert answer.status_code == 200
    events = [event.removeprefix("data: ") for event in answer.text.split("\n\n") if event]
    assert events[-1] == "[DONE]"
    texts = [chunk["choices"][0]["delta"].get("content") for chunk in map(json.loads, events[:-1])]
    assert "".join(text or "" for text in texts) == "Hi there"
