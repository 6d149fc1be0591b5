"""The Interactions API mode of the Gemini provider, through the real google-genai client against
`flashchat.testing.fake_interactions` on 127.0.0.1: what each request carried (previous_interaction_id, only
the new input, signatures byte for byte), what the user sees (text, thoughts, sources, notices, errors) and
what is stored."""

from __future__ import annotations

import base64

import pytest

from flashchat.config.settings import Settings
from flashchat.core.errors import ErrorKind
from flashchat.core.events import Failed, Finished, Retrying, TextDelta, ThoughtDelta, ToolFinished, UsageUpdate
from flashchat.core.session import ChatSession, ToolApproval
from flashchat.providers.gemini_interactions import EXPIRED_NOTICE, LEGACY_MESSAGE
from flashchat.render.sources import sources_markdown
from flashchat.testing.fake_gemini import DEFAULT_SIGNATURE
from flashchat.testing.fake_gemini import Reply as GenerateReply
from flashchat.testing.fake_interactions import FakeInteractions, IReply
from support import collect, make_session


@pytest.fixture
def ifake() -> FakeInteractions:
    with FakeInteractions() as server:
        yield server


@pytest.fixture
def isettings(ifake: FakeInteractions) -> Settings:
    return Settings(
        api_key=ifake.api_key, base_url=ifake.url, api="interactions", first_token_timeout=20, idle_timeout=20
    )


def finished(events: list) -> Finished:
    ends = [event for event in events if isinstance(event, (Finished, Failed))]
    assert len(ends) == 1 and isinstance(ends[0], Finished), ends
    return ends[0]


def failed(events: list) -> Failed:
    ends = [event for event in events if isinstance(event, (Finished, Failed))]
    assert len(ends) == 1 and isinstance(ends[0], Failed), ends
    return ends[0]


def shown_text(events: list) -> str:
    return "".join(event.text for event in events if isinstance(event, TextDelta))


def user_input(text: str) -> dict:
    return {"type": "user_input", "content": [{"type": "text", "text": text}]}


async def test_stateful_second_turn_sends_only_the_new_input_and_the_previous_id(ifake, isettings) -> None:
    session = make_session(isettings.with_overrides("test", system_prompt="Be terse.", thinking_level="low"))
    ifake.enqueue(IReply.text("Madrid, Barcelona, Valencia."), IReply.text("The Sagrada Família."))
    first = finished(await collect(session.send("Three largest cities in Spain?")))
    events = await collect(session.send("Most famous landmark in the second one?"))
    assert shown_text(events) == "The Sagrada Família."
    one, two = ifake.create_requests()
    assert "previous_interaction_id" not in one.body and one.body["store"] is True
    assert two.body["previous_interaction_id"] == first.message.interaction_id != ""
    assert two.body["input"] == [user_input("Most famous landmark in the second one?")]
    # What applies to one interaction only goes again with every turn.
    assert two.body["system_instruction"] == "Be terse."
    assert two.body["generation_config"] == {"thinking_level": "low", "thinking_summaries": "none"}
    assert ifake.stored[two.body["previous_interaction_id"]].timeline[0] == user_input("Three largest cities in Spain?")


async def test_stateless_turns_replay_the_history_with_signatures_byte_exact(ifake, isettings) -> None:
    session = make_session(isettings.with_overrides("test", store=False))
    ifake.enqueue(IReply.text("First answer.", signature=DEFAULT_SIGNATURE), IReply.text("Second answer."))
    first = finished(await collect(session.send("one")))
    assert first.message.interaction_id == ""  # store: false streams "id": ""
    finished(await collect(session.send("two")))
    second = ifake.create_requests()[1]
    assert second.body["store"] is False and "previous_interaction_id" not in second.body
    kinds = [step["type"] for step in second.body["input"]]
    assert kinds == ["user_input", "thought", "model_output", "user_input"]
    assert second.signatures() == [DEFAULT_SIGNATURE]
    sent_signature = second.body["input"][1]["signature"]
    assert sent_signature == base64.b64encode(DEFAULT_SIGNATURE).decode()  # the string exactly as streamed
    assert second.body["input"][2]["content"] == [{"type": "text", "text": "First answer."}]


async def test_an_expired_interaction_falls_back_to_a_stateless_replay_with_a_notice(ifake, isettings) -> None:
    session = make_session(isettings)
    ifake.enqueue(IReply.text("Remembered."), IReply.text("Still here."))
    finished(await collect(session.send("remember 7")))
    ifake.expire()  # retention ran out on the server
    end = finished(await collect(session.send("what number?")))
    assert end.notice == EXPIRED_NOTICE
    gone, replay = ifake.create_requests()[1:]
    assert "previous_interaction_id" in gone.body
    assert "previous_interaction_id" not in replay.body
    assert [step["type"] for step in replay.body["input"]] == ["user_input", "thought", "model_output", "user_input"]
    # The new interaction is the chain from now on.
    ifake.enqueue(IReply.text("Third."))
    finished(await collect(session.send("and now?")))
    assert ifake.create_requests()[-1].body["previous_interaction_id"] == end.message.interaction_id


async def test_a_model_change_replays_statelessly_with_a_notice(ifake, isettings) -> None:
    session = make_session(isettings)
    finished(await collect(session.send("hello")))
    session.update_settings(model="gemini-3-flash-preview")
    end = finished(await collect(session.send("again")))
    assert "model changed" in end.notice.lower() and "gemini-3-flash-preview" in end.notice
    assert "previous_interaction_id" not in ifake.create_requests()[-1].body


async def test_an_endpoint_change_replays_statelessly(isettings) -> None:
    with FakeInteractions() as other:
        session = make_session(isettings)
        finished(await collect(session.send("hello")))
        session.settings = session.settings.with_overrides("test", base_url=other.url)
        end = finished(await collect(session.send("again")))
        assert "endpoint changed" in end.notice
        (request,) = other.create_requests()
        assert "previous_interaction_id" not in request.body and len(request.body["input"]) == 4


async def test_switching_api_mid_conversation_both_ways(ifake, isettings) -> None:
    """generateContent → Interactions → generateContent on one host, signatures carried across both ways."""
    session = make_session(isettings.with_overrides("test", api="generate"))
    ifake.generate.enqueue(GenerateReply.text("From generateContent."))
    finished(await collect(session.send("one")))
    session.update_settings(api="interactions")
    end = finished(await collect(session.send("two")))
    (request,) = ifake.create_requests()
    assert "previous_interaction_id" not in request.body  # nothing on the server yet: the whole history
    assert [step["type"] for step in request.body["input"]] == ["user_input", "thought", "model_output", "user_input"]
    assert request.signatures() == [DEFAULT_SIGNATURE]
    assert request.body["input"][2]["content"] == [{"type": "text", "text": "From generateContent."}]
    assert end.message.interaction_id
    session.update_settings(api="generate")
    finished(await collect(session.send("three")))
    contents = ifake.generate.generate_requests()[-1].contents
    assert [content["role"] for content in contents] == ["user", "model", "user", "model", "user"]
    interactions_reply = contents[3]["parts"]
    assert interactions_reply[0]["text"] == "Echo: two"
    signature = interactions_reply[0]["thoughtSignature"]
    assert base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)) == DEFAULT_SIGNATURE


async def test_a_function_call_round_trip_goes_through_approval(ifake, isettings, workdir) -> None:
    asked = []

    async def approve(call) -> ToolApproval:
        asked.append(call)
        return ToolApproval.ONCE

    session = make_session(
        isettings.with_overrides("test", local_tools=True), approve_tool=approve, working_dir=workdir
    )
    ifake.enqueue(
        IReply.function_call("read_file", {"path": "app.py"}, call_id="zggxzq8r"), IReply.text("It subtracts.")
    )
    events = await collect(session.send("What does app.py do?"))
    assert [call.name for call in asked] == ["read_file"] and asked[0].id == "zggxzq8r"
    (tool_finished,) = [event for event in events if isinstance(event, ToolFinished)]
    assert tool_finished.approved
    assert shown_text(events) == "It subtracts."
    first, second = ifake.create_requests()
    assert {tool["name"] for tool in first.body["tools"]} == {"read_file", "list_directory", "search_text"}
    assert all(tool["type"] == "function" for tool in first.body["tools"])
    (result,) = second.body["input"]
    assert result["type"] == "function_result"
    assert (result["call_id"], result["name"]) == ("zggxzq8r", "read_file")
    assert "return a - b" in result["result"]["result"]
    assert second.body["previous_interaction_id"] == session.conversation.messages[1].interaction_id


async def test_a_stateless_function_call_round_trip_echoes_the_call(ifake, isettings, workdir) -> None:
    session = make_session(
        isettings.with_overrides("test", local_tools=True, store=False),
        approve_tool=lambda call: _once(),
        working_dir=workdir,
    )
    ifake.enqueue(IReply.function_call("list_directory", {"path": "."}, call_id="c1"), IReply.text("Two files."))
    finished_events = await collect(session.send("What is here?"))
    assert shown_text(finished_events) == "Two files."
    second = ifake.create_requests()[1]
    kinds = [step["type"] for step in second.body["input"]]
    assert kinds == ["user_input", "thought", "function_call", "function_result"]
    assert second.body["input"][2] == {
        "type": "function_call",
        "id": "c1",
        "name": "list_directory",
        "arguments": {"path": "."},
    }


async def _once() -> ToolApproval:
    return ToolApproval.ONCE


async def test_google_search_steps_show_sources_and_queries(ifake, isettings) -> None:
    session = make_session(isettings.with_overrides("test", google_search=True))
    ifake.enqueue(
        IReply.google_search(
            "Rain is likely.",
            ["weather Madrid"],
            [("aemet.es", "https://aemet.es/a"), ("bbc.com", "https://bbc.com/w")],
        )
    )
    end = finished(await collect(session.send("Weather in Madrid?")))
    assert ifake.create_requests()[0].body["tools"] == [{"type": "google_search"}]
    shown = sources_markdown(end.message.extras)
    assert "aemet.es" in shown and "https://bbc.com/w" in shown and "“weather Madrid”" in shown
    kinds = [step["type"] for step in end.message.native["steps"]]
    assert kinds == ["thought", "model_output", "google_search_call", "google_search_result"]


async def test_code_execution_steps_show_as_code_blocks(ifake, isettings) -> None:
    session = make_session(isettings.with_overrides("test", code_execution=True))
    ifake.enqueue(IReply.code_execution("print(6 * 7)", "42\n", "The answer is 42."))
    events = await collect(session.send("6 times 7?"))
    assert shown_text(events) == "\n\n```python\nprint(6 * 7)\n```\n\nOutput:\n\n```text\n42\n```\n\nThe answer is 42."


async def test_thought_summaries_stream_when_asked_for(ifake, isettings) -> None:
    session = make_session(isettings.with_overrides("test", show_thoughts=True))
    ifake.enqueue(IReply.text("Hi.", thoughts="**Greeting**\n\nSay hi."))
    events = await collect(session.send("hello"))
    assert [event.text for event in events if isinstance(event, ThoughtDelta)] == ["**Greeting**\n\nSay hi."]
    assert ifake.create_requests()[0].body["generation_config"]["thinking_summaries"] == "auto"
    assert finished(events).message.thoughts == "**Greeting**\n\nSay hi."


async def test_usage_and_the_context_meter_cover_the_whole_conversation(ifake, isettings) -> None:
    session = make_session(isettings)
    ifake.enqueue(IReply.text("A" * 400, usage={"total_input_tokens": 1000}), IReply.text("B" * 40))
    finished(await collect(session.send("first")))
    after_first = session.conversation.context_tokens()
    assert after_first == 1000 + 100
    events = await collect(session.send("second"))
    (usage,) = [event.usage for event in events if isinstance(event, UsageUpdate)]
    assert usage.prompt < 10  # the server counts only the new input in a stateful turn
    assert usage.carried == after_first
    assert session.conversation.context_tokens() == after_first + usage.prompt + usage.output


async def test_a_restart_continues_statefully_from_the_store(ifake, isettings, tmp_path) -> None:
    from flashchat.store.conversation_store import ConversationStore

    store = ConversationStore.open_file(tmp_path / "history.db")
    session = make_session(isettings, store=store)
    first = finished(await collect(session.send("hello")))
    conversation_id = session.conversation.id
    store.close()
    reopened = ConversationStore.open_file(tmp_path / "history.db")
    loaded = reopened.load(conversation_id)
    assert loaded.messages[1].interaction_id == first.message.interaction_id
    assert loaded.messages[1].native == first.message.native
    later = make_session(isettings, store=reopened, conversation=loaded)
    finished(await collect(later.send("again")))
    request = ifake.create_requests()[-1]
    assert request.body["previous_interaction_id"] == first.message.interaction_id
    assert request.body["input"] == [user_input("again")]
    reopened.close()


# -- faults


async def test_a_429_is_retried_by_the_session_not_the_sdk(ifake, isettings) -> None:
    session = make_session(isettings)
    ifake.enqueue(IReply.rate_limited(), IReply.text("Done."))
    events = await collect(session.send("hello"))
    (retry,) = [event for event in events if isinstance(event, Retrying)]
    assert retry.kind is ErrorKind.RATE_LIMIT and "429" in retry.reason
    assert shown_text(events) == "Done."
    assert len(ifake.create_requests()) == 2  # one failed attempt, one retry: the SDK's own retries are off


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        (IReply.error(400, message="Bad input."), ErrorKind.BAD_REQUEST),
        (IReply.error(403), ErrorKind.PERMISSION),
        (IReply.error(404, message="models/nope is not found"), ErrorKind.NOT_FOUND),
    ],
)
async def test_error_bodies_with_string_codes_become_error_kinds(ifake, isettings, reply, kind) -> None:
    session = make_session(isettings)
    ifake.enqueue(reply)
    end = failed(await collect(session.send("hello")))
    assert end.error.kind is kind
    assert len(ifake.create_requests()) == 1


async def test_a_bad_key_says_how_to_fix_it(ifake, isettings) -> None:
    session = make_session(isettings.with_overrides("test", api_key="wrong-key"))
    end = failed(await collect(session.send("hello")))
    assert end.error.kind is ErrorKind.BAD_KEY and "GEMINI_API_KEY" in end.error.message


async def test_server_errors_are_retried_twice(ifake, isettings) -> None:
    session = make_session(isettings)
    ifake.enqueue(IReply.server_error(503), IReply.server_error(500), IReply.server_error(500))
    end = failed(await collect(session.send("hello")))
    assert end.error.kind is ErrorKind.SERVER and len(ifake.create_requests()) == 3


async def test_a_drop_mid_stream_keeps_the_partial_reply(ifake, isettings) -> None:
    session = make_session(isettings)
    ifake.enqueue(IReply.text("x" * 200, chunk_chars=10, drop_after=9))
    end = failed(await collect(session.send("hello")))
    assert end.error.kind is ErrorKind.NETWORK and "dropped" in end.error.message
    assert end.message is not None and end.message.incomplete and end.message.text.startswith("xxxxxxxxxx")


async def test_a_drop_before_any_step_is_retried(ifake, isettings) -> None:
    session = make_session(isettings)
    ifake.enqueue(IReply.text("lost", drop_after=1), IReply.text("Found."))
    events = await collect(session.send("hello"))
    assert [event.kind for event in events if isinstance(event, Retrying)] == [ErrorKind.NETWORK]
    assert shown_text(events) == "Found."


async def test_an_error_event_mid_stream_keeps_what_arrived(ifake, isettings) -> None:
    session = make_session(isettings)
    ifake.enqueue(IReply.text("partial answer", chunk_chars=4, error_after=8))
    end = failed(await collect(session.send("hello")))
    assert end.error.kind is ErrorKind.SERVER
    assert end.message is not None and end.message.text == "partial answer"[: len(end.message.text)] != ""


async def test_a_silent_server_times_out(ifake, isettings) -> None:
    session = make_session(isettings.with_overrides("test", first_token_timeout=1), retry_policy=None)
    ifake.enqueue(*(IReply.text("late", first_delay_s=3) for _ in range(3)))
    end = failed(await collect(session.send("hello")))
    assert end.error.kind is ErrorKind.TIMEOUT and "first_token_timeout" in end.error.message


async def test_a_delayed_stream_still_arrives_whole(ifake, isettings) -> None:
    session = make_session(isettings)
    ifake.enqueue(IReply.text("slow but sure", chunk_chars=3, delay_s=0.02, first_delay_s=0.1))
    assert finished(await collect(session.send("hello"))).message.text == "slow but sure"


async def test_the_legacy_content_schema_is_refused_clearly(ifake, isettings) -> None:
    session = make_session(isettings)
    ifake.enqueue(IReply.legacy_schema())
    end = failed(await collect(session.send("hello")))
    assert end.error.kind is ErrorKind.BAD_RESPONSE and end.error.message == LEGACY_MESSAGE


async def test_an_incomplete_interaction_says_the_output_limit_was_hit(ifake, isettings) -> None:
    session = make_session(isettings.with_overrides("test", max_output_tokens=5))
    ifake.enqueue(IReply.text("Cut", status="incomplete"))
    end = finished(await collect(session.send("hello")))
    assert "output limit (5 tokens)" in end.notice
    assert ifake.create_requests()[0].body["generation_config"]["max_output_tokens"] == 5


def test_session_capabilities_follow_the_api(isettings) -> None:
    assert ChatSession(isettings).capabilities.server_state
    assert not ChatSession(isettings.with_overrides("test", api="generate")).capabilities.server_state


async def test_non_streamed_turns_read_the_finished_body(ifake, isettings) -> None:
    session = make_session(isettings.with_overrides("test", stream=False))
    ifake.enqueue(IReply.text("One body."), IReply.text("Another."))
    first = finished(await collect(session.send("one")))
    assert first.message.text == "One body." and first.message.interaction_id
    second = finished(await collect(session.send("two")))
    assert second.message.text == "Another."
    request = ifake.create_requests()[1]
    assert request.body["stream"] is False and request.body["previous_interaction_id"] == first.message.interaction_id


async def test_a_stopped_reply_is_not_a_chain_link_but_is_sent_as_new_input(ifake, isettings) -> None:
    """A reply stopped mid-stream may not be complete on the server: the next turn continues from the last
    complete one and sends the partial reply along with the new prompt."""
    session = make_session(isettings)
    finished(await collect(session.send("one")))
    anchor_id = session.conversation.messages[1].interaction_id
    ifake.enqueue(IReply.text("y" * 300, chunk_chars=5, delay_s=0.01))
    stream = session.send("two")
    async for event in stream:
        if isinstance(event, TextDelta):
            break
    await stream.aclose()
    stopped = session.conversation.messages[-1]
    assert stopped.stopped and stopped.incomplete and stopped.interaction_id
    finished(await collect(session.send("three")))
    request = ifake.create_requests()[-1]
    assert request.body["previous_interaction_id"] == anchor_id
    kinds = [step["type"] for step in request.body["input"]]
    assert kinds[0] == "user_input" and kinds[-1] == "user_input" and "model_output" in kinds


async def test_url_context_steps_are_kept_and_listed(ifake, isettings) -> None:
    session = make_session(isettings.with_overrides("test", url_context=True))
    reply = IReply.text("The page says hello.")
    reply.steps[1:1] = [
        {"type": "url_context_call", "id": "u1", "arguments": {"urls": ["https://example.com/"]}},
        {
            "type": "url_context_result",
            "call_id": "u1",
            "result": [{"url": "https://example.com/", "status": "success"}],
        },
    ]
    ifake.enqueue(reply)
    end = finished(await collect(session.send("Read https://example.com/")))
    assert ifake.create_requests()[0].body["tools"] == [{"type": "url_context"}]
    assert end.message.extras["url_context"] == {"url_metadata": [{"retrieved_url": "https://example.com/"}]}
    assert [step["type"] for step in end.message.native["steps"]][1:3] == ["url_context_call", "url_context_result"]


async def test_export_and_import_keep_the_chain(ifake, isettings) -> None:
    from flashchat.store.conversation_store import ConversationStore

    store = ConversationStore.in_memory()
    session = make_session(isettings, store=store)
    first = finished(await collect(session.send("hello")))
    document = store.export_json(session.conversation.id)
    assert document["messages"][1]["interaction_id"] == first.message.interaction_id
    store.delete(session.conversation.id)
    imported = store.load(store.import_json(document))
    assert imported.messages[1].interaction_id == first.message.interaction_id
    assert imported.messages[1].interaction_endpoint == isettings.base_url.rstrip("/")


async def test_a_response_schema_goes_with_every_interaction(ifake, isettings) -> None:
    schema = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
    session = make_session(isettings.with_response_schema(schema))
    ifake.enqueue(IReply.text('{"name":"John Doe"}'))
    assert finished(await collect(session.send("An example person."))).message.text == '{"name":"John Doe"}'
    body = ifake.create_requests()[0].body
    assert body["response_format"] == {"type": "text", "mime_type": "application/json", "schema": schema}
