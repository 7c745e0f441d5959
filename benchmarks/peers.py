"""Cold start of PostgreSQL + Redis in Docker: omnitron beside raw ``docker run``, Compose and Testcontainers.

Drives the shared peer harness (``peers.py`` of the bench folder, whose tools
are raw ``docker run`` + polling, docker-compose and testcontainers) with
omnitron added as ``--tool-cmd`` rows, so every figure comes from ONE run,
round-robin, on the same images (``bench/postgres:15``, ``bench/redis:7``).
A run goes from nothing running to a real ``SELECT 1`` (psycopg, password,
127.0.0.1) and an authenticated ``PING``; containers and volumes are removed
after each run.

omnitron rows (one project; its credentials are pre-set so the DSN is known):

- ``omni-notmpl``: ``OMNITRON_DOCKER_TEMPLATE=off``: the image's entrypoint
  runs ``initdb``, as raw does (target: at most 1.1x raw, faster than Compose
  and Testcontainers);
- ``omni-tmpl``: a later cold run, the data volume seeded from the cached
  initialised template (target: at most 0.6x raw);
- ``omni-first``: the first-ever run, the template is built during it (its
  DOWN step of the previous row drops the cached template);
- ``omni-before`` (with ``--before EXE``): another omnitron installation, e.g.
  an older version, run the same way as ``omni-notmpl`` (before/after in one run).

Run (from the project root, with omnitron and its docker/postgres/redis
plugins installed in the interpreter running this script)::

    bash ../shared/bench/setup-peers.sh && bash ../shared/bench/build-images.sh   # once
    python benchmarks/peers.py [-n 5] [--rows omni-notmpl,omni-tmpl,omni-first] [--tools raw,tc-seq-50ms,compose]

Prints the harness's tables (seconds, ratio to raw, where the time goes), then
one summary of every row (median, range, ratio to raw's median) with the targets
beside omnitron's. Asserts nothing. Each round runs every tool once, in turn, so
drift hits them all alike; ``uptime`` is printed before and after: figures are
noisy on a loaded machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_IMAGE, REDIS_IMAGE = "bench/postgres:15", "bench/redis:7"
PASSWORD = "benchpw"
PORT_OFFSET = 17870  # every port below the ephemeral range (32768 here)
CONFIG = f"""\
from omnitron import define_ecosystem

ecosystem = define_ecosystem(
    project="peersbench",
    infrastructure={{"services": {{
        "db": {{"preset": "postgres", "config": {{"image": "{PG_IMAGE}"}}}},
        "cache": {{"preset": "redis", "config": {{"image": "{REDIS_IMAGE}"}}}},
    }}}},
    stacks={{"dev": {{"type": "local", "provider": "docker", "portOffsets": {PORT_OFFSET}}}}},
)
"""
TARGETS = {"omni-notmpl": 1.1, "omni-tmpl": 0.6}


def default_harness() -> str:
    for candidate in (os.environ.get("OMNITRON_PEERS_HARNESS"), ROOT.parent / "shared" / "bench" / "peers.py", Path("/work/shared/bench/peers.py")):
        if candidate and Path(candidate).is_file():
            return str(candidate)
    return str(ROOT.parent / "shared" / "bench" / "peers.py")


def omnitron_exe() -> str:
    local = Path(sys.executable).parent / "omnitron"
    return str(local) if local.exists() else (shutil.which("omnitron") or "omnitron")


class BenchProject:
    """A throwaway project directory with the bench images and known credentials."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "omnitron.config.py").write_text(CONFIG)
        self.exe = omnitron_exe()
        self.env = {**os.environ, "OMNITRON_CONFIG_DIR": str(root / ".config"), "OMNITRON_SECRET_KEY": os.urandom(32).hex()}
        self.env.pop("OMNITRON_DOCKER_TEMPLATE", None)
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)  # measured as installed: bytecode cached

    def omnitron(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run([self.exe, *args], cwd=self.root, env=self.env, input=stdin, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"omnitron {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
        return done.stdout

    def setup(self) -> tuple[str, str]:
        """Pre-set both passwords; the Postgres DSN and Redis ``PASSWORD@HOST:PORT`` from the plan."""
        plan = json.loads(self.omnitron("infra", "plan", "--json"))
        by_name = {svc["name"]: svc for svc in plan["services"]}
        for svc in by_name.values():
            self.omnitron("secret", "set", svc["secrets"]["password"], stdin=PASSWORD)
        pg, rd = by_name["db"]["ports"]["main"], by_name["cache"]["ports"]["main"]
        return f"postgresql://postgres:{PASSWORD}@127.0.0.1:{pg}/postgres", f"{PASSWORD}@127.0.0.1:{rd}"

    def command(self, *args: str, env: str = "", exe: str | None = None) -> str:
        return f"cd {shlex.quote(str(self.root))} && {env}{shlex.quote(exe or self.exe)} {' '.join(args)}"


def drop_templates_command() -> str:
    """Shell: remove the cached data templates made from the bench Postgres image (nothing else)."""
    image_id = subprocess.run(["docker", "image", "inspect", "-f", "{{.Id}}", PG_IMAGE], capture_output=True, text=True).stdout.strip()
    if not image_id:
        sys.exit(f"image {PG_IMAGE} missing: run bash ../shared/bench/build-images.sh first")
    return f"docker image ls -q --filter label=omnitron.template.source={image_id} | xargs -r docker image rm -f >/dev/null"


def tool_rows(project: BenchProject, rows: list[str], before: str | None) -> list[list[str]]:
    """``--tool-cmd`` arguments, ordered so that each row starts from the template state it names."""
    down = project.command("infra", "down", "--volumes")
    drop = drop_templates_command()
    specs = {
        "omni-before": (project.command("infra", "up", env="OMNITRON_DOCKER_TEMPLATE=off ", exe=before), project.command("infra", "down", "--volumes", exe=before)),
        "omni-notmpl": (project.command("infra", "up", env="OMNITRON_DOCKER_TEMPLATE=off "), down),
        # leaves no template behind, so that omni-first (next) builds one
        "omni-tmpl": (project.command("infra", "up"), f"{down}; {drop}" if "omni-first" in rows else down),
        "omni-first": (project.command("infra", "up"), down if "omni-tmpl" in rows else f"{down}; {drop}"),
    }
    return [[name, *specs[name]] for name in ("omni-before", "omni-notmpl", "omni-tmpl", "omni-first") if name in rows]


PEERS = {"compose": "docker-compose up -d + poll", "tc-seq": "testcontainers", "tc-seq-50ms": "testcontainers, 50 ms polling", "tc-par": "testcontainers, 2 threads"}
ROW_NAMES = {
    "raw": "raw docker run + poll",
    **PEERS,
    "omni-before": "omnitron (--before), no template",
    "omni-notmpl": "omnitron, no template",
    "omni-first": "omnitron, template built (first ever)",
    "omni-tmpl": "omnitron, template (later cold)",
}


def summary(result_file: Path, rows: list[str]) -> list[str]:
    """Every row of the run: median, range, ratio to raw's median, and the target beside omnitron's."""
    data = json.loads(result_file.read_text())
    runs = {name: [r["ready"] for r in found] for name, found in data["results"].items() if found}
    med = {name: statistics.median(values) for name, values in runs.items()}
    raw = med.get("raw")
    if not raw:
        return ["(no raw row: no ratios)"]
    fastest_peer = min((n for n in med if n in PEERS), key=med.__getitem__, default=None)
    order = ["raw", *(n for n in PEERS if n in med), *(n for n in ("omni-before", "omni-notmpl", "omni-first", "omni-tmpl") if n in med and n in rows)]
    lines = [f"{'cold up -> SELECT 1 + PING':<40} {'median':>7} {'range':>12} {'/raw':>6} {'paired':>7}  target"]
    for name in order:
        ratio = med[name] / raw
        # the same round's raw run beside each run: drift of the machine's load cancels out
        paired = statistics.median(mine / theirs for mine, theirs in zip(runs[name], runs["raw"]))
        verdict = ""
        if name in TARGETS:
            verdict = f"<= {TARGETS[name]:.1f}x raw: {'met' if ratio <= TARGETS[name] else 'NOT met'}"
        if name == "omni-notmpl" and fastest_peer is not None:
            ahead = med[name] < med[fastest_peer]
            verdict += f"; faster than every peer (best: {fastest_peer} {med[fastest_peer] / raw:.2f}x): {'yes' if ahead else 'NO'}"
        if name == "omni-first":
            verdict = "first-ever run: the template is built beside it (no target)"
        spread = f"{min(runs[name]):.2f}-{max(runs[name]):.2f}"
        lines.append(f"{ROW_NAMES.get(name, name):<40} {med[name]:7.2f} {spread:>12} {ratio:5.2f}x {paired:6.2f}x  {verdict}")
    lines.append("/raw: median over raw's median (the targets' measure); paired: median of each run over the same round's raw run")
    return lines


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--runs", type=int, default=5)
    parser.add_argument("--harness", default=default_harness(), help="the shared peers.py (default: ../shared/bench/peers.py)")
    parser.add_argument("--python", default=os.environ.get("OMNITRON_PEERS_PYTHON", "/tmp/peers-venv/bin/python"), help="interpreter with the harness's deps")
    parser.add_argument("--tools", default="raw,tc-seq-50ms,compose", help="the harness's own tools")
    parser.add_argument("--rows", default="omni-notmpl,omni-tmpl,omni-first", help="omnitron rows (see above)")
    parser.add_argument("--before", help="another omnitron executable: adds the row omni-before")
    parser.add_argument("--attempts", type=int, default=3, help="runs of the harness until one completes (a loaded machine makes peers time out)")
    args = parser.parse_args()
    rows = [r for r in args.rows.split(",") if r] + (["omni-before"] if args.before else [])
    for path, what in ((args.harness, "the peers harness"), (args.python, "the peers venv (bash ../shared/bench/setup-peers.sh)")):
        if not Path(path).exists():
            sys.exit(f"{path}: {what} not found")
    with tempfile.TemporaryDirectory(prefix="omnitron-peers-") as tmp:
        project = BenchProject(Path(tmp))
        pg_dsn, redis_addr = project.setup()
        project.omnitron("infra", "down", "--volumes")
        if "omni-tmpl" in rows:  # the first omni-tmpl run finds a template
            project.omnitron("infra", "up")
            project.omnitron("infra", "down", "--volumes")
        result_file = Path(tmp) / "peers.json"
        cmd = [args.python, args.harness, "-n", str(args.runs), "--tools", args.tools, "--json", str(result_file)]
        for name, up, down in tool_rows(project, rows, args.before):
            cmd += ["--tool-cmd", name, up, down, pg_dsn, redis_addr]
        for attempt in range(1, args.attempts + 1):
            print(f"load before: {uptime()}", flush=True)
            started = time.perf_counter()
            code = subprocess.run(cmd, env=project.env).returncode
            print(f"\nload after:  {uptime()}  ({time.perf_counter() - started:.0f}s)")
            if code == 0:
                break
            # a peer failing under load (Compose's no-op check, a 90 s timeout) ends the harness's run: run it again
            print(f"the harness failed (attempt {attempt} of {args.attempts})", flush=True)
            project.omnitron("infra", "down", "--volumes")
        else:
            sys.exit(code)
        print("\n" + "\n".join(summary(result_file, rows)))
        shutil.copy(result_file, f"/tmp/omnitron-peers-{time.strftime('%Y%m%d-%H%M%S')}.json")


if __name__ == "__main__":
    main()
