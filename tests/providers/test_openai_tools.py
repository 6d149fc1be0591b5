"""Local tools and typed content over OpenAI-compatible endpoints, through real HTTP against fake_openai."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from flashchat.config.settings import Settings
from flashchat.core.conversation import Conversation, Message
from flashchat.core.events import Finished, TextDelta, ThoughtDelta, ToolFinished, ToolRequested
from flashchat.core.session import ToolApproval
from flashchat.providers import capabilities_for
from flashchat.providers.openai_tools import UNANSWERED
from flashchat.testing.fake_openai import DEFAULT_SIGNATURE, FakeOpenAI, Reply
from support import WIRE, collect, make_session


class Approver:
    def __init__(self) -> None:
        self.asked: list[str] = []

    async def __call__(self, call) -> ToolApproval:
        self.asked.append(call.describe())
        return ToolApproval.ONCE


def tools_on(settings: Settings, **changes) -> Settings:
    return dataclasses.replace(settings, local_tools=True, **changes)


def test_the_openai_provider_offers_the_local_tools(openai_settings: Settings) -> None:
    assert capabilities_for(openai_settings).offers("local_tools")


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "non-streamed"])
async def test_tool_calls_split_over_chunks_run_after_approval_and_are_answered(
    fake_openai: FakeOpenAI, openai_settings: Settings, workdir: Path, stream: bool
) -> None:
    """Two calls whose arguments arrive in 3-character pieces, interleaved by index: assembled, approved, run,
    answered with `role: "tool"` messages under their ids, the signature on the first call sent back exactly."""
    fake_openai.enqueue(
        Reply.tool_calls([("read_file", {"path": "app.py"}), ("list_directory", {"path": "."})], argument_chars=3)
    )
    fake_openai.enqueue(Reply.text("app.py subtracts."))
    approver = Approver()
    session = make_session(tools_on(openai_settings, stream=stream), approve_tool=approver, working_dir=workdir)
    events = await collect(session.send("what does app.py do?"))
    await session.aclose()
    assert approver.asked == ["read_file(path='app.py')", "list_directory(path='.')"]
    assert [(e.call.id, e.approved, e.declared) for e in events if isinstance(e, ToolFinished)] == [
        ("call_1", True, True),
        ("call_2", True, True),
    ]
    assert isinstance(events[-1], Finished) and events[-1].message.text == "app.py subtracts."
    first, second = fake_openai.completion_requests()
    assert [tool["function"]["name"] for tool in first.body["tools"]] == ["read_file", "list_directory", "search_text"]
    assert first.body["tools"][0]["function"]["parameters"]["required"] == ["path"]
    assistant, read, listed = second.messages[1:4]
    assert [call["function"] for call in assistant["tool_calls"]] == [
        {"name": "read_file", "arguments": '{"path": "app.py"}'},
        {"name": "list_directory", "arguments": '{"path": "."}'},
    ]
    assert assistant["tool_calls"][0]["extra_content"] == {"google": {"thought_signature": DEFAULT_SIGNATURE}}
    assert (read["role"], read["tool_call_id"]) == ("tool", "call_1")
    assert "return a - b" in json.loads(read["content"])["result"]
    assert (listed["tool_call_id"], json.loads(listed["content"])["result"][0]) == ("call_2", "app.py")


async def test_calls_without_index_are_told_apart_by_id(
    fake_openai: FakeOpenAI, openai_settings: Settings, workdir: Path
) -> None:
    """Older Ollama: each call whole in its own chunk, no `index`."""

    def call(ident: str, name: str, args: dict) -> dict:
        function = {"name": name, "arguments": json.dumps(args)}
        delta = {"role": "assistant", "tool_calls": [{"id": ident, "type": "function", "function": function}]}
        return {"choices": [{"index": 0, "delta": delta, "finish_reason": None}]}

    end = {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}
    fake_openai.enqueue(
        Reply.events([call("a1", "read_file", {"path": "app.py"}), call("b2", "list_directory", {}), end])
    )
    fake_openai.enqueue(Reply.text("Done."))
    session = make_session(tools_on(openai_settings), approve_tool=Approver(), working_dir=workdir)
    events = await collect(session.send("look"))
    await session.aclose()
    assert [(e.call.id, e.call.name) for e in events if isinstance(e, ToolRequested)] == [
        ("a1", "read_file"),
        ("b2", "list_directory"),
    ]
    assert [m.get("tool_call_id") for m in fake_openai.completion_requests()[1].messages[2:4]] == ["a1", "b2"]


async def test_gemini_compatible_calls_without_an_id_are_answered_under_one_they_are_given(
    fake_openai: FakeOpenAI, openai_settings: Settings
) -> None:
    """The recorded Gemini endpoint sends `"id": ""`; the call (of a tool flashchat lacks) is answered with an error
    under `call_0`, the same id the assistant message goes back with, with its signature untouched."""
    recording = json.loads((WIRE / "pydantic-ai/test_compatible_api_with_tool_calls_without_id__00.json").read_text())
    fake_openai.enqueue(Reply.replay(recording))
    fake_openai.enqueue(Reply.text("I cannot tell the time."))
    session = make_session(dataclasses.replace(openai_settings, stream=False))
    events = await collect(session.send("What is the current time?"))
    assert [(e.call.name, e.call.id, e.declared) for e in events if isinstance(e, ToolFinished)] == [
        ("get_current_time", "call_0", False)
    ]
    events = await collect(session.send("ok"))
    await session.aclose()
    assert isinstance(events[-1], Finished), events[-1]
    assistant, answer, typed = fake_openai.completion_requests()[1].messages[1:4]
    recorded = json.loads(recording["response"]["body_text"])["choices"][0]["message"]
    assert assistant["tool_calls"] == [{**recorded["tool_calls"][0], "id": "call_0"}]
    assert assistant["extra_content"] == recorded["extra_content"]
    assert (answer["role"], answer["tool_call_id"]) == ("tool", "call_0")
    assert typed == {"role": "user", "content": "ok"}


async def test_a_stored_conversation_ending_with_unanswered_tool_calls_can_be_continued(
    fake_openai: FakeOpenAI, openai_settings: Settings
) -> None:
    calls = [
        {"id": "x1", "type": "function", "function": {"name": "read_file", "arguments": '{"path": "a"}'}},
        {"id": "x2", "type": "function", "function": {"name": "weather", "arguments": "{}"}},
    ]
    reply = Message(
        role="model",
        text="",
        provider="openai",
        native={"role": "assistant", "content": None, "tool_calls": calls},
        finish_reason="TOOL_CALLS",
    )
    session = make_session(openai_settings, conversation=Conversation(messages=[Message("user", "hi"), reply]))
    events = await collect(session.send("go on"))
    await session.aclose()
    assert isinstance(events[-1], Finished), events[-1]
    sent = fake_openai.completion_requests()[0].messages
    assert [m["role"] for m in sent] == ["user", "assistant", "tool", "tool", "user"]
    assert [(m["tool_call_id"], json.loads(m["content"])) for m in sent[2:4]] == [
        ("x1", {"error": UNANSWERED}),
        ("x2", {"error": UNANSWERED}),
    ]


def _chunk(content=None, finish=None, **delta) -> dict:
    if content is not None:
        delta["content"] = content
    return {"id": "m1", "model": "magistral-medium", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


async def test_a_mistral_style_typed_stream_shows_thinking_as_thoughts(
    fake_openai: FakeOpenAI, openai_settings: Settings
) -> None:
    chunks = [
        _chunk("", role="assistant"),
        _chunk([{"type": "thinking", "thinking": [{"type": "text", "text": "The user greets"}]}]),
        _chunk([{"type": "thinking", "thinking": [{"type": "text", "text": " me."}]}]),
        _chunk([{"type": "text", "text": "Hello"}]),
        _chunk([{"type": "text", "text": " there!"}]),
        _chunk([], finish="stop"),
    ]
    fake_openai.enqueue(Reply.events(chunks))
    fake_openai.enqueue(Reply.text("Again."))
    session = make_session(dataclasses.replace(openai_settings, show_thoughts=True))
    events = await collect(session.send("hi"))
    assert [e.text for e in events if isinstance(e, ThoughtDelta)] == ["The user greets", " me."]
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["Hello", " there!"]
    message = events[-1].message
    assert (message.text, message.thoughts, message.finish_reason) == ("Hello there!", "The user greets me.", "STOP")
    await collect(session.send("again"))
    await session.aclose()
    assert fake_openai.completion_requests()[1].messages[1] == {"role": "assistant", "content": "Hello there!"}


@pytest.mark.parametrize(
    ("message", "text", "thoughts"),
    [
        (
            {"role": "assistant", "content": [{"type": "thinking", "thinking": "Hmm.", "signature": "s"},
                                              {"type": "text", "text": "Yes."}]},
            "Yes.",
            "Hmm.",
        ),
        ({"role": "assistant", "content": [{"type": "text", "text": "A"}, {"type": "image_url"}, "B"]}, "AB", ""),
        ({"role": "assistant", "content": "Plain.", "reasoning": "Thought."}, "Plain.", "Thought."),
        ({"role": "assistant", "content": "Plain.", "reasoning_content": "Deep."}, "Plain.", "Deep."),
        ({"role": "assistant", "content": [{"type": "reasoning", "text": "R."}, {"type": "output_text", "text": "O."}]},
         "O.", "R."),
    ],
    ids=["anthropic-shaped", "mixed", "reasoning", "reasoning_content", "responses-shaped"],
)  # fmt: skip
async def test_non_streamed_typed_content_is_read(
    fake_openai: FakeOpenAI, openai_settings: Settings, message: dict, text: str, thoughts: str
) -> None:
    body = {"id": "c", "model": "m", "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}
    fake_openai.enqueue(Reply.completion_object(body))
    session = make_session(dataclasses.replace(openai_settings, stream=False))
    events = await collect(session.send("q"))
    await session.aclose()
    assert isinstance(events[-1], Finished), events[-1]
    assert (events[-1].message.text, events[-1].message.thoughts) == (text, thoughts)


def test_one_shot_runs_local_tools_through_an_openai_endpoint(
    fake_openai: FakeOpenAI, cli_env: dict, config_file: Path, tmp_path: Path
) -> None:
    """`--allow-tools` against a local server: the streamed call (arguments in 4-character pieces) is shown on
    stderr, run, answered with a tool message; the answer is printed; exit 0."""
    import subprocess
    import sys

    config_file.write_text(
        f'[endpoints.local]\nprovider = "openai"\nbase_url = "{fake_openai.url}"\nmodel = "qwen3"\n'
        f'api_key = "{fake_openai.api_key}"\n'
    )
    (tmp_path / "notes.txt").write_text("remember the milk\n")
    fake_openai.enqueue(Reply.tool_calls([("read_file", {"path": "notes.txt"})], argument_chars=4))
    fake_openai.enqueue(Reply.text("Buy milk."))
    completed = subprocess.run(
        [sys.executable, "-m", "flashchat", "--endpoint", "local", "-p", "what do I need?", "--allow-tools"],
        capture_output=True,
        env=cli_env,
        cwd=tmp_path,
    )
    stderr = completed.stderr.decode()
    assert completed.returncode == 0, stderr
    assert completed.stdout.decode() == "Buy milk.\n"
    assert "tool: read_file(path='notes.txt')" in stderr and "tool: read_file -> ok" in stderr
    answer = fake_openai.completion_requests()[1].messages[-1]
    assert answer["role"] == "tool" and "remember the milk" in json.loads(answer["content"])["result"]


def _tool_delta(*calls: dict, finish: str | None = None) -> dict:
    delta = {"role": "assistant", "tool_calls": list(calls)} if calls else {}
    return {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


async def test_parallel_calls_that_all_say_index_0_stay_apart(
    fake_openai: FakeOpenAI, openai_settings: Settings
) -> None:
    """Some gateways number every parallel call 0; each arrives whole, with its own id."""
    chunks = [
        _tool_delta({"index": 0, "id": "a", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}}),
        _tool_delta({"index": 0, "id": "b", "type": "function", "function": {"name": "f", "arguments": '{"x": 2}'}}),
        _tool_delta(finish="tool_calls"),
    ]
    fake_openai.enqueue(Reply.events(chunks))
    session = make_session(openai_settings)
    events = await collect(session.send("go"))
    await session.aclose()
    assert [(e.call.id, e.call.args) for e in events if isinstance(e, ToolRequested)] == [
        ("a", {"x": 1}),
        ("b", {"x": 2}),
    ]


async def test_gemini_indexless_pieces_and_a_separate_signature_make_one_call(
    fake_openai: FakeOpenAI, openai_settings: Settings, workdir: Path
) -> None:
    """Gemini's endpoint may omit `index`, split the arguments over indexless pieces, send the call's
    extra_content in a piece of its own and finish with "stop": one call, signature kept, run and answered."""
    signature = {"google": {"thought_signature": DEFAULT_SIGNATURE}}
    chunks = [
        _tool_delta({"id": "", "type": "function", "function": {"name": "read_file", "arguments": '{"pa'}}),
        _tool_delta({"function": {"arguments": 'th": "app.py"}'}}),
        _tool_delta({"extra_content": signature}),
        _tool_delta(finish="stop"),
    ]
    fake_openai.enqueue(Reply.events(chunks))
    fake_openai.enqueue(Reply.text("Read."))
    session = make_session(tools_on(openai_settings), approve_tool=Approver(), working_dir=workdir)
    events = await collect(session.send("read app.py"))
    await session.aclose()
    assert [(e.call.name, e.call.args, e.approved) for e in events if isinstance(e, ToolFinished)] == [
        ("read_file", {"path": "app.py"}, True)
    ]
    assistant, answer = fake_openai.completion_requests()[1].messages[1:3]
    assert assistant["tool_calls"] == [
        {
            "id": "call_0",
            "type": "function",
            "function": {"name": "read_file", "arguments": '{"path": "app.py"}'},
            "extra_content": signature,
        }
    ]
    assert answer["tool_call_id"] == "call_0"
