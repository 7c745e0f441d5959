"""Cold start of PostgreSQL and Redis with the process provider, against the same binaries started by hand.

One run measures, each several times in interleaved rounds (median and best printed):

- postgres through the provider, template cache off (``initdb`` every time), and
  on (a copy of the cached template), each from ``ensure`` until ``SELECT 1``
  answers over TCP with the password;
- postgres by hand with the same binaries and options: ``initdb`` (password
  through stdin) + start + poll ``SELECT 1``; and copy of the same template +
  start + set the password over the socket + poll ``SELECT 1``;
- redis through the provider, and by hand (``redis-server -`` with the same
  config on stdin), until ``PING`` answers after ``AUTH``.

Then the ratios (targets: at most 1.2x the by-hand time; under 1 s for the
cached cold start), and the whole command: ``omnitron infra up --provider
process`` of Postgres + Redis from no data (template cached), as a fresh
process, so the wall time includes interpreter start.

Last the shop example (``examples/shop``: its Postgres with the apps' two
databases and ``pgcrypto``, its Redis; its S3 storage has no by-hand twin
here and is left out): ``omnitron infra up`` cold (new state and data
directories, template cache warm, with and without starting the daemon)
beside a shell script doing the same work by hand (:data:`HAND_SCRIPT`),
interleaved; wall and CPU medians and the ratio against the 1.3x target.
``--against OMNITRON`` adds another build (an older checkout's
``.venv/bin/omnitron``) to the same rounds. Needs the omnitron-provider-process,
omnitron-postgres and omnitron-redis packages, PostgreSQL/Redis binaries
(system or [embedded]), and ``psql``, ``pg_isready`` and ``redis-cli`` for
the by-hand side.

    python benchmarks/process_cold_start.py [--runs 5] [--binaries auto|system|embedded] [--dir /tmp] [--shop-only] [--against OMNITRON]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
from omnitron.hostports import free_port




def reachable_dir(prefix: str, parent: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    os.chmod(path, 0o755)
    return path


async def poll(check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except Exception:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError("service did not answer")
        await anyio.sleep(0.002)


def pg_select1(port: int, password: str) -> Callable[[], bool]:
    import psycopg

    def check() -> bool:
        with psycopg.connect(host="127.0.0.1", port=port, user="postgres", password=password, dbname="postgres", connect_timeout=2) as conn:
            return conn.execute("SELECT 1").fetchone() == (1,)

    return check


def redis_ping(port: int, password: str) -> Callable[[], bool]:
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    def check() -> bool:
        with redis.Redis(host="127.0.0.1", port=port, password=password, socket_timeout=2, retry=Retry(NoBackoff(), 0)) as client:
            return client.ping() is True

    return check


class Bench:
    def __init__(self, runs: int, parent: str) -> None:
        from omnitron.api import ProviderContext, StateStore
        from omnitron.testing import PluginManager, Project, render_runtime_spec
        from omnitron_provider_process import ProcessProvider

        self.runs = runs
        self.root = reachable_dir("omnitron-bench-", parent)
        self.cache = self.root / "cache"
        os.environ["OMNITRON_CACHE_DIR"] = str(self.cache)
        self.pg_port, self.redis_port = free_port(), free_port()
        (self.root / "omnitron.toml").write_text(
            'project = "bench"\n\n[infrastructure.services.db]\npreset = "postgres"\n'
            f"config = {{ port = {self.pg_port} }}\n\n[infrastructure.services.cache]\npreset = \"redis\"\n"
            f"config = {{ port = {self.redis_port} }}\n"
        )
        plugins = PluginManager()
        project = Project(self.root / "omnitron.toml", plugins)
        process_plan = project.plan(provider="process")
        self.secrets: dict[str, str] = {}
        self.specs = {}
        for name in ("db", "cache"):
            svc = process_plan.service(name)
            for key in svc.secrets.values():
                self.secrets.setdefault(key, secrets.token_urlsafe(24))
            self.specs[name] = render_runtime_spec(svc, plugins, self.secrets.__getitem__)
        self.pg_password = self.specs["db"].env["POSTGRES_PASSWORD"]
        self.redis_password = self.secrets[process_plan.service("cache").secrets["password"]]  # its config goes on stdin
        self.state = StateStore(project.state_dir)
        self.provider = ProcessProvider(
            ProviderContext(project="bench", stack="dev", project_dir=self.root, state_dir=project.stack_dir("dev"), state=self.state)
        )
        self.results: dict[str, list[float]] = {}

    async def measure(self, scenarios: dict[str, Callable[[], Awaitable[float]]]) -> None:
        """Run every scenario once per round, round after round, so they share whatever else loads the machine.

        Each starts from a quiet disk (``sync`` first), so none pays for writing back what the previous one left.
        """
        times: dict[str, list[float]] = {label: [] for label in scenarios}
        for _ in range(self.runs):
            for label, once in scenarios.items():
                os.sync()
                times[label].append(await once())
        for label, values in times.items():
            self.results[label] = values
            print(f"  {label:<38} median {statistics.median(values):.3f}s  best {min(values):.3f}s", flush=True)

    # -- through the provider ----------------------------------------------------

    async def provider_once(self, name: str, check: Callable[[], bool]) -> float:
        start = time.perf_counter()
        await self.provider.ensure(self.specs[name])
        await poll(check)
        elapsed = time.perf_counter() - start
        await self.provider.remove(name, volumes=True)
        return elapsed

    # -- by hand -------------------------------------------------------------------

    def _pg_setup(self) -> tuple[dict[str, Path], object, Path, Path]:
        from omnitron_postgres.process import PostgresRecipe
        from omnitron_provider_process.accounts import service_account
        from omnitron_provider_process.binaries import locate

        binaries = locate(PostgresRecipe(), "db").binaries
        account = service_account()
        data = self.root / "hand" / "pgdata"
        run = self.root / "hand" / "pgrun"
        return binaries, account, data, run

    def _fresh_dirs(self, account, *dirs: Path) -> None:
        for d in dirs:
            d.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(d.parent, 0o755)
            d.mkdir(mode=0o700)
            if account is not None:
                os.chown(d, account.uid, account.gid)

    def _start_postgres(self, binaries, account, data: Path, run: Path) -> subprocess.Popen:
        log = open(self.root / "hand" / "postgres.log", "ab")
        with log:
            return subprocess.Popen(
                [str(binaries["postgres"]), "-D", str(data), "-p", str(self.pg_port), "-c", "listen_addresses=127.0.0.1",
                 "-c", f"unix_socket_directories={run}"],
                stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True, cwd=data,
                user=account.uid if account else None, group=account.gid if account else None, extra_groups=[] if account else None,
            )

    async def _stop(self, proc: subprocess.Popen, sig: int, *dirs: Path) -> None:
        """Stop the server and delete its directories (as the provider's ``remove(volumes=True)`` does)."""
        os.killpg(proc.pid, sig)
        await anyio.to_thread.run_sync(proc.wait)
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)

    async def hand_pg_initdb_once(self) -> float:
        binaries, account, data, run = self._pg_setup()
        start = time.perf_counter()
        self._fresh_dirs(account, data, run)
        read, write = os.pipe()  # the password through a pipe the service account may reopen as /dev/stdin
        if account is not None:
            os.fchown(read, account.uid, account.gid)
        os.write(write, self.pg_password.encode())
        os.close(write)
        try:
            await anyio.run_process(
                [str(binaries["initdb"]), "-D", str(data), "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8", "--auth-local=trust",
                 "--auth-host=scram-sha-256", "--pwfile=/dev/stdin", "--no-sync", "--no-instructions"],
                stdin=read, cwd=data, user=account.uid if account else None,
                group=account.gid if account else None, extra_groups=[] if account else None,
            )
        finally:
            os.close(read)
        proc = self._start_postgres(binaries, account, data, run)
        await poll(pg_select1(self.pg_port, self.pg_password))
        elapsed = time.perf_counter() - start
        await self._stop(proc, signal.SIGINT, data, run)
        return elapsed

    async def hand_pg_copy_once(self) -> float:
        import psycopg
        from psycopg import sql

        binaries, account, data, run = self._pg_setup()
        template = next((self.cache / "pg-templates").glob("*/data"))
        start = time.perf_counter()
        self._fresh_dirs(account, run)
        result = await anyio.run_process(["cp", "-a", str(template), str(data)], check=False)
        if result.returncode:
            raise RuntimeError(result.stderr.decode())
        if account is not None:
            await anyio.run_process(["chown", "-R", f"{account.uid}:{account.gid}", str(data)])
        proc = self._start_postgres(binaries, account, data, run)

        def set_password() -> bool:
            with psycopg.connect(host=str(run), port=self.pg_port, user="postgres", dbname="postgres", autocommit=True) as conn:
                conn.execute(sql.SQL("ALTER ROLE postgres PASSWORD {}").format(sql.Literal(self.pg_password)))
            return True

        await poll(set_password)
        await poll(pg_select1(self.pg_port, self.pg_password))
        elapsed = time.perf_counter() - start
        await self._stop(proc, signal.SIGINT, data, run)
        return elapsed

    async def hand_redis_once(self) -> float:
        from omnitron_provider_process.binaries import locate
        from omnitron_redis.process import RedisRecipe

        binary = locate(RedisRecipe(), "cache").binaries["redis-server"]
        data = self.root / "hand" / "redisdata"
        config = f'port {self.redis_port}\nbind 127.0.0.1\ndir "{data}"\nrequirepass "{self.redis_password}"\n'
        start = time.perf_counter()
        self._fresh_dirs(None, data)
        with open(self.root / "hand" / "redis.log", "ab") as log:
            proc = subprocess.Popen([str(binary), "-"], stdin=subprocess.PIPE, stdout=log, stderr=log, start_new_session=True, cwd=data)
        assert proc.stdin is not None
        proc.stdin.write(config.encode())
        proc.stdin.close()
        await poll(redis_ping(self.redis_port, self.redis_password))
        elapsed = time.perf_counter() - start
        await self._stop(proc, signal.SIGTERM, data)
        return elapsed

    # -- the run ---------------------------------------------------------------------

    async def run(self) -> int:
        try:
            print(f"process provider cold start, {self.runs} runs each (binaries: {os.environ.get('OMNITRON_PROCESS_BINARIES', 'auto')}; in {self.root.parent})")
            await self.provider_once("db", pg_select1(self.pg_port, self.pg_password))  # writes the template

            async def no_cache() -> float:
                os.environ["OMNITRON_PROCESS_CACHE"] = "off"
                try:
                    return await self.provider_once("db", pg_select1(self.pg_port, self.pg_password))
                finally:
                    del os.environ["OMNITRON_PROCESS_CACHE"]

            await self.measure({
                "postgres provider, no template cache": no_cache,
                "postgres by hand, initdb": self.hand_pg_initdb_once,
                "postgres provider, cached template": lambda: self.provider_once("db", pg_select1(self.pg_port, self.pg_password)),
                "postgres by hand, copy of the template": self.hand_pg_copy_once,
                "redis provider": lambda: self.provider_once("cache", redis_ping(self.redis_port, self.redis_password)),
                "redis by hand": self.hand_redis_once,
            })
        finally:
            for name in ("db", "cache"):
                await self.provider.remove(name, volumes=True)
            self.state.close()
            _spare_refilled(self.cache)
            shutil.rmtree(self.root, ignore_errors=True)
        med = {k: statistics.median(v) for k, v in self.results.items()}
        rows = [
            ("postgres, no cache vs initdb by hand", med["postgres provider, no template cache"] / med["postgres by hand, initdb"]),
            ("postgres, cached vs copy by hand", med["postgres provider, cached template"] / med["postgres by hand, copy of the template"]),
            ("redis vs by hand", med["redis provider"] / med["redis by hand"]),
        ]
        print("ratios (provider / by hand, medians; target <= 1.20):")
        for label, ratio in rows:
            print(f"  {label:<38} {ratio:.2f}x {'ok' if ratio <= 1.2 else 'OVER TARGET'}")
        cached = med["postgres provider, cached template"]
        print(f"cached postgres cold start {cached:.3f}s (target < 1 s): {'ok' if cached < 1 else 'OVER TARGET'}")
        print(f"postgres + redis cold start, cached: {cached + med['redis provider']:.3f}s")
        return 0


def cli_cold_up(runs: int, where: str) -> list[float]:
    """Wall time of ``omnitron infra up --provider process`` from no data, interpreter start included."""
    exe = shutil.which("omnitron") or str(Path(sys.executable).parent / "omnitron")
    times: list[float] = []
    with tempfile.TemporaryDirectory(dir=where) as tmp:
        root = Path(tmp)
        os.chmod(root, 0o755)
        offset = 40000 + secrets.randbelow(200) * 10
        eco = {"project": "coldbench", "infrastructure": {"services": {"db": {"preset": "postgres"}, "cache": {"preset": "redis"}}}, "stacks": {"dev": {"portOffsets": offset}}}
        (root / "omnitron.config.py").write_text(f"from omnitron import define_ecosystem\necosystem = define_ecosystem({eco!r})\n")
        env = {**os.environ, "OMNITRON_PROJECT": str(root), "OMNITRON_SECRET_KEY": secrets.token_hex(32), "OMNITRON_CONFIG_DIR": str(root / ".cfg"),
               "OMNITRON_CACHE_DIR": str(root / "cache")}  # its own, deleted with it
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: bytecode cached
        def omnitron(*args: str) -> float:
            start = time.perf_counter()
            subprocess.run([exe, *args], env=env, check=True, capture_output=True)
            return time.perf_counter() - start
        omnitron("infra", "up", "--provider", "process")  # warms the template cache and the bytecode cache
        omnitron("infra", "down", "--volumes")
        for _ in range(runs):
            times.append(omnitron("infra", "up", "--provider", "process"))
            omnitron("infra", "down", "--volumes")
        _spare_refilled(root / "cache")
    return times


# -- the shop example, whole command against the same work by hand -------------------------------------

SHOP = Path(__file__).resolve().parent.parent / "examples" / "shop"
SHOP_TARGET = 1.3
HAND = "by hand (sh: mv, postgres, redis, psql)"

HAND_SCRIPT = r"""
set -eu
# the prepared data directory (a copy of the cached template made beforehand) moved into place
mv "$PREPARED" "$DATA"
postgres -D "$DATA" -p "$PGPORT" -c listen_addresses=127.0.0.1 -c unix_socket_directories="$RUN" \
    -c unix_socket_permissions=0700 </dev/null >>"$LOGS/postgres.log" 2>&1 &
echo $! > "$LOGS/postgres.pid"
printf '%s' "$REDIS_CONF" | redis-server - >>"$LOGS/redis.log" 2>&1 &
echo $! > "$LOGS/redis.pid"
until pg_isready -q -h "$RUN" -p "$PGPORT"; do sleep 0.002; done
psql -X -q -v ON_ERROR_STOP=1 -h "$RUN" -p "$PGPORT" -U postgres -d postgres >/dev/null <<SQL
SET synchronous_commit TO off;
ALTER ROLE postgres WITH LOGIN PASSWORD '$PGPASSWORD';
$EXTENSIONS
SQL
for db in $DATABASES; do
    psql -X -q -v ON_ERROR_STOP=1 -h "$RUN" -p "$PGPORT" -U postgres -d postgres -c "CREATE DATABASE $db" >/dev/null
    printf '%s\n' "$EXTENSIONS" | psql -X -q -v ON_ERROR_STOP=1 -h "$RUN" -p "$PGPORT" -U postgres -d "$db" >/dev/null
done
test "$(psql -X -At -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres -c 'SELECT 1')" = 1
until [ "$(redis-cli --no-auth-warning -p "$REDISPORT" ping 2>/dev/null)" = PONG ]; do sleep 0.002; done
"""
"""What a person types for the same result as ``infra up`` of the shop's Postgres and Redis: the data directory
prepared from the same template, both servers started at once, the password set over the socket, the apps'
databases with the declared extensions, then ``SELECT 1`` over TCP with the password and an authenticated
``PING``. Passwords travel in the environment (``PGPASSWORD``, ``REDISCLI_AUTH``), as ``omnitron`` keeps them
off command lines too."""


def shop_project(where: Path) -> tuple[Path, dict]:
    """A copy of ``examples/shop`` with its Postgres and Redis only (S3 has no by-hand twin here), ports moved."""
    ns: dict = {}
    exec(compile((SHOP / "omnitron.config.py").read_text(), str(SHOP / "omnitron.config.py"), "exec"), ns)
    eco = json.loads(json.dumps(ns["ecosystem"]))
    services = eco["infrastructure"]["services"]
    kept = {name: svc for name, svc in services.items() if svc.get("preset") in ("postgres", "redis")}
    eco["infrastructure"]["services"] = kept
    eco["stacks"] = {"dev": {"type": "local", "portOffsets": 15000 + secrets.randbelow(300) * 10}}
    root = where / "shop"
    shutil.copytree(SHOP / "apps", root / "apps")
    for config in (root / "apps").glob("*/config/default.json"):
        app = json.loads(config.read_text())
        for key in ("s3", "storage"):
            app.get("omnitron", {}).pop(key, None)
        config.write_text(json.dumps(app, indent=2))
    (root / "omnitron.config.py").write_text(f"from omnitron import define_ecosystem\n\necosystem = define_ecosystem({eco!r})\n")
    os.chmod(root, 0o755)
    return root, eco


def _cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _spare_refilled(cache: Path) -> None:
    """Wait for the background copy of the template's spare, so deleting the cache does not race with it."""
    for template in (cache / "pg-templates").glob("*/data"):
        try:
            _wait_for(template.parent / "spare")
        except TimeoutError:
            pass


def _wait_for(path: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} did not appear")
        time.sleep(0.01)


def shop_cold_up(runs: int, where: str, against: str | None = None) -> int:
    """``omnitron infra up --provider process`` of the shop's Postgres and Redis, cold (new state and data
    directories, template cache warm), as a fresh process, against :data:`HAND_SCRIPT` doing the same work;
    interleaved, medians of wall time and of CPU time (user+sys of the command and what it waited for).
    ``against``: another ``omnitron`` executable (an older build) measured in the same rounds."""
    from omnitron_postgres.preset import database_name
    from omnitron_postgres.process import PostgresRecipe
    from omnitron_provider_process.accounts import service_account
    from omnitron_provider_process.binaries import locate
    from omnitron_redis.config import RedisConfig, server_conf

    exe = shutil.which("omnitron") or str(Path(sys.executable).parent / "omnitron")
    tmp = reachable_dir("omnitron-shop-", where)
    env = {**os.environ, "OMNITRON_PROJECT": str(tmp / "shop"), "OMNITRON_SECRET_KEY": secrets.token_hex(32), "OMNITRON_CONFIG_DIR": str(tmp / "cfg"),
           "OMNITRON_CACHE_DIR": str(tmp / "cache")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: bytecode cached
    try:
        root, eco = shop_project(tmp)
        db_name, db = next((n, s) for n, s in eco["infrastructure"]["services"].items() if s["preset"] == "postgres")
        cache_name, cache = next((n, s) for n, s in eco["infrastructure"]["services"].items() if s["preset"] == "redis")
        apps = [json.loads(p.read_text()) for p in sorted((root / "apps").glob("*/config/default.json"))]
        databases = [database_name(a["name"]) for a in apps if a.get("omnitron", {}).get("database")]
        extensions = list((db.get("config") or {}).get("extensions") or [])

        def omnitron(*args: str, program: str = exe) -> tuple[float, float]:
            cpu, start = _cpu_children(), time.perf_counter()
            done = subprocess.run([program, *args], env=env, check=False, capture_output=True)
            elapsed = time.perf_counter() - start, _cpu_children() - cpu
            if done.returncode:
                raise RuntimeError(f"{program} {' '.join(args)} exited {done.returncode}: {done.stderr.decode(errors='replace').strip()[-2000:]}")
            return elapsed

        omnitron("infra", "up", "--provider", "process", "--no-daemon")  # the template cache and the bytecode cache
        omnitron("infra", "down", "--volumes")
        template = next((tmp / "cache" / "pg-templates").glob("*/data"))
        spare = template.parent / "spare"

        def omnitron_cold(*extra: str, program: str = exe) -> tuple[float, float]:
            shutil.rmtree(root / ".omnitron", ignore_errors=True)  # no state: secrets, records, allocations all new
            _wait_for(spare)  # the ready copy a cold start takes (refilled in the background after each start)
            os.sync()
            result = omnitron("infra", "up", "--provider", "process", *extra, program=program)
            omnitron("infra", "down", "--volumes")
            if "--no-daemon" not in extra:
                omnitron("daemon", "stop")
            return result

        account = service_account()
        binaries = locate(PostgresRecipe(), db_name).binaries
        hand = tmp / "hand"
        redis_conf = server_conf(RedisConfig.model_validate(cache.get("config") or {}), password=None)

        def by_hand() -> tuple[float, float]:
            shutil.rmtree(hand, ignore_errors=True)
            for d in (hand, hand / "run", hand / "redis", hand / "logs"):
                d.mkdir(mode=0o755 if d == hand else 0o700)
                if account is not None:
                    os.chown(d, account.uid, account.gid)
            subprocess.run(["cp", "-a", str(template), str(hand / "prepared")], check=True)
            if account is not None:
                subprocess.run(["chown", "-R", f"{account.uid}:{account.gid}", str(hand / "prepared")], check=True)
            pg_port, redis_port = free_port(), free_port()
            pg_password, redis_password = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
            conf = f'port {redis_port}\nbind 127.0.0.1\ndir "{hand / "redis"}"\nrequirepass "{redis_password}"\n{redis_conf}'
            script_env = {
                "PATH": f"{binaries['postgres'].parent}:/usr/bin:/bin", "LANG": "C.UTF-8", "PREPARED": str(hand / "prepared"),
                "DATA": str(hand / "data"), "RUN": str(hand / "run"), "LOGS": str(hand / "logs"), "PGPORT": str(pg_port),
                "REDISPORT": str(redis_port), "PGPASSWORD": pg_password, "REDISCLI_AUTH": redis_password, "REDIS_CONF": conf,
                "DATABASES": " ".join(databases), "EXTENSIONS": "".join(f"CREATE EXTENSION IF NOT EXISTS {e};\n" for e in extensions),
            }
            os.sync()
            cpu, start = _cpu_children(), time.perf_counter()
            subprocess.run(
                ["sh", "-c", HAND_SCRIPT], env=script_env, cwd=hand, check=True, stdin=subprocess.DEVNULL,
                user=account.uid if account else None, group=account.gid if account else None, extra_groups=[] if account else None,
            )
            result = time.perf_counter() - start, _cpu_children() - cpu
            for name, sig in (("postgres", signal.SIGINT), ("redis", signal.SIGTERM)):
                pid = int((hand / "logs" / f"{name}.pid").read_text())
                os.kill(pid, sig)
                while Path(f"/proc/{pid}").exists() and not Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z"):
                    time.sleep(0.005)
            return result

        scenarios = {
            "omnitron infra up --no-daemon": lambda: omnitron_cold("--no-daemon"),
            "omnitron infra up (daemon started)": omnitron_cold,
        }
        if against:
            scenarios[f"{against} infra up --no-daemon"] = lambda: omnitron_cold("--no-daemon", program=against)
        scenarios[HAND] = by_hand
        wall: dict[str, list[float]] = {k: [] for k in scenarios}
        cpu: dict[str, list[float]] = {k: [] for k in scenarios}
        for _ in range(runs):
            for label, once in scenarios.items():
                w, c = once()
                wall[label].append(w)
                cpu[label].append(c)
    finally:
        subprocess.run([exe, "daemon", "stop"], env=env, capture_output=True, check=False)
        subprocess.run([exe, "infra", "down", "--volumes"], env=env, capture_output=True, check=False)
        _spare_refilled(tmp / "cache")
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"shop ({db_name}: postgres, databases {', '.join(databases)}, extensions {', '.join(extensions) or 'none'}; {cache_name}: redis), "
          f"cold up with a warm template cache, {runs} interleaved runs:")
    for label in scenarios:
        print(f"  {label:<42} wall median {statistics.median(wall[label]):.3f}s (range {min(wall[label]):.3f}-{max(wall[label]):.3f})"
              f"  cpu median {statistics.median(cpu[label]):.3f}s")
    hand_wall, hand_cpu = statistics.median(wall[HAND]), statistics.median(cpu[HAND])
    for label in [k for k in scenarios if k != HAND]:
        ratio = statistics.median(wall[label]) / hand_wall
        print(f"  ratio {label} / by hand: wall {ratio:.2f}x (target <= {SHOP_TARGET:.1f}x: {'ok' if ratio <= SHOP_TARGET else 'OVER TARGET'}), "
              f"cpu {statistics.median(cpu[label]) / hand_cpu:.2f}x")
    print(f"  load: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--binaries", choices=("auto", "system", "embedded"), default="auto")
    parser.add_argument("--dir", default="/tmp", help="where the project, its data and the template cache go (/dev/shm: no disk noise)")
    parser.add_argument("--shop-only", action="store_true", help="only the whole `infra up` of the shop beside its by-hand equivalent")
    parser.add_argument("--against", metavar="OMNITRON", help="another omnitron executable (an older build) measured in the same rounds of the shop")
    args = parser.parse_args()
    os.environ["OMNITRON_PLUGINS"] = "postgres,redis,process"
    if args.binaries != "auto":
        os.environ["OMNITRON_PROCESS_BINARIES"] = args.binaries
    code = 0
    if not args.shop_only:
        code = anyio.run(Bench(args.runs, args.dir).run)
        cli = cli_cold_up(args.runs, args.dir)
        median = statistics.median(cli)
        print(f"omnitron infra up --provider process, cold (Postgres + Redis, cached template), whole command: median {median:.3f}s best {min(cli):.3f}s (target < 1 s): {'ok' if median < 1 else 'OVER TARGET'}")
    return shop_cold_up(args.runs, args.dir, args.against) or code


if __name__ == "__main__":
    sys.exit(main())
