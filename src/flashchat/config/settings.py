"""Settings: defaults, the TOML config file, environment variables, and validation.

Every problem with the config file becomes a one-line `ConfigError` naming the file, the line or key, and
what is allowed, so front ends can print it and exit 2 instead of showing a traceback.

Named endpoints are `[endpoints.NAME]` tables holding a subset of the top-level keys; the chosen one
(`--endpoint NAME`, else the top-level `endpoint` key) overrides the top-level values. Front ends that switch
endpoints call `list_endpoints(settings)` and `settings_for_endpoint(name)`.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flashchat.config import paths
from flashchat.config.input_checks import CONFIG_FILE_BYTES, UnreadableFile, read_regular_file, value_problem
from flashchat.config.presets import BUILTIN_PRESETS

DEFAULT_MODEL = "gemini-3.5-flash"
THINKING_LEVELS = ("minimal", "low", "medium", "high")
API_KEY_ENV_VARS = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
BASE_URL_ENV_VAR = "GOOGLE_GEMINI_BASE_URL"
PROVIDERS = ("gemini", "openai")
# The Gemini provider's two APIs: generateContent (history re-sent every turn) or Interactions.
GEMINI_APIS = ("generate", "interactions")
OPENAI_API_KEY_ENV_VAR = "OPENAI_API_KEY"
# Where provider "openai" sends requests when base_url is empty: Gemini's own OpenAI-compatible endpoint.
GOOGLE_OPENAI_BASE_URL = "https://generativelanguage.googleapis.com/v1beta/openai"

NO_KEY_MESSAGE = (
    "No Gemini API key found: run `export GEMINI_API_KEY=...` (get a key at https://aistudio.google.com/apikey) "
    "or `flashchat config set api_key ...`."
)


class ConfigError(Exception):
    """A problem the user fixes in the config file or on the command line; the text is one line."""


@dataclass(frozen=True)
class Option:
    """One config key: its type, what values are allowed, and a short description for `config show`."""

    kind: type
    help: str
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    optional: bool = False
    secret: bool = False

    def allowed(self) -> str:
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.kind is bool:
            return "true or false"
        if self.kind in (int, float):
            noun = "a whole number" if self.kind is int else "a number"
            return f"{noun} >= {self.minimum:g}" if self.minimum is not None else noun
        return "a string"


OPTIONS: dict[str, Option] = {
    "model": Option(str, "model name sent to the API"),
    "thinking_level": Option(str, "how hard the model thinks before answering", choices=THINKING_LEVELS),
    "show_thoughts": Option(bool, "stream the model's thought summaries"),
    "system_prompt": Option(str, "system instruction sent with every request"),
    "max_output_tokens": Option(int, "cap on reply tokens (unset: model default)", minimum=1, optional=True),
    "temperature": Option(float, "sampling temperature (unset: not sent)", minimum=0, optional=True),
    "top_p": Option(float, "nucleus sampling (unset: not sent)", minimum=0, optional=True),
    "provider": Option(str, "API spoken: gemini (native) or openai (POST /v1/chat/completions)", choices=PROVIDERS),
    "api": Option(
        str, "Gemini API: generate (generateContent) or interactions (server-side state)", choices=GEMINI_APIS
    ),
    "store": Option(bool, "interactions: keep the conversation on Google's side for its retention period"),
    "base_url": Option(str, "API base URL (empty: Google's; for gemini, env GOOGLE_GEMINI_BASE_URL wins)"),
    "api_key": Option(
        str, "API key (env api_key_env, then GEMINI_API_KEY / GOOGLE_API_KEY or OPENAI_API_KEY win)", secret=True
    ),
    "api_key_env": Option(str, "name of an environment variable holding the API key (read first)"),
    "stream": Option(bool, "stream replies (false: one completion object; provider openai)"),
    "endpoint": Option(str, "the [endpoints.NAME] table used unless --endpoint names another"),
    "connect_timeout": Option(float, "seconds to open a connection", minimum=0.1),
    "first_token_timeout": Option(float, "seconds to wait for the first token (high thinking is slow)", minimum=1),
    "idle_timeout": Option(float, "seconds allowed between two chunks of a reply", minimum=1),
    "theme": Option(str, "TUI theme: a file in themes/ or the config dir's themes/, or a Textual theme"),
    "google_search": Option(bool, "let the model search Google and cite its sources (grounding)"),
    "url_context": Option(bool, "let the model fetch and read URLs given in the prompt"),
    "code_execution": Option(bool, "let the model run Python code on Google's servers"),
    "local_tools": Option(bool, "offer read-only tools over the working directory (each call needs approval)"),
    "max_tool_calls": Option(int, "local tool calls allowed in one turn", minimum=1),
    "attach_warn_tokens": Option(int, "warn before sending attached files over this many tokens", minimum=1),
    "large_request_tokens": Option(
        int, "show the size and cost of a request over this many tokens and ask first (0: never)", minimum=0
    ),
    "price_input_per_million": Option(
        float, "USD per 1M prompt tokens (unset: the built-in price table)", minimum=0, optional=True
    ),
    "price_output_per_million": Option(
        float, "USD per 1M output and thought tokens, for cost estimates", minimum=0, optional=True
    ),
    "price_cached_per_million": Option(
        float, "USD per 1M cached prompt tokens (unset: the table's, else the input price)", minimum=0, optional=True
    ),
}


@dataclass(frozen=True)
class Settings:
    model: str = DEFAULT_MODEL
    thinking_level: str = "medium"
    show_thoughts: bool = False
    system_prompt: str = ""
    max_output_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    provider: str = "gemini"
    api: str = "generate"
    store: bool = True  # only with api = "interactions": stateful turns (previous_interaction_id)
    base_url: str = ""
    api_key: str = field(default="", repr=False)
    api_key_env: str = ""
    stream: bool = True
    endpoint: str = ""  # the [endpoints.NAME] table these settings came from, "" for the top level
    connect_timeout: float = 10.0
    first_token_timeout: float = 300.0
    idle_timeout: float = 120.0
    theme: str = "flashchat-dark"
    google_search: bool = False
    url_context: bool = False
    code_execution: bool = False
    local_tools: bool = False
    max_tool_calls: int = 10
    attach_warn_tokens: int = 100_000
    large_request_tokens: int = 100_000
    price_input_per_million: float | None = None
    price_output_per_million: float | None = None
    price_cached_per_million: float | None = None
    # Where each non-default value came from ("config", "GEMINI_API_KEY", "--model"...), for `config show`.
    origins: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)
    # Every [endpoints.NAME] table of the config file, validated, in file order (api_key values included).
    endpoints: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, compare=False, repr=False)
    # Prompt presets by name: the built-in ones, replaced or extended by the config file's [presets] table.
    presets: Mapping[str, str] = field(default_factory=lambda: dict(BUILTIN_PRESETS), compare=False, repr=False)
    # The [keys] table: action name (core/commands.py) -> keys; front ends check the names (core/keys.py).
    keys: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)
    # `-p --schema`: a JSON Schema the reply must match (checked by the caller), sent with each request.
    response_schema: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)

    def with_overrides(self, origin: str, **values: Any) -> Settings:
        """A copy with the given values replaced (None means 'not given'), each checked like a config value."""
        given = {key: value for key, value in values.items() if value is not None}
        for key, value in given.items():
            where = f"--{key.replace('_', '-')}" if origin == "--option" else origin  # the flag, in messages
            given[key] = check_value(key, value, where=where)
        return dataclasses.replace(self, **given, origins={**self.origins, **dict.fromkeys(given, origin)})

    def with_response_schema(self, schema: Mapping[str, Any] | None) -> Settings:
        """A copy that asks for JSON matching `schema` (None: free text again)."""
        return dataclasses.replace(
            self, response_schema=schema, origins={**self.origins, "response_schema": "--schema"}
        )


def mask_secret(value: str) -> str:
    if not value:
        return ""
    return "****" + value[-4:] if len(value) > 12 else "****"


def check_value(key: str, value: Any, *, where: str) -> Any:
    """Return `value` converted for `key`, or raise ConfigError saying what is allowed."""
    option = OPTIONS.get(key)
    if option is None:
        raise ConfigError(f"{where}: {unknown_key_text(key)}")
    kind = option.kind
    ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True
    if ok and option.choices and value not in option.choices:
        ok = False
    if ok and option.minimum is not None and value < option.minimum:
        ok = False
    if not ok:
        shown = value if isinstance(value, (str, int, float, bool)) else type(value).__name__
        raise ConfigError(f"{where}: {key} = {shown!r} is not allowed; use {option.allowed()}")
    if problem := value_problem(key, value):
        raise ConfigError(f"{where}: {problem}")
    return value


def unknown_key_text(key: str) -> str:
    close = difflib.get_close_matches(key, OPTIONS, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"unknown key '{key}'{hint}; known keys: {', '.join(OPTIONS)}"


def parse_command_line_value(key: str, text: str) -> Any:
    """Turn the VALUE of `config set KEY VALUE` into the key's type."""
    option = OPTIONS.get(key)
    if option is None:
        raise ConfigError(unknown_key_text(key))
    if option.kind is bool:
        lowered = text.strip().lower()
        if lowered in ("true", "yes", "on", "1"):
            return True
        if lowered in ("false", "no", "off", "0"):
            return False
    elif option.kind in (int, float):
        try:
            return option.kind(text)
        except ValueError:
            pass
    else:
        return text
    raise ConfigError(f"{key} = {text!r} is not allowed; use {option.allowed()}")


def _line_of_key(text: str, key: str) -> int | None:
    """The line where `key` is assigned or opens a table, for error messages."""
    name = rf"[\"']?{re.escape(key)}[\"']?"
    pattern = re.compile(rf"^[ \t]*(?:{name}[ \t]*=|\[\[?[ \t]*{name}[ \t]*[\].])", re.MULTILINE)
    match = pattern.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else None


def read_config_table(path: Path) -> tuple[dict[str, Any], str]:
    """The raw TOML table and text of the config file ({} when it does not exist)."""
    try:
        # A regular file only, and bounded: a FIFO or a symlink to /dev/zero must not hang or fill memory.
        text = read_regular_file(path, CONFIG_FILE_BYTES).decode("utf-8")
    except FileNotFoundError:
        return {}, ""
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: the file is not valid UTF-8 text") from None
    except UnreadableFile as error:
        raise ConfigError(f"cannot read the config file: {error}") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the config file ({error.strerror})") from None
    try:
        return tomllib.loads(text), text
    except RecursionError:
        raise ConfigError(f"{path}: invalid TOML: arrays or tables are nested too deeply") from None
    except tomllib.TOMLDecodeError as error:
        # Python 3.11 has no lineno attribute; the position is at the end of the message.
        message = str(error)
        if message.endswith("(at end of document)"):
            line = text.count("\n") + (0 if text.endswith("\n") else 1)
            message = message.removesuffix("(at end of document)").rstrip()
            raise ConfigError(f"{path}: line {line}: invalid TOML: {message} (at the end of the file)") from None
        position = re.search(r"\(at line (\d+), column (\d+)\)$", message)
        if position:
            message = message[: position.start()].rstrip()
            raise ConfigError(f"{path}: line {position[1]}, column {position[2]}: invalid TOML: {message}") from None
        raise ConfigError(f"{path}: invalid TOML: {message}") from None


def load_settings(
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    endpoint: str | None = None,
    endpoint_origin: str = "--endpoint",
) -> Settings:
    """Defaults, then the config file, then the chosen endpoint's table, then environment variables.

    `endpoint` names an `[endpoints.NAME]` table (None: the file's top-level `endpoint` key, if any). The API
    key is read from the variable named by `api_key_env` first, then from the provider's usual variables
    (GEMINI_API_KEY / GOOGLE_API_KEY, or OPENAI_API_KEY), then from `api_key`: environment wins over the file,
    and a variable the user named for this endpoint wins over a generic one, so a gateway key is never
    replaced by the OpenAI key of the same shell.
    """
    path = path or paths.config_file()
    environ = os.environ if environ is None else environ
    table, text = read_config_table(path)
    raw_endpoints = table.pop("endpoints", None)
    presets = {**BUILTIN_PRESETS, **_check_presets(table.pop("presets", None), path, text)}
    keys = _check_keys(table.pop("keys", None), path, text)
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for key, raw in table.items():
        values[key] = check_value(key, raw, where=_where(path, text, key))
        origins[key] = "config"
    endpoints = _check_endpoints(raw_endpoints, path, text)
    name = endpoint if endpoint is not None else values.get("endpoint", "")
    if name:
        if name not in endpoints:
            where = str(path) if endpoint is not None else _where(path, text, "endpoint")
            raise ConfigError(f"{where}: {unknown_endpoint_text(name, endpoints)}")
        for key, value in endpoints[name].items():
            values[key], origins[key] = value, f"[endpoints.{name}]"
        values["endpoint"] = name
        origins["endpoint"] = endpoint_origin if endpoint is not None else "config"
    provider = values.get("provider", "gemini")
    key_vars = [values["api_key_env"]] if values.get("api_key_env") else []
    key_vars += [OPENAI_API_KEY_ENV_VAR] if provider == "openai" else list(API_KEY_ENV_VARS)
    for variable in key_vars:
        if environ.get(variable, "").strip():
            values["api_key"], origins["api_key"] = environ[variable].strip(), variable
            break
    if provider == "gemini" and environ.get(BASE_URL_ENV_VAR, "").strip():
        values["base_url"], origins["base_url"] = environ[BASE_URL_ENV_VAR].strip(), BASE_URL_ENV_VAR
    for key in ("api_key", "base_url"):  # from the environment: checked like the file's values
        if origins.get(key, "config") != "config" and not origins[key].startswith("[endpoints."):
            values[key] = check_value(key, values[key], where=origins[key])
    return Settings(**values, origins=origins, endpoints=endpoints, presets=presets, keys=keys)


# Keys an [endpoints.NAME] table may set: everything but the choice of endpoint itself and the UI theme.
ENDPOINT_KEYS = tuple(key for key in OPTIONS if key not in ("endpoint", "theme", "attach_warn_tokens"))


def list_endpoints(settings: Settings) -> list[str]:
    """Names of the config file's `[endpoints.NAME]` tables, in file order (for an endpoint switcher)."""
    return list(settings.endpoints)


def settings_for_endpoint(
    name: str | None, path: Path | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Fresh settings for endpoint `name` (None: the config's default), read again from the config file.

    Raises ConfigError naming the defined endpoints when `name` is unknown. Values a front end changed live
    (thinking level, say) are not carried over: re-apply them with `with_overrides`.
    """
    return load_settings(path, environ, endpoint=name, endpoint_origin="switched")


def needs_api_key(settings: Settings) -> bool:
    """True when a request cannot work without a key: Gemini needs one, a local OpenAI-compatible server may not."""
    return settings.provider == "gemini"


def unknown_endpoint_text(name: str, endpoints: Mapping[str, Any]) -> str:
    if not endpoints:
        return f"endpoint {name!r} is not defined; no [endpoints.NAME] tables are defined in the config file"
    return f"endpoint {name!r} is not defined; defined endpoints: {', '.join(endpoints)}"


def _where(path: Path, text: str, key: str) -> str:
    line = _line_of_key(text, key)
    return f"{path}: line {line}" if line else str(path)


def _check_endpoints(raw: Any, path: Path, text: str) -> dict[str, dict[str, Any]]:
    """Validate every [endpoints.NAME] table like the top level; errors name the file, line and table."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{_where(path, text, 'endpoints')}: endpoints must be tables like [endpoints.NAME], "
            f"not {type(raw).__name__}"
        )
    checked: dict[str, dict[str, Any]] = {}
    for name, table in raw.items():
        if not isinstance(table, dict):
            line = _line_in_endpoint(text, name, None)
            where = f"{path}: line {line}" if line else str(path)
            raise ConfigError(
                f"{where}: endpoints.{name} must be a table: write [endpoints.{name}] followed by keys such as "
                "provider, base_url and model"
            )
        values: dict[str, Any] = {}
        for key, value in table.items():
            line = _line_in_endpoint(text, name, key)
            where = f"{path}: line {line}: [endpoints.{name}]" if line else f"{path}: [endpoints.{name}]"
            if key not in ENDPOINT_KEYS:
                close = difflib.get_close_matches(key, ENDPOINT_KEYS, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise ConfigError(
                    f"{where}: unknown key '{key}'{hint}; an endpoint table may set: {', '.join(ENDPOINT_KEYS)}"
                )
            values[key] = check_value(key, value, where=where)
        checked[name] = values
    return checked


def _check_presets(raw: Any, path: Path, text: str) -> dict[str, str]:
    """[presets] maps a name to its prompt text."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f'{_where(path, text, "presets")}: presets must be a table: [presets] then name = "text"')
    for name, prompt in raw.items():
        if not isinstance(prompt, str) or not prompt.strip():
            raise ConfigError(f"{_where(path, text, name)}: [presets] {name} must be a non-empty string (the prompt)")
    return dict(raw)


def _check_keys(raw: Any, path: Path, text: str) -> dict[str, str]:
    """[keys] maps an action name to a key string; which names and keys make sense is the front ends' check."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f'{_where(path, text, "keys")}: keys must be a table: [keys] then action = "ctrl+x"')
    for name, keys in raw.items():
        if not isinstance(keys, str) or not keys.strip():
            raise ConfigError(f'{_where(path, text, name)}: [keys] {name} must be a key such as "ctrl+y" or "f9"')
    return dict(raw)


def _line_in_endpoint(text: str, name: str, key: str | None) -> int | None:
    """The line of `key` inside [endpoints.NAME] (or of the table itself when key is None), for messages.

    Handles a `[endpoints.NAME]` header, dotted keys (`NAME.model = ...`) and inline tables on one line.
    """
    name_pattern = rf"(?:{re.escape(name)}|\"{re.escape(name)}\"|'{re.escape(name)}')"
    key_pattern = rf"(?:{re.escape(key)}|\"{re.escape(key)}\"|'{re.escape(key)}')" if key else ""
    lines = text.splitlines()
    header = re.compile(rf"^[ \t]*\[[ \t]*endpoints[ \t]*\.[ \t]*{name_pattern}[ \t]*\]")
    for number, line in enumerate(lines):
        if not header.match(line):
            continue
        if not key:
            return number + 1
        for offset, inner in enumerate(lines[number + 1 :], start=number + 2):
            if inner.lstrip().startswith("["):
                break
            if re.match(rf"^[ \t]*{key_pattern}[ \t]*=", inner):
                return offset
        return number + 1
    if key:
        dotted = rf"\.[ \t]*{key_pattern}[ \t]*="
        inline = re.compile(rf"{name_pattern}[ \t]*(?:{dotted}|=[ \t]*\{{[^\n]*?{key_pattern}[ \t]*=)")
        if match := inline.search(text):
            return text.count("\n", 0, match.start()) + 1
    match = re.search(rf"(?m)(?:^|[.{{,][ \t]*){name_pattern}[ \t]*[.=]", text)
    return text.count("\n", 0, match.start()) + 1 if match else None


def key_file_is_exposed(path: Path) -> bool:
    """True when the config file holds a key yet others may read it (we write 0600; an editor may not)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return bool(mode & (stat.S_IRWXG | stat.S_IRWXO))


def update_config_file(path: Path, key: str, value: Any | None) -> None:
    """Set (or, with None, remove) one top-level key in the config file, keeping everything else as written.

    Comments, blank lines and the order of keys survive (config/config_writer.py); a symlinked file is
    written through to its target; written atomically, 0600. A file that cannot be written is a ConfigError.
    """
    from flashchat.config.config_writer import ConfigWriteError, set_config_value

    table, text = read_config_table(path)
    if value is not None:
        value = check_value(key, value, where=key)
        endpoints = table.get("endpoints")
        endpoints = endpoints if isinstance(endpoints, dict) else {}
        if key == "endpoint" and value and value not in endpoints:
            raise ConfigError(f"{path}: {unknown_endpoint_text(value, endpoints)}")
    try:
        set_config_value(path, (key,), value, text)
    except ConfigWriteError as error:
        raise ConfigError(str(error)) from None
