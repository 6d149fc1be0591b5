"""Fuzzing (hypothesis) of what flashchat reads from outside: the config file, command-line arguments and
`history import` files. For any input: no traceback, and a refusal is exit 2 with one safe line on stderr.

Everything runs in this process (main() with stdin a pipe and no API key, so nothing is ever sent) to keep
hundreds of examples fast."""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from flashchat.cli.main import main
from flashchat.config.settings import OPTIONS, ConfigError, load_settings
from flashchat.store.conversation_store import EXPORT_FORMAT
from flashchat.testing.hostile import ESCAPES

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def run_main(args: list[str], stdin: bytes = b"") -> tuple[int, str]:
    """main(args) with stdin a pipe holding `stdin`; its exit code (SystemExit included) and stderr."""
    err, out = io.StringIO(), io.StringIO()
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin))
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(args)
            except SystemExit as exit_:
                code = int(exit_.code or 0)
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
    return code, err.getvalue()


def assert_refused_in_one_line_or_fine(code: int, stderr: str) -> None:
    assert "Traceback" not in stderr
    if code != 0:
        assert code == 2, stderr
        assert stderr.startswith("flashchat: ") and stderr.count("\n") == 1, stderr
    assert not RAW.search(stderr.replace("\n", ""))


# -- the config file

toml_scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["", "gemini-3.5-flash", "http://127.0.0.1:99999", "ftp://x", "a?b", "nan", ESCAPES]),
)
toml_values = st.recursive(
    toml_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
)
config_keys = st.sampled_from([*OPTIONS, "endpoints", "presets", "unknown", ""]) | st.text(max_size=10)


def toml_line(key: str, value: Any) -> str:
    return f"{json.dumps(key)} = {toml_literal(value)}"


def toml_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, (int, str)):
        return json.dumps(value) if isinstance(value, str) else str(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_literal(item) for item in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {toml_literal(v)}" for k, v in value.items()) + "}"


@FUZZ
@given(st.dictionaries(config_keys, toml_values, max_size=6), st.sampled_from(["", "[endpoints.x]\n", "[presets]\n"]))
def test_any_config_table_loads_or_is_one_config_error(config_file: Path, table: dict, section: str) -> None:
    config_file.write_text(section + "\n".join(toml_line(key, value) for key, value in table.items()) + "\n")
    try:
        load_settings(config_file, environ={})
    except ConfigError as error:
        assert "\n" not in str(error)


@FUZZ
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
@example(b"x = " + b"[" * 3000)
@example(b"\xff\xfe\x00t\x00")
@example(b'model = "\\u0000"')
def test_any_config_bytes_load_or_are_one_config_error(config_file: Path, data: bytes) -> None:
    config_file.write_bytes(data)
    try:
        load_settings(config_file, environ={})
    except ConfigError as error:
        assert "\n" not in str(error)


# -- command-line arguments (no key in the environment: nothing can be sent)

FLAGS = (
    "-p -f --preset --search --thinking --model --endpoint --system --json -c --cid --no-save --plain --usage "
    "--allow-tools config history show set unset path search export import delete --format -o -n --limit -y -- -"
).split()
argument = st.one_of(
    st.sampled_from(FLAGS),
    st.sampled_from(["model", "api_key", "temperature", "base_url", "high", "nan", "-1", "9" * 30, ESCAPES, ""]),
    st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12),
)


@FUZZ
@given(st.lists(argument, max_size=6))
@example(["--model", ""])
@example(["--thinking", ESCAPES])
@example(["config", "set", "temperature", "inf"])
@example(["history", "-n", "x"])
@example(["-p", "hi", "--model", "a\tb"])
def test_any_arguments_are_no_traceback_and_a_refusal_is_one_line(isolated_home: Path, args: list[str]) -> None:
    if "--help" in args or "-h" in args:
        return
    code, stderr = run_main(args)
    assert_refused_in_one_line_or_fine(code, stderr)


# -- history import

VALID_EXPORT: dict[str, Any] = {
    "format": EXPORT_FORMAT,
    "version": 1,
    "conversation": {
        "id": "abcd1234",
        "title": "t",
        "system_prompt": "",
        "model": "gemini-3.5-flash",
        "created_at": 1.0,
        "updated_at": 2.0,
    },
    "messages": [
        {"role": "user", "text": "hi", "created_at": 1.0},
        {
            "role": "model",
            "text": "hello",
            "native": {"parts": [{"text": "hello"}], "role": "model"},
            "usage": {"prompt": 1, "output": 2},
            "finish_reason": "STOP",
            "incomplete": False,
        },
    ],
}
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)


def paths_in(document: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(document, dict):
        for key, value in document.items():
            found += paths_in(value, (*prefix, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found += paths_in(value, (*prefix, index))
    return found


def replaced(document: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    copy = json.loads(json.dumps(document))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return copy


@FUZZ
@given(st.data())
def test_any_damaged_export_imports_or_is_one_line(isolated_home: Path, data) -> None:
    path = data.draw(st.sampled_from(paths_in(VALID_EXPORT)))
    document = replaced(VALID_EXPORT, path, data.draw(json_values))
    file = isolated_home / "export.json"
    file.write_text(json.dumps(document))
    code, stderr = run_main(["history", "import", str(file)])
    assert_refused_in_one_line_or_fine(code, stderr)


@pytest.mark.parametrize("path", [("messages", 0, "created_at"), ("messages", 1, "usage", "output")])
def test_a_number_too_large_for_the_database_is_one_line(isolated_home: Path, path: tuple) -> None:
    """Found by the fuzz test above: 2**63 is valid JSON, but no SQLite INTEGER (it was a traceback)."""
    file = isolated_home / "export.json"
    file.write_text(json.dumps(replaced(VALID_EXPORT, path, 2**63)))
    code, stderr = run_main(["history", "import", str(file)])
    assert code != 0
    assert_refused_in_one_line_or_fine(code, stderr)


@FUZZ
@given(st.binary(max_size=200))
@example(b"[" * 100_000)
@example(b'{"format": "flashchat.conversation", "version": 1, "conversation": {}, "messages": [{"role": "user", '
         b'"text": "\\ud800"}]}')  # fmt: skip
@example(b'{"format": "flashchat.conversation", "version": 1, "conversation": {"created_at": NaN}, "messages": []}')
@example(b'{"format": "flashchat.conversation", "version": 1, "conversation": {"created_at": 1e999}, "messages": []}')
@example(b'{"format": "flashchat.conversation", "version": 1, "conversation": [], "messages": {}}')
def test_any_bytes_as_an_export_are_one_line(isolated_home: Path, data: bytes) -> None:
    file = isolated_home / "export.json"
    file.write_bytes(data)
    code, stderr = run_main(["history", "import", str(file)])
    assert_refused_in_one_line_or_fine(code, stderr)
    code, stderr = run_main(["history", "import", "-"], stdin=data)
    assert_refused_in_one_line_or_fine(code, stderr)


def test_an_export_that_is_a_fifo_or_a_device_is_refused(isolated_home: Path) -> None:
    fifo = isolated_home / "export.fifo"
    os.mkfifo(fifo)
    for source, kind in ((fifo, "a named pipe"), (Path("/dev/zero"), "a device")):
        code, stderr = run_main(["history", "import", str(source)])
        assert (code, stderr) == (2, f"flashchat: cannot import: {source} is not a regular file ({kind})\n")
