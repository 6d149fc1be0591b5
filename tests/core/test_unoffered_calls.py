"""Function calls flashchat did not offer, unanswered calls in imported history, and Vertex-style streamed
arguments: each shown, kept with its signature and answered, so the next request is one the API accepts."""

from __future__ import annotations

import base64
import dataclasses
import json
from pathlib import Path

from flashchat.config.settings import Settings
from flashchat.core.events import Failed, Finished, ToolFinished, ToolRequested
from flashchat.core.session import NOT_OFFERED
from flashchat.providers.gemini_calls import UNANSWERED
from flashchat.store.conversation_store import EXPORT_FORMAT, open_store
from flashchat.testing.fake_gemini import DEFAULT_SIGNATURE, FakeGemini, Reply, encode_signature
from support import collect, make_session, run_cli


def _signature(part: dict) -> bytes:
    value = part.get("thoughtSignature") or part.get("thought_signature")
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def _responses(content: dict) -> list[dict]:
    return [p.get("functionResponse") or p.get("function_response") for p in content["parts"] if "text" not in p]


async def test_a_call_of_a_tool_flashchat_did_not_offer_is_shown_kept_and_answered(
    fake: FakeGemini, settings: Settings
) -> None:
    """Tools off; the model (or a gateway) calls `lookup_weather` anyway. The call is shown, not run, answered with
    an error under its id and name, and the next turn's request is valid (the fake checks the count as the API
    does) with the call's signature byte-exact."""
    fake.enqueue(Reply.function_calls([("lookup_weather", {"city": "Paris"}), ("get_time", {})]))
    fake.enqueue(Reply.text("Sorry, I cannot look that up."))
    session = make_session(settings)
    events = await collect(session.send("weather in Paris?"))
    requested = [event.call.name for event in events if isinstance(event, ToolRequested)]
    finished = [event for event in events if isinstance(event, ToolFinished)]
    assert requested == ["lookup_weather", "get_time"]
    assert [(e.declared, e.approved, e.response) for e in finished] == [
        (False, False, {"error": NOT_OFFERED.format(name="lookup_weather")}),
        (False, False, {"error": NOT_OFFERED.format(name="get_time")}),
    ]
    assert len(fake.generate_requests()) == 1  # nothing ran, so the turn ends: the user decides what next

    events = await collect(session.send("never mind"))
    await session.aclose()
    assert isinstance(events[-1], Finished) and events[-1].message.text == "Sorry, I cannot look that up."
    model_turn, answers, typed = fake.generate_requests()[1].contents[1:4]
    assert _signature(model_turn["parts"][0]) == DEFAULT_SIGNATURE
    assert [(r["id"], r["name"]) for r in _responses(answers)] == [("fc-1", "lookup_weather"), ("fc-2", "get_time")]
    assert typed["parts"] == [{"text": "never mind"}]


async def test_an_unoffered_call_next_to_a_local_tool_call_is_answered_in_the_same_turn(
    fake: FakeGemini, settings: Settings, workdir: Path
) -> None:
    fake.enqueue(Reply.function_calls([("read_file", {"path": "app.py"}), ("delete_everything", {})]))
    fake.enqueue(Reply.text("Done."))

    async def allow(call):
        from flashchat.core.session import ToolApproval

        return ToolApproval.ONCE

    session = make_session(dataclasses.replace(settings, local_tools=True), approve_tool=allow, working_dir=workdir)
    events = await collect(session.send("read app.py"))
    await session.aclose()
    assert [(e.call.name, e.declared) for e in events if isinstance(e, ToolFinished)] == [
        ("read_file", True),
        ("delete_everything", False),
    ]
    answers = _responses(fake.generate_requests()[1].contents[2])
    assert [r["name"] for r in answers] == ["read_file", "delete_everything"]
    assert "def add" in answers[0]["response"]["result"]


def test_one_shot_shows_an_unoffered_call_on_stderr(fake: FakeGemini, cli_env: dict) -> None:
    fake.enqueue(Reply.function_calls([("lookup_weather", {"city": "Paris"})]))
    result = run_cli(["-p", "weather in Paris?"], cli_env)
    assert result.returncode == 0, result.stderr
    assert "tool: lookup_weather(city='Paris')" in result.stderr
    assert "tool: lookup_weather -> not a flashchat tool: not run, answered with an error" in result.stderr


def _export(contents_of_model: dict, *, answered: bool) -> dict:
    """A flashchat export of a conversation imported from another client, camelCase parts and all."""
    messages = [
        {"role": "user", "text": "weather?", "provider": "gemini"},
        {"role": "model", "text": "", "native": contents_of_model, "provider": "gemini", "finish_reason": "STOP"},
    ]
    if answered:
        reply = {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"t": 20}}}]}
        messages.append({"role": "user", "text": "[tool results]", "native": reply, "provider": "gemini"})
    return {"format": EXPORT_FORMAT, "version": 1, "conversation": {"title": "x"}, "messages": messages}


async def test_an_imported_conversation_that_ends_with_an_unanswered_call_can_be_continued(
    fake: FakeGemini, settings: Settings, tmp_path: Path
) -> None:
    signature = encode_signature(b"imported-signature")
    model = {
        "role": "model",
        "parts": [
            {
                "functionCall": {"name": "get_weather", "args": {"city": "Oslo"}, "id": "c1"},
                "thoughtSignature": signature,
            },
            {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}, "id": "c2"}},
        ],
    }
    store = open_store(tmp_path / "history.db")
    document = _export(model, answered=False)
    conversation = store.load(store.import_json(document))
    fake.enqueue(Reply.text("It is sunny in both."))
    session = make_session(settings, store=store, conversation=conversation)
    events = await collect(session.send("and now?"))
    await session.aclose()
    assert isinstance(events[-1], Finished), events[-1]
    sent = fake.generate_requests()[0].contents
    assert [c["role"] for c in sent] == ["user", "model", "user"]
    assert _signature(sent[1]["parts"][0]) == b"imported-signature"
    answers = _responses(sent[2])
    assert [(r["id"], r["name"], r["response"]) for r in answers] == [
        ("c1", "get_weather", {"error": UNANSWERED}),
        ("c2", "get_weather", {"error": UNANSWERED}),
    ]
    assert sent[2]["parts"][-1] == {"text": "and now?"}


async def test_vertex_style_streamed_arguments_are_assembled(fake: FakeGemini, settings: Settings) -> None:
    """`partialArgs` pieces over four chunks become one call with whole args; the next request sends that call
    (no partialArgs, which the SDK refuses to send) with its signature, and no traceback anywhere."""
    signature = encode_signature(DEFAULT_SIGNATURE)

    def chunk(call: dict, **part: str) -> dict:
        return {"candidates": [{"content": {"role": "model", "parts": [{"functionCall": call, **part}]}, "index": 0}]}

    location = {"jsonPath": "$.location", "stringValue": "Bos", "willContinue": True}
    days = {"jsonPath": "$.days", "numberValue": 3}
    chunks = [
        chunk({"name": "get_weather", "id": "w1", "willContinue": True}, thoughtSignature=signature),
        chunk({"partialArgs": [location], "willContinue": True}),
        chunk({"partialArgs": [{**location, "stringValue": "ton"}, days], "willContinue": True}),
        chunk({"partialArgs": [{"jsonPath": "$.units.metric", "boolValue": True}]}),
        {"candidates": [{"content": {"role": "model", "parts": [{"text": ""}]}, "finishReason": "STOP", "index": 0}]},
    ]
    fake.enqueue(Reply.events(chunks))
    fake.enqueue(Reply.text("Noted."))
    session = make_session(settings)
    events = await collect(session.send("weather in Boston"))
    calls = [event.call for event in events if isinstance(event, ToolRequested)]
    assert [(c.name, c.id, c.args) for c in calls] == [
        ("get_weather", "w1", {"location": "Boston", "days": 3, "units": {"metric": True}})
    ]
    events = await collect(session.send("thanks"))
    await session.aclose()
    assert isinstance(events[-1], Finished), events[-1]
    model_turn = fake.generate_requests()[1].contents[1]
    calls_sent = [p for p in model_turn["parts"] if "functionCall" in p or "function_call" in p]
    assert len(calls_sent) == 1
    sent_call = calls_sent[0].get("functionCall") or calls_sent[0]["function_call"]
    whole = {"location": "Boston", "days": 3, "units": {"metric": True}}
    assert sent_call == {"name": "get_weather", "id": "w1", "args": whole}
    assert _signature(calls_sent[0]) == DEFAULT_SIGNATURE
    assert "partial" not in json.dumps(fake.generate_requests()[1].contents).lower()


async def test_a_streamed_argument_path_that_cannot_be_followed_is_refused_in_one_line(
    fake: FakeGemini, settings: Settings
) -> None:
    call = {"name": "f", "willContinue": True, "partialArgs": [{"jsonPath": "location", "stringValue": "x"}]}
    fake.enqueue(Reply.events([{"candidates": [{"content": {"role": "model", "parts": [{"functionCall": call}]}}]}]))
    session = make_session(settings)
    events = await collect(session.send("go"))
    await session.aclose()
    assert isinstance(events[-1], Failed)
    assert events[-1].error.message == (
        "The model streamed a function call with an argument path flashchat cannot follow ('location'); "
        "flashchat refused it."
    )


async def test_plain_mode_shows_an_unoffered_call(fake: FakeGemini, settings: Settings, tmp_path: Path) -> None:
    from repl_driver import ReplDriver

    fake.enqueue(Reply.function_calls([("lookup_weather", {"city": "Paris"})]))
    driver = ReplDriver(settings, tmp_path)
    await driver.start()
    driver.type("weather?\r")
    output = await driver.wait_for_output("answered with an error")
    await driver.quit()
    assert "tool call: lookup_weather(city='Paris')" in output
    assert "tool lookup_weather: not a flashchat tool: not run, answered with an error" in output
