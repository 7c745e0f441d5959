"""``omnitron infra export``: plan the stack, read the bind-mounted config files, write the manifests, print the secret commands."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated, Literal

from cyclopts import Parameter

from omnitron.api import JsonOpt, PlanError, ProjectOpt, ProviderOpt, StackOpt, console, load_stack, print_json

OutputOpt = Annotated[Path | None, Parameter(name=["--output", "-o"], help="directory to write into (default: stdout)")]
SCRIPT_HEAD = (
    "#!/usr/bin/env bash\n"
    "# Creates the Secrets the manifests reference, from omnitron's secret store: no value is written here,\n"
    "# and none is passed as an argument (each reaches the tool through a pipe).\n"
    "set -euo pipefail\n"
)
FormatOpt = Annotated[Literal["kubernetes", "compose"], Parameter(name="--format", help="kubernetes manifests or a compose file")]
SecretOpt = Annotated[
    str | None,
    Parameter(name="--secret", help="print the content of one key of a referenced Secret (NAME/KEY), read from the secret store: what the secret commands pipe to kubectl or docker"),
]


def read_mounted(paths: list[str]) -> dict[str, dict[str, str]]:
    """Bind-mount source -> file name -> content: what ConfigMaps hold (a directory's files, or one file)."""
    out: dict[str, dict[str, str]] = {}
    for source in paths:
        path = Path(source)
        if path.is_dir():
            out[source] = {p.name: p.read_text() for p in sorted(path.iterdir()) if p.is_file()}
        elif path.is_file():
            out[source] = {path.name: path.read_text()}
    return out


def reader_command(format: str, stack: str, provider: str | None, project: object) -> str:
    """``omnitron infra export`` with the options that plan the same stack again (``--secret`` is added per key)."""
    words = ["omnitron", "infra", "export"]
    if format != "kubernetes":
        words += ["--format", format]
    words += ["--stack", stack]
    if provider is not None:
        words += ["--provider", provider]
    if project is not None:
        words += ["--project", str(Path(str(project)).resolve())]
    return " ".join(shlex.quote(w) for w in words)


def export_cmd(
    *, format: FormatOpt = "kubernetes", output: OutputOpt = None, project: ProjectOpt = None, stack: StackOpt = None,
    provider: ProviderOpt = None, secret: SecretOpt = None, json: JsonOpt = False,
) -> int:
    """Write the stack as Kubernetes manifests or a compose file; Secrets only as references, with the commands creating them."""
    from .common import needs_docker
    from .writing import dump_all, export_of, secret_content

    loaded = load_stack(project, stack, provider)
    missing = needs_docker(loaded.plan)
    if missing:
        raise PlanError(f"services {', '.join(missing)} run without a container here, so they cannot be exported: export a stack whose services run from docker (e.g. --provider docker)", path="--stack")
    if secret is not None:
        sys.stdout.write(secret_content(loaded, format, read_mounted, secret))
        sys.stdout.flush()
        return 0
    export = export_of(loaded, format, read_mounted, reader=reader_command(format, loaded.plan.stack, provider, project))
    if output is None and not json:
        for name, docs in export.files.items():
            print(f"# {name}")
            print(dump_all(docs), end="")
    written = []
    if output is not None:
        output.mkdir(parents=True, exist_ok=True)
        for name, docs in export.files.items():
            (output / name).write_text(dump_all(docs))
            written.append(str(output / name))
        if export.commands:
            script = output / "create-secrets.sh"
            script.write_text(SCRIPT_HEAD + "\n".join(export.commands) + "\n")
            script.chmod(0o755)
            written.append(str(script))
    if json:
        print_json({"format": format, "files": written or list(export.files), "secretCommands": export.commands, "notes": export.notes})
        return 0
    out = console()
    if written:
        out.print(f"wrote {', '.join(written)}", soft_wrap=True)
    if export.commands:
        out.print("create the Secrets they reference (values come from the secret store, never from a file):", soft_wrap=True)
        for command in export.commands:
            out.print(command, soft_wrap=True, markup=False, highlight=False)
    for note in export.notes:
        out.print(f"note: {note}", soft_wrap=True)
    return 0
