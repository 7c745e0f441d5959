"""A 20-test suite where every test needs a clean database: omnitron's pytest fixtures vs testcontainers vs pytest-postgresql.

Every suite has the same 20 tests: each connects to a database of its own,
finds the migrated schema and seed rows and nothing else, writes a row, and
checks it is alone. What differs is where the clean database comes from:

- omnitron (cold): the ``omnitron_database`` fixture; the session brings the
  project's ``test`` stack up as native processes, runs the app's migration,
  clones the migrated database for each test (``CREATE DATABASE ... TEMPLATE``)
  and brings everything down at the end: what a CI run does;
- omnitron (kept): the same with ``--omnitron-keep`` after a first run: a developer's re-run;
- testcontainers, container per test: a ``PostgresContainer`` per test, migrated;
- testcontainers, session container: one container, a new database created and migrated per test;
- pytest-postgresql: ``postgresql_proc`` (a local server started with pg_ctl) and
  its ``postgresql`` fixture (a database per test from a template loaded once).

Each suite runs as ``python -m pytest`` in a fresh directory; the wall time of
the whole run (interpreter start to exit) is measured, median of ``--runs``.

Run (from the repository, in a venv with omnitron, omnitron-postgres and pytest):
    python benchmarks/app_tests.py [--runs 3] [--peers-python PATH] [--only omnitron,tc-session,...]
The peers' venv (testcontainers 4.15, pytest-postgresql, psycopg 3) is made at
/tmp/omnitron-bench-peers on first use unless ``--peers-python`` names one. The
containers use the local image omnitron-test/postgres:15 (``bash .ci/build-images.sh``;
no registry is reachable). PostgreSQL refuses to run as root: as root, the
pytest-postgresql suite runs as the unprivileged ``omnitron`` user.
"""

from __future__ import annotations

import argparse
import os
import pwd
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

TESTS = 20
IMAGE = "omnitron-test/postgres:15"
PEERS = Path("/tmp/omnitron-bench-peers")
PEER_PACKAGES = ["testcontainers[postgres]==4.15.0", "psycopg[binary]==3.3.9", "pytest>=8", "pytest-postgresql>=6", "docker==7.2.0"]
SCHEMA = [
    "CREATE TABLE products (sku text PRIMARY KEY, price_cents int NOT NULL)",
    "INSERT INTO products VALUES ('widget', 250), ('gadget', 1200)",
    "CREATE TABLE orders (id serial PRIMARY KEY, sku text NOT NULL REFERENCES products, qty int NOT NULL)",
]
CHECK = textwrap.dedent(
    """
    def check_clean(conn):
        assert conn.execute("SELECT count(*) FROM products").fetchone()[0] == 2
        assert conn.execute("SELECT count(*) FROM orders").fetchone()[0] == 0
        conn.execute("INSERT INTO orders (sku, qty) VALUES ('widget', 1)")
        assert conn.execute("SELECT count(*) FROM orders").fetchone()[0] == 1
    """
)
TC_ENV = {"TESTCONTAINERS_RYUK_DISABLED": "true", "TC_HOST": "127.0.0.1", "TESTCONTAINERS_CONNECTION_MODE": "docker_host"}


def tests_using(fixture: str, connect: str) -> str:
    body = f"import psycopg\n{CHECK}\n"
    for i in range(TESTS):
        body += f"\ndef test_{i:02d}({fixture}):\n    with {connect} as conn:\n        check_clean(conn)\n"
    return body


def write(directory: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return directory


def omnitron_suite(directory: Path, offset: int) -> Path:
    migrate = "import os, psycopg\nwith psycopg.connect(os.environ['DATABASE_URL']) as conn:\n" + "".join(f"    conn.execute({s!r})\n" for s in [s.replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS") for s in SCHEMA[:1]] + ["INSERT INTO products VALUES ('widget', 250), ('gadget', 1200) ON CONFLICT DO NOTHING", SCHEMA[2].replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS")])
    eco = {"project": f"bench{offset}", "apps": [{"name": "bench"}], "infrastructure": {"services": {"db": {"preset": "postgres"}}}, "stacks": {"test": {"portOffsets": offset}}}
    return write(directory, {
        "pytest.ini": "[pytest]\n",
        "omnitron.config.py": f"from omnitron import define_ecosystem\necosystem = define_ecosystem({eco!r})\n",
        "apps/bench/config/default.json": '{"omnitron": {"database": true, "migrate": ["%s", "migrate.py"]}}' % sys.executable,
        "apps/bench/migrate.py": migrate,
        "tests/test_clean.py": tests_using("omnitron_database", "psycopg.connect(omnitron_database.url)"),
    })


def tc_suite(directory: Path, per_test: bool) -> Path:
    migrate = "def migrate(url):\n    with psycopg.connect(url) as conn:\n" + "".join(f"        conn.execute({s!r})\n" for s in SCHEMA)
    common = f"import itertools, psycopg, pytest\nfrom testcontainers.postgres import PostgresContainer\n\n{migrate}\n\ndef url_of(pg, db=None):\n    u = pg.get_connection_url(driver=None)\n    return u.rsplit('/', 1)[0] + '/' + db if db else u\n"
    if per_test:
        conftest = common + f"\n@pytest.fixture\ndef clean_url():\n    with PostgresContainer({IMAGE!r}, driver=None) as pg:\n        migrate(url_of(pg))\n        yield url_of(pg)\n"
    else:
        conftest = common + textwrap.dedent(
            f"""
            @pytest.fixture(scope="session")
            def server():
                with PostgresContainer({IMAGE!r}, driver=None) as pg:
                    yield pg

            counter = itertools.count()

            @pytest.fixture
            def clean_url(server):
                name = f"t{{next(counter)}}"
                with psycopg.connect(url_of(server), autocommit=True) as conn:
                    conn.execute(f"CREATE DATABASE {{name}}")
                migrate(url_of(server, name))
                yield url_of(server, name)
                with psycopg.connect(url_of(server), autocommit=True) as conn:
                    conn.execute(f"DROP DATABASE {{name}} WITH (FORCE)")
            """
        )
    return write(directory, {"pytest.ini": "[pytest]\n", "conftest.py": conftest, "test_clean.py": tests_using("clean_url", "psycopg.connect(clean_url)")})


def pgpl_suite(directory: Path, port: int) -> Path:
    load = "import psycopg\n\ndef load(host, port, user, dbname, password, **_):\n    with psycopg.connect(host=host, port=port, user=user, dbname=dbname, password=password) as conn:\n" + "".join(f"        conn.execute({s!r})\n" for s in SCHEMA)
    conftest = f"from pytest_postgresql import factories\nfrom schema import load\n\npostgresql_proc = factories.postgresql_proc(port={port}, load=[load])\npostgresql = factories.postgresql('postgresql_proc')\n"
    pg_ctl = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))), None) or shutil.which("pg_ctl")
    return write(directory, {
        "pytest.ini": f"[pytest]\npostgresql_exec = {pg_ctl}\n",
        "schema.py": load,
        "conftest.py": conftest,
        "test_clean.py": tests_using("postgresql", "postgresql"),
    })


def timed(cmd: list[str], cwd: Path, env: dict[str, str], user: str | None = None) -> float:
    if user is not None:
        cmd = ["runuser", "-u", user, "--", *cmd]
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=1800)
    seconds = time.perf_counter() - start
    if result.returncode != 0 or f"{TESTS} passed" not in result.stdout:
        raise SystemExit(f"{' '.join(cmd)} in {cwd} failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}")
    return seconds


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peers_python(given: str | None) -> str:
    if given:
        return given
    python = PEERS / "bin" / "python"
    if not python.exists():
        # as root, from the system's interpreter: the unprivileged user running pytest-postgresql must be able to run it
        base = "/usr/bin/python3" if os.geteuid() == 0 and Path("/usr/bin/python3").exists() else sys.executable
        subprocess.run([base, "-m", "venv", str(PEERS)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PEER_PACKAGES], check=True)
    return str(python)


def unprivileged() -> str | None:
    """The user a PostgreSQL started by pytest-postgresql runs as (``None``: this one, when it is not root)."""
    if os.geteuid() != 0:
        return None
    name = os.environ.get("OMNITRON_SERVICE_USER", "omnitron")
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True)
    return name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--peers-python", default=None)
    parser.add_argument("--only", default="omnitron,omnitron-kept,tc-session,tc-per-test,pytest-postgresql")
    args = parser.parse_args()
    wanted = args.only.split(",")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMNITRON_PROJECT", "PYTEST_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    peers = peers_python(args.peers_python) if any(w.startswith(("tc", "pytest")) for w in wanted) else None
    results: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="omnitron-bench-apptests-") as tmp:
        root = Path(tmp)
        os.chmod(root, 0o755)
        offset = 30000 + os.getpid() % 200 * 10
        suite = omnitron_suite(root / "omnitron", offset)
        pytest_cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"]
        try:
            for run in range(args.runs):
                if "omnitron" in wanted:
                    results.setdefault("omnitron (cold: up, migrate, 20 clones, down)", []).append(timed(pytest_cmd, suite, env))
                if "omnitron-kept" in wanted:
                    if run == 0:
                        timed([*pytest_cmd, "--omnitron-keep"], suite, env)  # the first run leaves it up
                    results.setdefault("omnitron (--omnitron-keep, stack already up)", []).append(timed([*pytest_cmd, "--omnitron-keep"], suite, env))
                peer_env = {**env, **TC_ENV}
                if "tc-session" in wanted:
                    results.setdefault("testcontainers (session container, database per test)", []).append(timed([peers, "-m", "pytest", "-q", "-p", "no:cacheprovider"], tc_suite(root / f"tcs{run}", False), peer_env))
                if "tc-per-test" in wanted:
                    results.setdefault("testcontainers (container per test)", []).append(timed([peers, "-m", "pytest", "-q", "-p", "no:cacheprovider"], tc_suite(root / f"tct{run}", True), peer_env))
                if "pytest-postgresql" in wanted:
                    directory = pgpl_suite(root / f"pgpl{run}", free_port())
                    user = unprivileged()
                    if user is not None:
                        subprocess.run(["chown", "-R", user, str(directory)], check=True)
                    results.setdefault("pytest-postgresql (postgresql_proc + postgresql)", []).append(timed([peers, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:cacheprovider"], directory, {**peer_env, "HOME": str(directory)}, user))
        finally:
            if "omnitron-kept" in wanted:
                subprocess.run([sys.executable, "-c", "from omnitron.cli import run; run()", "infra", "down", "--volumes", "--stack", "test"], cwd=suite, env=env, capture_output=True)
    report(results, args.runs)


def report(results: dict[str, list[float]], runs: int) -> None:
    print(f"{TESTS} tests, each with a clean database; wall time of the whole pytest run, median of {runs}")
    base = statistics.median(next(iter(results.values()))) if results else 1.0
    width = max(len(k) for k in results)
    for name, times in results.items():
        med = statistics.median(times)
        print(f"  {name.ljust(width)}  {med:7.2f} s   x{med / base:5.2f}   (runs: {', '.join(f'{t:.2f}' for t in times)})")
    print(f"ratios are to the first row; {os.cpu_count()} CPUs, python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
