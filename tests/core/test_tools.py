"""Built-in tools (grounding, code execution) and local function tools, against the fake Gemini server."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import json
from pathlib import Path

import pytest

from flashchat.config.settings import Settings
from flashchat.core.conversation import ToolCall
from flashchat.core.events import Finished, ToolFinished, ToolRequested
from flashchat.core.session import BUDGET_SPENT, DENIED, ChatSession, ToolApproval
from flashchat.providers.gemini import gemini_contents
from flashchat.render.sources import sources_markdown
from flashchat.store.conversation_store import open_store
from flashchat.testing.fake_gemini import DEFAULT_SIGNATURE, FakeGemini, Reply
from support import GROUNDING, WIRE, make_session


def decoded(value: str) -> bytes:
    return base64.urlsafe_b64decode(value.replace("+", "-").replace("/", "_") + "=" * (-len(value) % 4))


def camel(value):
    """Request JSON mixes snake_case and camelCase; compare in one spelling."""
    if isinstance(value, dict):
        return {
            "".join(w.capitalize() if i else w for i, w in enumerate(k.split("_"))): camel(v) for k, v in value.items()
        }
    if isinstance(value, list):
        return [camel(item) for item in value]
    return value


async def run(session: ChatSession, text: str) -> list:
    stream = session.send(text)
    async with contextlib.aclosing(stream):
        return [event async for event in stream]


class Approver:
    def __init__(self, *decisions: ToolApproval) -> None:
        self.decisions = list(decisions)
        self.asked: list[ToolCall] = []

    async def __call__(self, call: ToolCall) -> ToolApproval:
        self.asked.append(call)
        return self.decisions.pop(0) if self.decisions else ToolApproval.ONCE


def tools_session(settings: Settings, workdir: Path, approve_tool=None, **options) -> ChatSession:
    """A session with the local tools on, confined to `workdir`; `options` change other settings."""
    return make_session(
        dataclasses.replace(settings, local_tools=True, **options), approve_tool=approve_tool, working_dir=workdir
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    root = tmp_path / "work"
    root.mkdir()
    (root / "a.py").write_text("print('a')\n")
    (root / "notes.md").write_text("# Notes\n")
    (tmp_path / "secret.txt").write_text("private\n")
    return root


async def test_grounded_reply_keeps_and_shows_its_sources(fake: FakeGemini, settings: Settings) -> None:
    chunk = {
        "candidates": [
            {
                "content": {"role": "model", "parts": [{"text": "It is cloudy, 14 °C.", "thoughtSignature": "c2ln"}]},
                "finishReason": "STOP",
                "groundingMetadata": GROUNDING,
            }
        ]
    }
    fake.enqueue(Reply.events([chunk]))
    store = open_store()
    session = make_session(dataclasses.replace(settings, google_search=True), store=store)
    events = await run(session, "weather in Tokyo?")
    await session.aclose()
    assert fake.generate_requests()[0].body["tools"] == [{"googleSearch": {}}]
    message = events[-1].message
    assert sources_markdown(message.extras) == (
        "Sources:\n\n1. [weather.com](https://weather.com/tokyo)\n2. [jma.go.jp](https://www.jma.go.jp/tokyo)\n\n"
        "Searched for: “weather in Tokyo today”"
    )
    reloaded = store.load(session.conversation.id).messages[-1]
    assert reloaded.extras == message.extras


async def test_code_execution_is_shown_and_echoed_back(fake: FakeGemini, settings: Settings) -> None:
    recording = json.loads((WIRE / "pydantic-ai/test_code_execution_stream__00.json").read_text())
    fake.enqueue(Reply.replay(recording), Reply.text("Done."))
    session = make_session(dataclasses.replace(settings, code_execution=True))
    events = await run(session, "compute it")
    text = events[-1].message.text
    assert "```python\nresult = 65465 - 6544 * 65464 - 6 + 1.02255\nprint(result)\n```" in text
    assert "Output:\n\n```text\n-428330955.97745\n```" in text
    await run(session, "thanks")
    await session.aclose()
    assert fake.generate_requests()[0].body["tools"] == [{"codeExecution": {}}]
    model_turn = camel(fake.generate_requests()[1].contents[1])
    kinds = [next(k for k in part if k != "thoughtSignature") for part in model_turn["parts"]]
    assert kinds == ["executableCode", "text", "codeExecutionResult", "text", "text"]  # as streamed, empty part too
    assert model_turn["parts"][0]["executableCode"]["id"] == "8xju7mua"
    recorded_parts = [
        json.loads(block[6:])["candidates"][0]["content"]["parts"]
        for block in recording["response"]["body_text"].split("\r\n\r\n")[:-1]
    ]
    assert decoded(model_turn["parts"][0]["thoughtSignature"]) == base64.b64decode(
        recorded_parts[0][0]["thoughtSignature"]
    )


async def test_parallel_calls_get_one_response_each_with_matching_ids(
    fake: FakeGemini, settings: Settings, workdir: Path
) -> None:
    fake.enqueue(
        Reply.function_calls([("read_file", {"path": "a.py"}), ("list_directory", {"path": "."})]),
        Reply.text("a.py prints 'a'."),
    )
    approver = Approver(ToolApproval.ONCE, ToolApproval.ONCE)
    session = tools_session(settings, workdir, approver)
    events = await run(session, "what does a.py do?")
    await session.aclose()
    assert [type(e).__name__ for e in events if not type(e).__name__.endswith(("Delta", "Update"))] == [
        "Finished", "ToolRequested", "ToolFinished", "ToolRequested", "ToolFinished", "Finished",
    ]  # fmt: skip
    assert [c.describe() for c in approver.asked] == ["read_file(path='a.py')", "list_directory(path='.')"]
    first, second = fake.generate_requests()
    declared = camel(first.body["tools"])[0]["functionDeclarations"]
    assert [d["name"] for d in declared] == ["read_file", "list_directory", "search_text"]
    model_turn, answers = camel(second.contents[1]), camel(second.contents[2])
    calls = [p for p in model_turn["parts"] if "functionCall" in p]
    assert [(c["functionCall"]["id"], c["functionCall"]["name"]) for c in calls] == [
        ("fc-1", "read_file"), ("fc-2", "list_directory"),
    ]  # fmt: skip
    assert decoded(calls[0]["thoughtSignature"]) == DEFAULT_SIGNATURE and "thoughtSignature" not in calls[1]
    assert answers["role"] == "user"
    assert [(p["functionResponse"]["id"], p["functionResponse"]["name"]) for p in answers["parts"]] == [
        ("fc-1", "read_file"), ("fc-2", "list_directory"),
    ]  # fmt: skip
    assert answers["parts"][0]["functionResponse"]["response"] == {"result": "print('a')\n"}
    assert answers["parts"][1]["functionResponse"]["response"] == {"result": ["a.py", "notes.md"]}
    assert events[-1].message.text == "a.py prints 'a'."


async def test_denied_and_outside_calls_answer_with_errors(fake: FakeGemini, settings: Settings, workdir: Path) -> None:
    fake.enqueue(
        Reply.function_calls([("read_file", {"path": "../secret.txt"}), ("read_file", {"path": "a.py"})]),
        Reply.text("Understood."),
    )
    approver = Approver(ToolApproval.ONCE, ToolApproval.DENY)
    session = tools_session(settings, workdir, approver)
    events = await run(session, "read things")
    await session.aclose()
    finished = [e for e in events if isinstance(e, ToolFinished)]
    assert "outside the working directory" in finished[0].response["error"] and finished[0].approved
    assert finished[1].response == {"error": DENIED} and not finished[1].approved
    answers = camel(fake.generate_requests()[1].contents[2])["parts"]
    assert [p["functionResponse"]["response"] for p in answers] == [finished[0].response, {"error": DENIED}]


async def test_always_is_remembered_and_the_budget_is_enforced(
    fake: FakeGemini, settings: Settings, workdir: Path
) -> None:
    fake.enqueue(
        Reply.function_calls([("list_directory", {})]),
        Reply.function_calls([("list_directory", {}), ("read_file", {"path": "a.py"})]),
        Reply.text("Enough."),
    )
    approver = Approver(ToolApproval.ALWAYS)
    session = tools_session(settings, workdir, approver, max_tool_calls=2)
    events = await run(session, "explore")
    await session.aclose()
    finished = [e for e in events if isinstance(e, ToolFinished)]
    assert [c.name for c in approver.asked] == ["list_directory"]  # "always" is remembered; over budget: not asked
    assert [f.approved for f in finished] == [True, True, False]
    assert finished[2].response == {"error": BUDGET_SPENT.format(limit=2)}
    assert isinstance(events[-1], Finished) and events[-1].message.text == "Enough."


async def test_without_an_approver_calls_are_denied(fake: FakeGemini, settings: Settings, workdir: Path) -> None:
    fake.enqueue(Reply.function_calls([("read_file", {"path": "a.py"})]), Reply.text("ok"))
    session = tools_session(settings, workdir)
    events = await run(session, "x")
    await session.aclose()
    assert next(e for e in events if isinstance(e, ToolFinished)).response == {"error": DENIED}


async def test_stopping_during_approval_still_answers_every_call(
    fake: FakeGemini, settings: Settings, workdir: Path
) -> None:
    fake.enqueue(Reply.function_calls([("read_file", {"path": "a.py"})]), Reply.text("after"))

    async def never_answers(call: ToolCall) -> ToolApproval:
        await asyncio.sleep(3600)
        return ToolApproval.DENY

    session = tools_session(settings, workdir, never_answers)
    stream = session.send("read a.py")
    async with contextlib.aclosing(stream):
        async for event in stream:
            if isinstance(event, ToolRequested):
                break
    assert session.conversation.messages[-1].answers_tool_calls
    await run(session, "never mind")  # the history is still valid: the fake accepts it
    await session.aclose()
    answers = camel(fake.generate_requests()[1].contents[2])["parts"]
    assert "stopped the turn" in answers[0]["functionResponse"]["response"]["error"]


async def test_regenerate_drops_the_whole_tool_round(fake: FakeGemini, settings: Settings, workdir: Path) -> None:
    fake.enqueue(Reply.function_calls([("list_directory", {})]), Reply.text("first"), Reply.text("second"))
    session = tools_session(settings, workdir, Approver())
    await run(session, "look")
    stream = session.regenerate()
    async with contextlib.aclosing(stream):
        [event async for event in stream]
    await session.aclose()
    assert [m.role for m in session.conversation.messages] == ["user", "model"]
    assert fake.generate_requests()[-1].contents == fake.generate_requests()[0].contents


@pytest.mark.parametrize(
    "name", ["test_google_streaming_tool_call_thought_signature", "test_native_output_with_function_tools_stream"]
)
async def test_recorded_function_call_follow_ups_can_be_rebuilt(
    fake: FakeGemini, settings: Settings, name: str
) -> None:
    """Replay the recorded call, answer it as the recording did, and compare with the recorded follow-up."""
    call_recording = json.loads((WIRE / f"pydantic-ai/{name}__00.json").read_text())
    follow_up = json.loads((WIRE / f"pydantic-ai/{name}__01.json").read_text())["request"]["body"]["contents"]
    fake.enqueue(Reply.replay(call_recording))
    session = make_session(settings)
    events = await run(session, call_recording["request"]["body"]["contents"][0]["parts"][0]["text"])
    await session.aclose()
    assert any(isinstance(event, Finished) for event in events)
    # Tools were off, so flashchat answered the call itself (an error); the recording's answer replaces it.
    assert [event.declared for event in events if isinstance(event, ToolFinished)] == [False]
    assert session.conversation.messages.pop().answers_tool_calls
    recorded_answers = follow_up[2]["parts"]
    recorded_calls = [p for p in follow_up[1]["parts"] if "functionCall" in p]
    results = [
        (call, answer["functionResponse"]["response"])
        for call, answer in zip(session._pending_calls or _calls_of(session), recorded_answers, strict=True)
    ]
    session.conversation.add(session.provider.tool_results_message(results))
    raw = gemini_contents(session.conversation)
    rebuilt = camel(raw)
    assert rebuilt[0] == follow_up[0]
    ours = [p for p in rebuilt[1]["parts"] if "functionCall" in p]
    assert [(p["functionCall"]["name"], p["functionCall"]["args"]) for p in ours] == [
        (p["functionCall"]["name"], p["functionCall"]["args"]) for p in recorded_calls
    ]
    assert [decoded(p["thoughtSignature"]) for p in ours] == [decoded(p["thoughtSignature"]) for p in recorded_calls]
    assert [(p["function_response"]["name"], p["function_response"]["response"]) for p in raw[2]["parts"]] == [
        (p["functionResponse"]["name"], p["functionResponse"]["response"]) for p in recorded_answers
    ]


def _calls_of(session: ChatSession) -> list[ToolCall]:
    parts = session.conversation.messages[-1].native["parts"]
    return [ToolCall(p["function_call"]["name"], p["function_call"].get("args", {}), p["function_call"].get("id"))
            for p in parts if "function_call" in p]  # fmt: skip
