"""CPU per chunk, Gemini provider vs OpenAI-compatible provider, through the real `flashchat -p`. Prints numbers.

    python bench/gemini_chunks.py [--runs 7] [--chunk-chars 20] [--tokens 20000] [--before-src DIR]

The same reply text (about 20,000 tokens, cut into small chunks, sent with no delay) is streamed by
`flashchat.testing.fake_gemini` to a `flashchat -p` child using the Gemini provider, and by
`flashchat.testing.fake_openai` to one using the OpenAI-compatible provider. The runs alternate between the two
so that the machine's load falls on both alike. For each provider it prints the child's CPU time (user + sys,
from os.wait4, so the fakes' own work is not counted): median, min-max spread, and the Gemini/OpenAI ratio of the
medians. The load average from /proc/loadavg is printed before and after.

The children run as an installed flashchat does, with compiled bytecode cached (in a temporary
PYTHONPYCACHEPREFIX, filled by one untimed run of each; PYTHONDONTWRITEBYTECODE in the environment would
otherwise make every run compile flashchat's own modules again, ~0.1 s of CPU on both sides).
`--before-src DIR` (a checkout's `src`) adds a "before" pair of the same two runs with DIR first on
PYTHONPATH, interleaved with the others, so a change is measured against its base in one run.
`--tokens 10` measures the fixed cost alone (start-up, imports, client, request).
`--floor` also times, interleaved with the rest, a child that only imports the provider's module the way `-p`
does (collector paused, then frozen: providers/__init__.py `import_provider_kept`), and prints each path's CPU split
into that import and the rest of the run, and the ratio Gemini would have if the rest cost what the
OpenAI-compatible path's does: the floor the SDK's import sets.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from flashchat.testing import fake_gemini, fake_openai

WORDS = "lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore. "


def reply_chunks(tokens: int, chunk_chars: int) -> list[str]:
    text = (WORDS * (tokens * 4 // len(WORDS) + 1))[: tokens * 4]  # about 4 characters a token
    return [text[start : start + chunk_chars] for start in range(0, len(text), chunk_chars)]


def command() -> list[str]:
    script = Path(sys.executable).parent / "flashchat"
    return [str(script)] if script.exists() else [sys.executable, "-m", "flashchat"]


def base_env(home: Path) -> dict[str, str]:
    skipped = ("GEMINI_", "GOOGLE_", "OPENAI_", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if not k.startswith(skipped)}
    env.update(
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        PYTHONPYCACHEPREFIX=str(home / "pycache"),
    )
    return env


def gemini_env(fake: fake_gemini.FakeGemini, home: Path) -> dict[str, str]:
    return base_env(home) | {"GEMINI_API_KEY": fake.api_key, "GOOGLE_GEMINI_BASE_URL": fake.url}


def openai_env(fake: fake_openai.FakeOpenAI, home: Path) -> dict[str, str]:
    config = home / "config" / "flashchat" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'provider = "openai"\nbase_url = "{fake.url}"\nmodel = "gemini-3.5-flash"\n')
    config.chmod(0o600)
    return base_env(home) | {"OPENAI_API_KEY": fake.api_key}


def child_cpu_seconds(env: dict[str, str], expected_bytes: int) -> float:
    """Run `flashchat -p`, read all its stdout, and return its user + sys CPU seconds."""
    process = subprocess.Popen(
        [*command(), "-p", "write a lot"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert process.stdout is not None and process.stderr is not None
    received = len(process.stdout.read())
    errors = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0 or received < expected_bytes:
        raise SystemExit(
            f"flashchat exited {process.returncode} after {received} of {expected_bytes} bytes: "
            + errors.decode(errors="replace")[-500:]
        )
    return usage.ru_utime + usage.ru_stime


# What `flashchat -p` imports for a provider, as it imports it (providers/__init__.py `import_provider_kept`).
IMPORT_ONLY = "import gc; gc.disable(); import flashchat.providers.{module}; gc.freeze(); gc.enable()"


def import_cpu_seconds(env: dict[str, str], module: str) -> float:
    process = subprocess.Popen([sys.executable, "-c", IMPORT_ONLY.format(module=module)], env=env)
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"importing flashchat.providers.{module} failed")
    return usage.ru_utime + usage.ru_stime


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def summary(name: str, values: list[float]) -> str:
    return (
        f"{name:14} CPU median {statistics.median(values):.2f} s, spread {min(values):.2f}-{max(values):.2f} s "
        f"({len(values)} runs)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--chunk-chars", type=int, default=20)
    parser.add_argument("--tokens", type=int, default=20_000)
    parser.add_argument("--before-src", help="a base checkout's src directory, run interleaved as 'before'")
    parser.add_argument("--floor", action="store_true", help="also time the provider's import alone (see above)")
    args = parser.parse_args()
    chunks = reply_chunks(args.tokens, args.chunk_chars)
    text = "".join(chunks)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, command: {' '.join(command())}")
    print(f"reply: {len(text):,} characters in {len(chunks):,} chunks of {args.chunk_chars}; load {load_average()}")
    names = ["gemini", "openai"] + (["gemini before", "openai before"] if args.before_src else [])
    cpu: dict[str, list[float]] = {name: [] for name in names}
    imports: dict[str, list[float]] = {name: [] for name in names}
    with (
        fake_gemini.FakeGemini() as gemini,
        fake_openai.FakeOpenAI() as openai,
        tempfile.TemporaryDirectory() as home,
    ):
        envs = {}
        for name in names:  # a home of its own for each: a base checkout may keep another store schema
            make_env = gemini_env if name.startswith("gemini") else openai_env
            fake = gemini if name.startswith("gemini") else openai
            envs[name] = make_env(fake, Path(home) / name.replace(" ", "-"))  # type: ignore[arg-type]
            if name.endswith("before"):
                envs[name]["PYTHONPATH"] = str(Path(args.before_src).resolve())
        for run in range(args.runs + 1):  # run 0 fills the bytecode cache and is not counted
            # Alternate the order, so none always runs on the warmer (or busier) machine.
            for name in names if run % 2 == 0 else names[::-1]:
                if name.startswith("gemini"):
                    gemini.enqueue(fake_gemini.Reply.text(text, chunks=chunks))
                else:
                    openai.enqueue(fake_openai.Reply.text(text, chunks=chunks))
                seconds = child_cpu_seconds(envs[name], len(text))
                if run:
                    cpu[name].append(seconds)
                if args.floor:
                    module = "gemini" if name.startswith("gemini") else "openai_compat"
                    seconds = import_cpu_seconds(envs[name], module)
                    if run:
                        imports[name].append(seconds)
    for name in names:
        print(summary(name, cpu[name]))
    for suffix in ["", " before"] if args.before_src else [""]:
        ratio = statistics.median(cpu["gemini" + suffix]) / statistics.median(cpu["openai" + suffix])
        print(f"ratio gemini/openai{suffix} (medians): {ratio:.2f}")
    if args.floor:
        for name in names:
            imported = statistics.median(imports[name])
            print(
                f"{name:14} import of its provider {imported:.2f} s (spread {min(imports[name]):.2f}-"
                f"{max(imports[name]):.2f} s), the rest of the run {statistics.median(cpu[name]) - imported:.2f} s"
            )
        for suffix in ["", " before"] if args.before_src else [""]:
            openai_total = statistics.median(cpu["openai" + suffix])
            openai_rest = openai_total - statistics.median(imports["openai" + suffix])
            floor = (statistics.median(imports["gemini" + suffix]) + openai_rest) / openai_total
            print(f"floor ratio{suffix} (Gemini's import + the OpenAI-compatible rest, over its total): {floor:.2f}")
    print(f"load after: {load_average()}")


if __name__ == "__main__":
    main()
