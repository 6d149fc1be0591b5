"""Command line entry point. Imports stay light: `--help` and `--version` never load google.genai."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from flashchat import __version__
from flashchat.config import (
    NO_KEY_MESSAGE,
    OPTIONS,
    THINKING_LEVELS,
    ConfigError,
    Settings,
    key_file_is_exposed,
    load_settings,
    mask_secret,
    parse_command_line_value,
    update_config_file,
)

EXIT_OK, EXIT_API_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

EXAMPLES = """\
examples:
  flashchat -p "Explain Python's GIL in three sentences."
  git diff | flashchat -p "Review this change" --thinking high
  flashchat -p "Summarise" --json < notes.txt | jq -r .text
  flashchat config set thinking_level low
  flashchat config show

keys: GEMINI_API_KEY (or GOOGLE_API_KEY), else api_key in the config file.
exit codes: 0 ok, 1 API or network error, 2 usage or config error, 130 interrupted.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flashchat",
        description="A terminal chat assistant for Gemini 3.5 Flash.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"flashchat {__version__}")
    parser.add_argument("-p", "--prompt", metavar="TEXT", help="ask once and print the reply (stdin is appended)")
    parser.add_argument("--thinking", choices=THINKING_LEVELS, help="thinking level for this request")
    parser.add_argument("--model", metavar="NAME", help="model to use (default from config: gemini-3.5-flash)")
    parser.add_argument("--system", metavar="TEXT", help="system instruction for this request")
    parser.add_argument("--show-thoughts", action="store_true", default=None, help="show thought summaries")
    parser.add_argument("--usage", action="store_true", help="print a token-usage line on stderr")
    parser.add_argument("--json", action="store_true", help="print one JSON object with text, usage and status")

    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    config = commands.add_parser("config", help="show or change settings", description="Show or change settings.")
    config_commands = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    config_commands.add_parser("show", help="effective settings and where each comes from (key masked)")
    config_commands.add_parser("path", help="print the config file's path")
    setter = config_commands.add_parser(
        "set", help="set a key in the config file", epilog="keys: " + ", ".join(OPTIONS)
    )
    setter.add_argument("key", metavar="KEY")
    setter.add_argument("value", metavar="VALUE", help="the value; for api_key, '-' reads it from stdin")
    unsetter = config_commands.add_parser("unset", help="remove a key from the config file")
    unsetter.add_argument("key", metavar="KEY")
    return parser


def _error(text: str) -> None:
    sys.stderr.write(f"flashchat: {text}\n")
    sys.stderr.flush()


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except ConfigError as error:
        _error(str(error))
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, and keep Python from complaining at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_API_ERROR


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    config_path = _config_path()
    if args.command == "config":
        return _config_command(args, config_path)

    settings = load_settings(config_path).with_overrides(
        "--option", model=args.model, thinking_level=args.thinking, show_thoughts=args.show_thoughts
    )
    if args.system is not None:
        settings = settings.with_overrides("--system", system_prompt=args.system)
    if settings.api_key and settings.origins.get("api_key") == "config" and key_file_is_exposed(config_path):
        _error(f"warning: {config_path} holds an API key but others can read it; run chmod 600 on it.")

    if args.prompt is None and sys.stdin.isatty():
        if not sys.stdout.isatty():
            _error("no prompt: use -p TEXT or pipe text on stdin (the chat needs a terminal; see flashchat --help).")
            return EXIT_USAGE
        from flashchat.tui.app import run_tui

        return run_tui(settings, config_path=config_path)

    stdin_text = None
    if not sys.stdin.isatty():
        from flashchat.oneshot import read_stdin

        stdin_text = read_stdin(sys.stdin.buffer, lambda text: _error(f"warning: {text}"))
    if args.prompt is None and stdin_text is None:
        _error("no prompt: use -p TEXT or pipe text on stdin (see flashchat --help).")
        return EXIT_USAGE
    return _one_shot(args, settings, stdin_text)


def _config_path() -> Path:
    from flashchat import paths

    return paths.config_file()


def _one_shot(args: argparse.Namespace, settings: Settings, stdin_text: str | None) -> int:
    from flashchat.oneshot import OneShot, build_prompt

    prompt = build_prompt(args.prompt, stdin_text)
    if not prompt.strip():
        _error("the prompt is empty: give text with -p or on stdin.")
        return EXIT_USAGE
    if not settings.api_key:
        _error(NO_KEY_MESSAGE)
        return EXIT_USAGE
    runner = OneShot(settings, show_usage=args.usage, as_json=args.json, stdout=sys.stdout, stderr=sys.stderr)
    return runner.run(prompt)


def _config_command(args: argparse.Namespace, path: Path) -> int:
    if args.config_command == "path":
        print(path)
        return EXIT_OK
    if args.config_command == "show":
        _show_settings(load_settings(path), path)
        return EXIT_OK
    if args.config_command == "unset":
        if args.key not in OPTIONS:
            raise ConfigError(f"unknown key '{args.key}'; known keys: {', '.join(OPTIONS)}")
        update_config_file(path, args.key, None)
        print(f"{args.key} removed from {path}")
        return EXIT_OK
    value = _read_secret() if args.key == "api_key" and args.value == "-" else args.value
    update_config_file(path, args.key, parse_command_line_value(args.key, value))
    shown = mask_secret(value) if OPTIONS[args.key].secret else repr(value)
    print(f"{args.key} = {shown} written to {path}")
    if args.key == "api_key" and any(os.environ.get(name) for name in ("GEMINI_API_KEY", "GOOGLE_API_KEY")):
        print("note: GEMINI_API_KEY / GOOGLE_API_KEY is set in this shell and takes precedence.")
    return EXIT_OK


def _read_secret() -> str:
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass("API key: ").strip()
    return sys.stdin.readline().strip()


def _show_settings(settings: Settings, path: Path) -> None:
    import tomli_w

    print(f"# {path}{'' if path.exists() else ' (does not exist yet)'}")
    for key, option in OPTIONS.items():
        value: Any = getattr(settings, key)
        origin = settings.origins.get(key, "default")
        if value is None:
            print(f"# {key} is unset  ({option.help})")
            continue
        if option.secret:
            value = mask_secret(value) if value else "(not set)"
        line = tomli_w.dumps({key: value}).strip()
        print(f"{line}  # {origin}")
