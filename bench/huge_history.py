"""The per-turn cost of continuing a huge conversation (issue 15): 2,000 stored messages, about 4 MB, about 1M tokens.
Prints numbers; asserts nothing.

    python bench/huge_history.py [--messages 2000] [--runs 5] [--only breakdown,oneshot,tui]

The conversation has what a long Gemini 3 chat with tools really stores (shapes from ../shared/wire): replies with a
thought summary, the answer and a closing `{"text": "", "thoughtSignature": ...}` part; tool rounds with a signed
`functionCall` and a parallel unsigned one, the `functionResponse` turn with file contents, and the answer after it.

Measures
  breakdown  in this process, each step of one turn's request on the stored conversation: the store's load (SQL
             and JSON decoding), our history conversion (`gemini_contents`), the request contents in wire form
             (`gemini_wire`, cold and kept from the turn before), what the SDK itself would do with the same
             contents (validation into Content objects, its conversion, its dict passes), the JSON encoding of the
             body, the prompt preparation's estimate (`prepare_prompt`, countTokens included) and the save of the
             user message (with the conversation's totals). CPU milliseconds (process time), medians of --runs.
  oneshot    `flashchat -p --cid ID "..."`: process start to the request at the fake, for the huge conversation and
             for an empty one, interleaved run after run; the difference is what the history costs a fresh
             process. Also the bytes sent.
  tui        one TUI session on the conversation (headless, the fake on 127.0.0.1): Enter to the request at the
             fake for turn 1, 2 and 3, and the CPU seconds of the app's thread over the same span; and the same
             for a fresh 2-message conversation as the floor.
The machine load (1-minute average) is printed with each figure.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from flashchat.core.conversation import Conversation, Message, Usage

MODEL = "gemini-3.5-flash"
WORDS = (
    "the model stream token widget render layout parse block fence terminal async worker message screen scroll "
    "anchor update append latency frame buffer python textual markdown chunk response prompt context cache review "
    "function argument signature history request server client session store journal"
).split()


def _prose(rng: random.Random, chars: int) -> str:
    words: list[str] = []
    size = 0
    while size < chars:
        word = rng.choice(WORDS)
        if rng.random() < 0.08:
            word = f"`{word}()`"
        words.append(word)
        size += len(word) + 1
    return " ".join(words)[:chars]


def _signature(rng: random.Random) -> str:
    """A signature as stored: the SDK's URL-safe base64 of opaque bytes (about 600-1,300 bytes in the captures)."""
    return base64.urlsafe_b64encode(rng.randbytes(rng.randint(450, 1000))).decode()


def _usage(turn: int, turns: int) -> Usage:
    prompt = 2_000 + int(1_000_000 * turn / max(1, turns))
    return Usage(prompt=prompt, output=600, thoughts=300, total=prompt + 900)


def _reply(rng: random.Random, parts: list[dict[str, Any]], text: str, thoughts: str, usage: Usage) -> Message:
    return Message(
        role="model",
        text=text,
        thoughts=thoughts,
        native={"parts": parts, "role": "model"},
        provider="gemini",
        model=MODEL,
        model_version=MODEL,
        thinking_level="medium",
        usage=usage,
        finish_reason="STOP",
        first_token_seconds=0.8,
        duration_seconds=4.2,
        extras={"response_id": f"resp-{rng.randrange(10**9)}", "token_details": {"prompt": {"TEXT": usage.prompt}}},
    )


def build_conversation(messages: int = 2000, seed: int = 15) -> Conversation:
    """`messages` messages (about 2 KB each): plain turns and tool rounds, alternating."""
    rng = random.Random(seed)
    conversation = Conversation(model=MODEL, system_prompt="You are a careful code reviewer.")
    turn = 0
    while len(conversation.messages) < messages:
        turn += 1
        usage = _usage(len(conversation.messages), messages)
        conversation.add(Message(role="user", text=f"Question {turn}: {_prose(rng, 1250)}", model=MODEL))
        thoughts = f"**Planning turn {turn}**\n\n{_prose(rng, 420)}"
        if turn % 2 or len(conversation.messages) + 3 > messages:
            text = _prose(rng, 2100)
            signed = {"text": "", "thought_signature": _signature(rng)}
            parts = [{"text": thoughts, "thought": True}, {"text": text}, signed]
            conversation.add(_reply(rng, parts, text, thoughts, usage))
            continue
        calls = [
            {"function_call": {"id": f"call-{turn}-a", "args": {"path": f"src/module_{turn}.py"}, "name": "read_file"},
             "thought_signature": _signature(rng)},
            {"function_call": {"id": f"call-{turn}-b", "args": {"pattern": rng.choice(WORDS), "path": "src"},
                               "name": "search_files"}},
        ]  # fmt: skip
        conversation.add(_reply(rng, [{"text": thoughts, "thought": True}, *calls], "", thoughts, usage))
        responses = [
            {"function_response": {"id": f"call-{turn}-a", "name": "read_file",
                                   "response": {"result": _prose(rng, 1400)}}},
            {"function_response": {"id": f"call-{turn}-b", "name": "search_files",
                                   "response": {"result": [f"src/{rng.choice(WORDS)}.py:{n}" for n in range(8)]}}},
        ]  # fmt: skip
        conversation.add(
            Message(
                role="user",
                text="[tool results: read_file(...) -> ok; search_files(...) -> ok]",
                native={"parts": responses, "role": "user"},
                provider="gemini",
            )
        )
        text = _prose(rng, 1100)
        parts = [{"text": text}, {"text": "", "thought_signature": _signature(rng)}]
        conversation.add(_reply(rng, parts, text, "", _usage(len(conversation.messages), messages)))
    del conversation.messages[messages:]
    return conversation


def store_conversation(path: Path, conversation: Conversation) -> str:
    """Stored as an import stores it (the rows a session writes, in one transaction)."""
    from flashchat.store.conversation_store import EXPORT_FORMAT, EXPORT_VERSION, open_store

    store = open_store(path)
    conversation_id = store.import_json(
        {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "conversation": {
                "title": f"A long review ({len(conversation.messages)} messages)",
                "system_prompt": conversation.system_prompt,
                "model": conversation.model,
            },
            "messages": [_document(message) for message in conversation.messages],
        }
    )
    store.close()
    return conversation_id


def _document(message: Message) -> dict[str, Any]:
    from flashchat.store.conversation_store import _message_document  # pyright: ignore[reportPrivateUsage]

    return _message_document(message)


def cpu_ms(action: Any, runs: int) -> tuple[float, float, float]:
    """Median, min and max process CPU milliseconds of `action()` over `runs` calls."""
    values = []
    for _ in range(runs):
        started = time.process_time()
        action()
        values.append((time.process_time() - started) * 1000)
    return statistics.median(values), min(values), max(values)


def _load() -> float:
    return os.getloadavg()[0]


# --- breakdown -------------------------------------------------------------------------------------------


def breakdown(home: Path, conversation_id: str, runs: int) -> dict[str, Any]:
    from google.genai import _common, types
    from google.genai import models as sdk_models

    from flashchat.config.settings import Settings
    from flashchat.providers import gemini
    from flashchat.store.conversation_store import open_store

    store = open_store(home / "history.db")
    results: dict[str, Any] = {}
    results["store_load_ms"] = cpu_ms(lambda: store.load(conversation_id), runs)
    rows = store._db.execute("SELECT native FROM messages WHERE native IS NOT NULL").fetchall()
    results["json_decode_natives_ms"] = cpu_ms(lambda: [json.loads(row[0]) for row in rows], runs)
    conversation = store.load(conversation_id)
    conversation.add(Message(role="user", text="And one more question?"))
    results["gemini_contents_ms"] = cpu_ms(lambda: gemini.gemini_contents(conversation), runs)
    natives = gemini.gemini_contents(conversation)
    wire_module = _wire_module()
    if wire_module is not None:
        memo = wire_module.IdentityMemo

        def cold() -> None:
            wire_module.wire_contents(natives, memo())

        results["wire_contents_cold_ms"] = cpu_ms(cold, runs)
        kept = wire_module.KeptContents()

        def next_turn() -> None:  # what a turn in a session does with what the turn before kept, body included
            conversation.messages[-1] = Message(role="user", text="And one more question?")
            _, wire = kept.build(conversation.messages, gemini.message_content, gemini.answer_unanswered)
            wire_module.spliced_body({"contents": wire, "generationConfig": {}})

        next_turn()
        results["kept_turn_contents_wire_and_body_ms"] = cpu_ms(next_turn, runs)

        def cold_turn() -> None:  # a fresh process (-p --cid): nothing kept yet
            _, wire = wire_module.KeptContents().build(
                conversation.messages, gemini.message_content, gemini.answer_unanswered
            )
            wire_module.spliced_body({"contents": wire, "generationConfig": {}})

        results["cold_turn_contents_wire_and_body_ms"] = cpu_ms(cold_turn, runs)
    config = gemini.generation_config(Settings(api_key="bench"))
    parameters_type = types._GenerateContentParameters  # pyright: ignore[reportPrivateUsage]
    results["sdk_validation_ms"] = cpu_ms(lambda: parameters_type(model=MODEL, contents=natives, config=config), runs)
    parameters = parameters_type(model=MODEL, contents=natives, config=config)

    class _Client:
        vertexai = False

    convert = sdk_models._GenerateContentParameters_to_mldev  # pyright: ignore[reportPrivateUsage]
    results["sdk_conversion_ms"] = cpu_ms(lambda: convert(_Client(), parameters, None, parameters), max(1, runs // 2))
    request = convert(_Client(), parameters, None, parameters)
    request.pop("config", None)
    results["sdk_dict_passes_ms"] = cpu_ms(
        lambda: _common.encode_unserializable_types(_common.convert_to_dict(request)), runs
    )
    body = _common.encode_unserializable_types(_common.convert_to_dict(request))
    results["json_encode_body_ms"] = cpu_ms(lambda: json.dumps(body), runs)
    results["body_bytes"] = len(json.dumps(body).encode())
    results["conversation_total_usage_ms"] = cpu_ms(conversation.total_usage, runs)
    store.close()
    return {key: _rounded(value) for key, value in results.items()}


def _wire_module() -> Any:
    try:
        from flashchat.providers import gemini_contents
    except ImportError:  # the checkout before the change
        return None
    return gemini_contents


def _rounded(value: Any) -> Any:
    if isinstance(value, tuple):
        return {"median": round(value[0], 2), "min": round(value[1], 2), "max": round(value[2], 2)}
    return value


async def prepare_cost(home: Path, conversation_id: str, runs: int) -> dict[str, Any]:
    """`prepare_prompt` on the huge conversation (its large-request estimate asks countTokens) and the save of
    the user message, in one session against the fake; CPU and wall milliseconds."""
    from flashchat.config.settings import Settings
    from flashchat.core.prompt import prepare_prompt
    from flashchat.core.session import ChatSession
    from flashchat.store.conversation_store import open_store
    from flashchat.testing.fake_gemini import FakeGemini

    store = open_store(home / "history.db")
    with FakeGemini() as fake:
        settings = Settings(api_key=fake.api_key, base_url=fake.url)
        session = ChatSession(settings, conversation=store.load(conversation_id), store=store)
        cpu, wall = [], []
        for _ in range(runs + 1):
            cpu_started, wall_started = time.process_time(), time.perf_counter()
            prepared = await prepare_prompt(session, "And one more question?")
            cpu.append((time.process_time() - cpu_started) * 1000)
            wall.append((time.perf_counter() - wall_started) * 1000)
        await session.aclose()
    store.close()
    return {
        "prepare_prompt_cpu_ms": _rounded((statistics.median(cpu[1:]), min(cpu[1:]), max(cpu[1:]))),
        "prepare_prompt_wall_ms": _rounded((statistics.median(wall[1:]), min(wall[1:]), max(wall[1:]))),
        "estimate_shown": prepared.estimate.summary() if prepared.estimate else None,
    }


# --- one-shot: flashchat -p --cid ----------------------------------------------------------------------------


def _client_command(venv: str | None) -> list[str]:
    from oneshot import command  # bench/ is on sys.path when this runs as a script

    return [str(Path(venv) / "bin" / "flashchat")] if venv else command()


def oneshot(home: Path, conversation_id: str, empty_id: str, runs: int, base_venv: str | None) -> dict[str, Any]:
    """Process start to the request at the fake (its whole body read), for the huge and the empty conversation,
    with this checkout's client and (with --base-venv) the one before the change, interleaved run after run."""
    from flashchat.testing.fake_gemini import FakeGemini, Reply
    from oneshot import environment

    clients = {"after": _client_command(None)}
    if base_venv:
        clients["before"] = _client_command(base_venv)
    figures: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    sent: dict[str, int] = {}
    stderr_lines: dict[str, str] = {}
    with FakeGemini() as fake:
        env = environment(fake, str(home))
        fake.responder = lambda request: Reply.text("Short answer.")
        for _ in range(runs):
            for client, command in clients.items():
                for name, cid in (("huge", conversation_id), ("empty", empty_id)):
                    started = time.monotonic()
                    process = subprocess.Popen(
                        [*command, "--cid", cid, "-p", "And one more question?"],
                        env=env,
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE,
                        text=True,
                    )
                    stderr = process.stderr.read() if process.stderr else ""
                    _, status, usage = os.wait4(process.pid, 0)
                    if os.waitstatus_to_exitcode(status) != 0:
                        raise SystemExit(f"flashchat exited {os.waitstatus_to_exitcode(status)}: {stderr[:300]}")
                    request = fake.generate_requests()[-1]
                    key = f"{client}_{name}"
                    figures.setdefault(key, []).append(request.received_at - started)
                    # The whole run's CPU (the short reply included, the same for every run): the load changes it less.
                    cpu.setdefault(key, []).append(usage.ru_utime + usage.ru_stime)
                    sent[key] = len(request.raw)
                    stderr_lines[client] = stderr.strip().splitlines()[0] if stderr.strip() else ""
                    _drop_last_turn(home, cid)
    result: dict[str, Any] = {f"start_to_request_{key}_s": _spread(values) for key, values in figures.items()}
    result |= {f"process_cpu_{key}_s": _spread(values) for key, values in cpu.items()}
    for client in clients:
        huge, empty = (statistics.median(figures[f"{client}_{name}"]) for name in ("huge", "empty"))
        result[f"history_costs_{client}_ms"] = round((huge - empty) * 1000, 1)
        huge, empty = (statistics.median(cpu[f"{client}_{name}"]) for name in ("huge", "empty"))
        result[f"history_costs_{client}_cpu_ms"] = round((huge - empty) * 1000, 1)
    result |= {"bytes_sent": sent, "stderr_first_line": stderr_lines, "load_average": _load()}
    return result


def _spread(values: list[float]) -> dict[str, Any]:
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3), "max": round(max(values), 3)}


def _drop_last_turn(home: Path, conversation_id: str) -> None:
    """Back to the same history for the next run (the turn just sent was stored)."""
    import sqlite3

    database = sqlite3.connect(home / "data" / "flashchat" / "history.db")
    with database:
        ids = [
            row[0]
            for row in database.execute(
                "SELECT id FROM messages WHERE conversation_id = ? ORDER BY position DESC LIMIT 2", (conversation_id,)
            )
        ]
        database.executemany("DELETE FROM messages WHERE id = ?", [(i,) for i in ids])
    database.close()


# --- the TUI: Enter -> request, turn after turn ------------------------------------------------------------


async def tui_turns(home: Path, conversation_id: str, turns: int) -> dict[str, Any]:
    """Enter -> the request leaving (the HTTP transport called with it) and -> the request at the fake, and the app
    thread's CPU until the request left; turn after turn in one TUI session. The large-request question is off
    (large_request_tokens = 0): it waits for the user; `prepare` in the breakdown measures its estimate."""
    import httpx2

    from flashchat.config.settings import Settings
    from flashchat.store.conversation_store import open_store
    from flashchat.testing.fake_gemini import FakeGemini, Reply
    from flashchat.tui.app import FlashchatApp

    database = home / "data" / "flashchat" / "history.db"
    client_cpu = time.pthread_getcpuclockid(threading.main_thread().ident or 0)
    left: list[tuple[float, float]] = []
    original = httpx2.AsyncHTTPTransport.handle_async_request

    async def leaving(self: Any, request: Any) -> Any:
        if request.url.path.endswith(":streamGenerateContent"):
            left.append((time.monotonic(), time.clock_gettime(client_cpu)))
        return await original(self, request)

    httpx2.AsyncHTTPTransport.handle_async_request = leaving  # type: ignore[method-assign]
    try:
        with FakeGemini() as fake:
            fake.responder = lambda request: Reply.text("Short answer.")
            settings = Settings(
                api_key=fake.api_key,
                base_url=fake.url,
                first_token_timeout=60,
                idle_timeout=60,
                large_request_tokens=0,
            )
            app = FlashchatApp(
                settings,
                config_path=home / "tui-config.toml",
                open_store=lambda: open_store(database),
                conversation_id=conversation_id,
                warm_up=True,
            )
            to_left, to_fake, cpu = [], [], []
            async with app.run_test(size=(120, 40)) as pilot:
                await pilot.pause(2.0)  # first paint, and the warm-up imports the provider
                while app.session.conversation.id != conversation_id:
                    await asyncio.sleep(0.05)
                for turn in range(turns):
                    app.composer.load_text(f"And one more question ({turn})?")
                    count, requests = len(left), len(fake.generate_requests())
                    pressed, cpu_pressed = time.monotonic(), time.clock_gettime(client_cpu)
                    await pilot.press("enter")
                    while len(left) <= count:
                        await asyncio.sleep(0.001)
                    while app.replying:
                        await asyncio.sleep(0.005)
                    arrived = getattr(fake.generate_requests()[requests], "received_at", None)  # None: an older fake
                    to_left.append(round((left[count][0] - pressed) * 1000, 1))
                    to_fake.append(round((arrived - pressed) * 1000, 1) if arrived else None)
                    cpu.append(round((left[count][1] - cpu_pressed) * 1000, 1))
                    await pilot.pause(0.3)
    finally:
        httpx2.AsyncHTTPTransport.handle_async_request = original  # type: ignore[method-assign]
    for _ in range(turns):
        _drop_last_turn(home, conversation_id)
    return {
        "enter_to_request_leaving_ms": to_left,
        "enter_to_request_at_fake_ms": to_fake,
        "app_thread_cpu_until_it_left_ms": cpu,
        "load_average": _load(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--turns", type=int, default=3, help="TUI turns in one session")
    parser.add_argument("--only", default="breakdown,oneshot,tui")
    parser.add_argument("--base-venv", help="a virtualenv with the checkout before the change: -p runs interleave")
    args = parser.parse_args()
    only = set(args.only.split(","))
    with tempfile.TemporaryDirectory() as directory:
        home = Path(directory)
        os.environ.update(XDG_CONFIG_HOME=f"{home}/config", XDG_DATA_HOME=f"{home}/data")
        conversation = build_conversation(args.messages)
        database = home / "data" / "flashchat" / "history.db"
        database.parent.mkdir(parents=True, exist_ok=True)
        conversation_id = store_conversation(database, conversation)
        empty_id = store_conversation(database, build_conversation(2))
        size = sum(len(json.dumps(m.native or m.text)) for m in conversation.messages)
        print(json.dumps({"messages": args.messages, "stored_bytes_about": size, "cpus": os.cpu_count()}), flush=True)
        if "breakdown" in only:
            print(json.dumps({"breakdown": breakdown(database.parent, conversation_id, args.runs)}), flush=True)
            print(json.dumps({"prepare": asyncio.run(prepare_cost(database.parent, conversation_id, args.runs))}))
        if "oneshot" in only:
            figures = oneshot(home, conversation_id, empty_id, args.runs, args.base_venv)
            print(json.dumps({"oneshot": figures}), flush=True)
        if "tui" in only:
            huge = asyncio.run(tui_turns(home, conversation_id, args.turns))
            floor = asyncio.run(tui_turns(home, empty_id, args.turns))
            print(json.dumps({"tui_huge": huge, "tui_two_messages": floor}), flush=True)


if __name__ == "__main__":
    main()
