"""$EDITOR for `cslog new --edit` (the kind's template) and `cslog edit` (a record): reopened, with the text kept and
the problems on top, until it is valid."""
from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from pathlib import Path
from typing import Callable

from cslog.errors import CslogError, UsageError
from cslog.schemas import template_dir
from cslog.yamlio import YamlSyntaxError, load_text

MAX_ROUNDS = 20


def _run_editor(path: Path) -> None:
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    try:
        proc = subprocess.run([*shlex.split(editor), str(path)])
    except FileNotFoundError:
        raise UsageError(f"cannot start the editor '{editor}'", hint="set $EDITOR, e.g. export EDITOR=nano") from None
    if proc.returncode != 0:
        raise UsageError(f"the editor '{editor}' exited with {proc.returncode}; nothing was saved")


def _strip_errors(text: str) -> str:
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith("# cslog error:"))


def edit_until_valid(kind: str, save: Callable[[dict], object]):
    """`cslog new --edit`: the kind's template in $EDITOR until `save(document)` takes it; left empty or
    unchanged, nothing is saved (UsageError)."""
    def parsed(text: str) -> object:
        try:
            doc = load_text(text)
        except YamlSyntaxError as exc:
            raise UsageError(f"line {exc.line}: {exc}" if exc.line else str(exc)) from None
        return save(doc if doc is not None else {})

    def nothing() -> object:
        raise UsageError("nothing to save: the template was left empty or unchanged")

    template = (template_dir() / f"{kind}.yaml").read_text(encoding="utf-8")
    return _until_saved(template, f"new-{kind}.yaml", parsed, nothing)


def edit_record_text(text: str, name: str, save: Callable[[str], object]):
    """`cslog edit`: a record's text in $EDITOR; `save(text)` takes what was saved (None: the user left it
    unchanged or emptied it, nothing written)."""
    return _until_saved(text, name, save, lambda: None)


def _until_saved(text: str, name: str, save: Callable[[str], object], given_up: Callable[[], object]):
    """The text in $EDITOR until `save` takes it: a CslogError's problems come back on top of the text (one
    `# cslog error:` line each); emptied, or left as it was, `given_up()` says what that means."""
    import sys

    first = last = text
    with tempfile.TemporaryDirectory(prefix="cslog-edit-") as tmp:
        path = Path(tmp) / name
        for _ in range(MAX_ROUNDS):
            path.write_text(text, encoding="utf-8")
            _run_editor(path)
            text = _strip_errors(path.read_text(encoding="utf-8"))
            if text.strip() == "" or text in (first, last):
                return given_up()
            last = text
            try:
                return save(text)
            except CslogError as exc:
                problems = [p.strip() for p in exc.problems if p.strip()]
                if exc.hint:
                    problems[-1] += f" ({exc.hint})"
            print(f"error: {'; '.join(problems)}; reopening the editor", file=sys.stderr)
            text = "".join(f"# cslog error: {p}\n" for p in problems) + text
    raise UsageError(f"gave up after {MAX_ROUNDS} attempts; nothing was saved")
