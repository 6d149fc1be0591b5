"""`--json` for turns with tools and code execution: every hop counted, every call and every run listed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from flashchat.testing.fake_gemini import FakeGemini, Reply
from support import WIRE, run_cli

CODE_EXECUTION = WIRE / "pydantic-ai/test_code_execution_stream__00.json"


def _run_in(project: Path, args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flashchat", *args], capture_output=True, env=env, cwd=project)


def test_a_turn_with_tools_lists_its_calls_and_sums_every_hop(fake: FakeGemini, cli_env: dict, tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("X = 1\n")
    usage = {"prompt": 100, "candidates": 10, "thoughts": 5}
    fake.enqueue(
        Reply.function_calls([("read_file", {"path": "app.py"}), ("lookup", {})], thoughts="Read it.", usage=usage)
    )
    fake.enqueue(Reply.text("X is 1.", thoughts="Easy.", usage={"prompt": 150, "candidates": 4, "thoughts": 2}))
    result = _run_in(tmp_path, ["-p", "what is X?", "--allow-tools", "--json"], cli_env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["text"] == "X is 1."
    assert report["thoughts"] == "Read it.Easy."
    assert (report["usage"]["prompt"], report["usage"]["output"], report["usage"]["thoughts"]) == (250, 14, 7)
    assert [(c["name"], c["id"], c["args"], c["approved"], c["offered"]) for c in report["tool_calls"]] == [
        ("read_file", "fc-1", {"path": "app.py"}, True, True),
        ("lookup", "fc-2", {}, False, False),
    ]
    assert report["tool_calls"][0]["response"] == {"result": "X = 1\n"}
    assert "error" in report["tool_calls"][1]["response"]


def test_code_execution_has_its_own_fields(fake: FakeGemini, cli_env: dict) -> None:
    recording = json.loads(CODE_EXECUTION.read_text())
    fake.enqueue(Reply.replay(recording))
    result = run_cli(["-p", "compute", "--code-execution", "--json"], cli_env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    parts = [
        part
        for event in recording["response"]["body_text"].split("\r\n\r\n")
        if event.startswith("data: ")
        for part in json.loads(event.removeprefix("data: "))["candidates"][0]["content"].get("parts", [])
    ]
    code = [p["executableCode"] for p in parts if "executableCode" in p]
    results = [p["codeExecutionResult"] for p in parts if "codeExecutionResult" in p]
    assert report["code_execution"] == [
        {"language": c["language"].lower(), "code": c["code"], "outcome": r["outcome"], "output": r.get("output", "")}
        for c, r in zip(code, results, strict=True)
    ]
    assert (
        report["response_id"] == json.loads(recording["response"]["body_text"].split("\r\n\r\n")[0][6:])["responseId"]
    )
