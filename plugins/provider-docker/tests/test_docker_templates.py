"""Data volumes seeded from a cached, initialised template: a real engine, the local Postgres test image.

Each module run makes its own copy of the Postgres image (same content, a new
image ID and a unique tag), so its templates are its own: found and removed
by the ``omnitron.template.image`` label, never touching anyone else's. What
is asserted is behaviour (which start initialised the data, which password
works, what exists), never timing.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from docker_testlib import POSTGRES_IMAGE, docker_cli, plugins, remove_project
from omnitron.api import DataTemplate, free_port, hookimpl
from omnitron.testing import PluginManager, Project, backend_for, up
from omnitron_postgres.data_template import DATA_TEMPLATE, refuse
from omnitron_postgres.preset import PostgresPreset

from omnitron_provider_docker import templates, volume_fill

pytestmark = [pytest.mark.anyio, pytest.mark.docker]

INITIALISED = "PostgreSQL init process complete"
SKIPPED = "Skipping initialization"
SEEDED = "from the cached template"


def new_image_id(ref: str) -> str:
    """Point ``ref`` at a fresh image with the content of the Postgres test image (a new image ID)."""
    container = docker_cli("create", POSTGRES_IMAGE).strip()
    try:
        docker_cli("commit", "--change", f"LABEL omnitron.test.copy={uuid.uuid4().hex}", container, ref)
    finally:
        docker_cli("rm", "-f", container)
    return docker_cli("image", "inspect", "-f", "{{.Id}}", ref).strip()


def templates_of(ref: str, what: str = "Labels") -> list[dict[str, str]]:
    """Labels (or another part of the config) of the template images made from ``ref``."""
    out = docker_cli("image", "ls", "--no-trunc", "--filter", f"label={templates.LABEL_TEMPLATE_IMAGE}={ref}", "--format", "{{.ID}}")
    return [json.loads(docker_cli("image", "inspect", "-f", f"{{{{json .Config.{what}}}}}", line)) for line in out.split() if line]


@pytest.fixture(scope="module")
def image() -> Iterator[str]:
    ref = f"omnitron-test/postgres-template:{uuid.uuid4().hex[:10]}"
    new_image_id(ref)
    try:
        yield ref
    finally:
        ids = docker_cli("image", "ls", "-q", "--no-trunc", "--filter", f"label={templates.LABEL_TEMPLATE_IMAGE}={ref}").split()
        for template in ids:
            docker_cli("volume", "rm", "-f", volume_fill.spare_volume_name(template), check=False)
        if ids:
            docker_cli("image", "rm", "-f", *ids, check=False)
        docker_cli("image", "rm", "-f", ref, check=False)


@pytest.fixture(autouse=True)
def isolated(omnitron_isolated: Path, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    monkeypatch.delenv(templates.SWITCH, raising=False)
    monkeypatch.setenv("OMNITRON_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))  # the templates' archives of this test


def template_id(ref: str) -> str:
    (found,) = docker_cli("image", "ls", "-q", "--no-trunc", "--filter", f"label={templates.LABEL_TEMPLATE_IMAGE}={ref}").split()
    return found


def archives() -> list[str]:
    """The files of the templates' archives in this test's cache."""
    root = Path(os.environ["OMNITRON_CACHE_DIR"]) / templates.ARCHIVES
    return sorted(path.name for path in root.iterdir() if path.name.endswith(".tar")) if root.is_dir() else []


def ready_copy(ref: str) -> Path | None:
    """The ready copy of the template of ``ref`` (in the directory of its volume), when there is one."""
    name = volume_fill.spare_volume_name(template_id(ref))
    mountpoint = docker_cli("volume", "inspect", "-f", "{{.Mountpoint}}", name, check=False).strip()
    ready = Path(mountpoint) / volume_fill.READY if mountpoint else None
    return ready if ready is not None and ready.is_dir() else None


def wait_for(check, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not within a minute"
        time.sleep(0.05)


@dataclass
class Stack:
    """A throwaway project with one Postgres service on the docker provider."""

    root: Path
    image: str
    pm: PluginManager
    config: str = ""
    apps: dict[str, dict[str, object]] = field(default_factory=dict)
    name: str = field(default_factory=lambda: f"t{uuid.uuid4().hex[:10]}")
    events: list[tuple[str, str, str]] = field(default_factory=list)
    preset: str = "postgres"

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        extra = f", {self.config}" if self.config else ""
        body = f'project = "{self.name}"\n[infrastructure.services.db]\npreset = "{self.preset}"\nconfig = {{image = "{self.image}", port = {self.port}{extra}}}\n'
        for app, needs in self.apps.items():
            body += f'[[apps]]\nname = "{app}"\n'
            (self.root / "apps" / app / "config").mkdir(parents=True)
            (self.root / "apps" / app / "config" / "default.json").write_text(json.dumps({"omnitron": needs}))
        (self.root / "omnitron.toml").write_text(body)
        self.project = Project(self.root / "omnitron.toml", plugins=self.pm)

    async def up(self) -> None:
        result = await up(self.project, self.project.plan(provider="docker"), progress=lambda s, p, d: self.events.append((s, p, d)))
        assert result.ok, result.error_message()

    @property
    def password(self) -> str:
        value = backend_for(self.project).get(f"{self.name}/dev/db/password")
        assert value
        return value

    def seeded(self) -> bool:
        return any(SEEDED in detail for _, _, detail in self.events)

    def connect(self, password: str | None = None, dbname: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", password=password or self.password, dbname=dbname, connect_timeout=5, autocommit=True)


@pytest.fixture
def stacks(tmp_path: Path, image: str) -> Iterator[list[Stack]]:
    made: list[Stack] = []
    yield made
    for stack in made:
        remove_project(stack.name)


def make(stacks: list[Stack], tmp_path: Path, image: str, pm: PluginManager | None = None, **options: object) -> Stack:
    stack = Stack(root=tmp_path / f"p{len(stacks)}", image=image, pm=pm or plugins(), **options)  # type: ignore[arg-type]
    stacks.append(stack)
    return stack


def docker_logs(stack: Stack) -> str:
    import subprocess

    done = subprocess.run(["docker", "logs", f"omnitron-{stack.name}-dev-db"], capture_output=True, text=True, timeout=60)
    return done.stdout + done.stderr


async def test_the_first_project_builds_the_template_and_the_next_starts_from_it(stacks: list[Stack], tmp_path: Path, image: str) -> None:
    first = make(stacks, tmp_path, image)
    await first.up()
    assert INITIALISED in docker_logs(first) and not first.seeded()
    image_id = docker_cli("image", "inspect", "-f", "{{.Id}}", image).strip()
    built = templates_of(image)
    assert [t[templates.LABEL_TEMPLATE_SOURCE] for t in built] == [image_id]
    (env,) = templates_of(image, "Env")
    assert "POSTGRES_PASSWORD=" in env  # the template's random password is not kept anywhere

    second = make(stacks, tmp_path, image, config='databases = {reports = {extensions = ["hstore"]}}, extensions = ["pgcrypto"]', apps={"shop": {"database": True}})
    await second.up()
    logs = docker_logs(second)
    assert second.seeded() and SKIPPED in logs and INITIALISED not in logs
    assert second.password != first.password
    with second.connect() as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
        names = {row[0] for row in conn.execute("SELECT datname FROM pg_database")}
    assert {"reports", "shop"} <= names
    for dbname, wanted in (("reports", {"hstore", "pgcrypto"}), ("shop", {"pgcrypto"}), ("postgres", {"pgcrypto"})):
        with second.connect(dbname=dbname) as conn:
            assert wanted <= {row[0] for row in conn.execute("SELECT extname FROM pg_extension")}
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        second.connect(password=first.password)
    assert len(templates_of(image)) == 1  # used, not built again


async def test_an_existing_volume_is_never_seeded_again(stacks: list[Stack], tmp_path: Path, image: str) -> None:
    make(stacks, tmp_path, image)
    await stacks[0].up()  # the template exists after this (built here or by an earlier test)
    stack = make(stacks, tmp_path, image)
    await stack.up()
    with stack.connect() as conn:
        conn.execute("CREATE TABLE kept (note text)")
        conn.execute("INSERT INTO kept VALUES ('written by the app')")
    docker_cli("rm", "-f", f"omnitron-{stack.name}-dev-db")  # the container goes, its named volume stays
    stack.events.clear()
    await stack.up()
    assert not stack.seeded()
    with stack.connect() as conn:
        assert conn.execute("SELECT note FROM kept").fetchall() == [("written by the app",)]


async def test_off_switch_leaves_initialisation_to_the_image(stacks: list[Stack], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ref = f"omnitron-test/postgres-template:{uuid.uuid4().hex[:10]}"
    new_image_id(ref)
    try:
        monkeypatch.setenv(templates.SWITCH, "off")
        stack = make(stacks, tmp_path, ref)
        await stack.up()
        assert INITIALISED in docker_logs(stack) and not stack.seeded()
        assert templates_of(ref) == []  # nothing built either
        with stack.connect() as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        docker_cli("image", "rm", "-f", ref, check=False)


async def test_a_changed_image_gets_a_new_template_and_the_old_one_goes(stacks: list[Stack], tmp_path: Path) -> None:
    ref = f"omnitron-test/postgres-template:{uuid.uuid4().hex[:10]}"
    made = [old_id := new_image_id(ref)]
    try:
        await make(stacks, tmp_path, ref).up()
        assert [t[templates.LABEL_TEMPLATE_SOURCE] for t in templates_of(ref)] == [old_id]
        made.append(new_id := new_image_id(ref))  # same tag, rebuilt
        changed = make(stacks, tmp_path, ref)
        await changed.up()
        assert INITIALISED in docker_logs(changed) and not changed.seeded()  # the old template is not used
        assert [t[templates.LABEL_TEMPLATE_SOURCE] for t in templates_of(ref)] == [new_id]
        again = make(stacks, tmp_path, ref)
        await again.up()
        assert again.seeded() and SKIPPED in docker_logs(again)
        assert archives() == [seeded_from := f"{template_id(ref).removeprefix('sha256:')}.tar"]
        made.append(newer_id := new_image_id(ref))  # rebuilt again: the template seeded from goes, and its archive with it
        await make(stacks, tmp_path, ref).up()
        assert [t[templates.LABEL_TEMPLATE_SOURCE] for t in templates_of(ref)] == [newer_id]
        assert archives() == [f"{template_id(ref).removeprefix('sha256:')}.tar"] and seeded_from not in archives()
    finally:
        ids = docker_cli("image", "ls", "-q", "--no-trunc", "--filter", f"label={templates.LABEL_TEMPLATE_IMAGE}={ref}").split()
        if ids:
            docker_cli("image", "rm", "-f", *ids, check=False)
        docker_cli("image", "rm", "-f", ref, *made, check=False)


async def _cannot_from_here(resolve, env, timeout) -> None:
    raise OSError("no socket here")


class _RefusingPreset(PostgresPreset):
    """Postgres whose template cannot be taken over: its credentials command fails (and, with ``FROM_HERE``, so
    does setting them from this side first)."""

    name = "pg-refusing"
    FROM_HERE: object = None

    def data_template(self) -> DataTemplate:
        import dataclasses

        return dataclasses.replace(DATA_TEMPLATE, adopt=("sh", "-c", "echo cannot >&2; exit 7"), adopt_from_host=self.FROM_HERE)


class _FromHereFailsPreset(PostgresPreset):
    """Postgres whose credentials cannot be set from this side: the command in the container does it."""

    name = "pg-in-container"

    def data_template(self) -> DataTemplate:
        import dataclasses

        return dataclasses.replace(DATA_TEMPLATE, adopt_from_host=_cannot_from_here)


class _RefusingPlugin:
    @hookimpl
    def omnitron_add_presets(self):
        return [_RefusingPreset, _FromHereFailsPreset]


@pytest.fixture
def refusing_plugins() -> PluginManager:
    pm = plugins()
    pm.register(_RefusingPlugin(), name="refusing")
    return pm


@pytest.mark.parametrize("from_here", [None, _cannot_from_here], ids=["in-the-container", "from-here-then-in-the-container"])
async def test_a_seeded_volume_that_cannot_be_taken_over_is_initialised_as_usual(
    stacks: list[Stack], tmp_path: Path, image: str, refusing_plugins: PluginManager, monkeypatch: pytest.MonkeyPatch, from_here: object
) -> None:
    await make(stacks, tmp_path, image).up()  # the template exists (same image and settings)
    monkeypatch.setattr(_RefusingPreset, "FROM_HERE", from_here)
    stack = make(stacks, tmp_path, image, pm=refusing_plugins, preset="pg-refusing")
    await stack.up()
    assert stack.seeded()
    assert any("could not be taken over (exit code 7: cannot)" in detail for _, _, detail in stack.events)
    assert INITIALISED in docker_logs(stack)
    with stack.connect() as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


async def execs_during(action) -> list[str]:
    """IDs of the containers processes were started in (``exec_create`` events) while ``await action()`` ran."""
    import subprocess

    since = docker_cli("system", "info", "-f", "{{.SystemTime}}").strip()
    await action()
    until = docker_cli("system", "info", "-f", "{{.SystemTime}}").strip()
    done = subprocess.run(["docker", "events", "--since", since, "--until", until, "--filter", "event=exec_create", "--format", "{{.Actor.ID}}"], capture_output=True, text=True, timeout=60)
    return done.stdout.split()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root reaches into a container's root directory")
async def test_beside_the_engine_as_root_the_credentials_are_set_from_here_with_no_process_in_the_container(stacks: list[Stack], tmp_path: Path, image: str) -> None:
    first = make(stacks, tmp_path, image)
    await first.up()  # the template exists
    stack = make(stacks, tmp_path, image)
    started = await execs_during(stack.up)
    container = docker_cli("inspect", "-f", "{{.Id}}", f"omnitron-{stack.name}-dev-db").strip()
    assert stack.seeded() and SKIPPED in docker_logs(stack)
    assert container not in started  # no sh, no psql: the password went over the socket from this side
    with stack.connect() as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        stack.connect(password=first.password)


async def test_when_the_credentials_cannot_be_set_from_here_the_command_in_the_container_does_it(stacks: list[Stack], tmp_path: Path, image: str, refusing_plugins: PluginManager) -> None:
    await make(stacks, tmp_path, image).up()
    stack = make(stacks, tmp_path, image, pm=refusing_plugins, preset="pg-in-container")
    await stack.up()
    assert stack.seeded() and SKIPPED in docker_logs(stack) and INITIALISED not in docker_logs(stack)
    with stack.connect() as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def owner_of_data(stack: Stack) -> str:
    return docker_cli("exec", f"omnitron-{stack.name}-dev-db", "stat", "-c", "%U:%G %a", "/var/lib/postgresql/data").strip()


def owner_in_template(image: str) -> str:
    """Owner, group and mode of the data directory as the image's initialisation left it in the template."""
    return docker_cli("run", "--rm", "--network", "none", "--entrypoint", "stat", template_id(image), "-c", "%U:%G %a", templates.TEMPLATE_ROOT).strip()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root writes into the engine's volume directories")
async def test_beside_the_engine_as_root_the_archive_is_unpacked_straight_into_the_new_volume(stacks: list[Stack], tmp_path: Path, image: str, monkeypatch: pytest.MonkeyPatch) -> None:
    await make(stacks, tmp_path, image).up()  # the template exists

    def no_engine_copy(*args, **kw):
        raise AssertionError("the engine was asked to copy the archive in")

    monkeypatch.setattr(templates, "_put_archive", no_engine_copy)
    monkeypatch.setattr(volume_fill, "_take_spare", lambda *args: False)  # no ready copy: the archive itself is unpacked
    stack = make(stacks, tmp_path, image)
    await stack.up()
    assert any("(unpacked; initialisation skipped)" in detail for _, _, detail in stack.events)
    assert SKIPPED in docker_logs(stack) and owner_of_data(stack) == owner_in_template(image)
    with stack.connect() as conn:
        conn.execute("CREATE TABLE t (n int)")
        conn.execute("INSERT INTO t SELECT generate_series(1, 1000)")
        assert conn.execute("SELECT count(*) FROM t").fetchone() == (1000,)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root writes into the engine's volume directories")
async def test_the_next_volume_takes_the_ready_copy_unpacked_in_the_background_and_another_is_made(stacks: list[Stack], tmp_path: Path, image: str) -> None:
    await make(stacks, tmp_path, image).up()
    await make(stacks, tmp_path, image).up()  # seeded: a ready copy is unpacked after it, in the background
    wait_for(lambda: ready_copy(image) is not None)
    stack = make(stacks, tmp_path, image)
    await stack.up()
    assert any("(moved; initialisation skipped)" in detail for _, _, detail in stack.events), stack.events
    assert SKIPPED in docker_logs(stack) and owner_of_data(stack) == owner_in_template(image)
    with stack.connect() as conn:
        conn.execute("CREATE TABLE t (n int)")
        conn.execute("INSERT INTO t SELECT generate_series(1, 1000)")
        assert conn.execute("SELECT count(*) FROM t").fetchone() == (1000,)
    again = make(stacks, tmp_path, image)
    wait_for(lambda: ready_copy(image) is not None)  # made again
    await again.up()
    assert again.seeded() and again.password != stack.password
    with again.connect() as conn:
        assert conn.execute("SELECT count(*) FROM pg_class WHERE relname = 't'").fetchone() == (0,)  # a copy of the template, not of the other volume


async def test_the_ready_copies_of_templates_that_are_gone_are_removed(stacks: list[Stack], tmp_path: Path) -> None:
    ref = f"omnitron-test/postgres-template:{uuid.uuid4().hex[:10]}"
    made = [new_image_id(ref)]
    try:
        await make(stacks, tmp_path, ref).up()
        await make(stacks, tmp_path, ref).up()  # seeded: its ready copy is made
        old = volume_fill.spare_volume_name(template_id(ref))
        if os.geteuid() == 0:
            wait_for(lambda: ready_copy(ref) is not None)
        made.append(new_image_id(ref))  # rebuilt: a new template, the old one goes, and its ready copy with it
        await make(stacks, tmp_path, ref).up()
        assert docker_cli("volume", "ls", "-q", "--filter", f"name={old}").strip() == ""
    finally:
        ids = docker_cli("image", "ls", "-q", "--no-trunc", "--filter", f"label={templates.LABEL_TEMPLATE_IMAGE}={ref}").split()
        for template in ids:
            docker_cli("volume", "rm", "-f", volume_fill.spare_volume_name(template), check=False)
        docker_cli("image", "rm", "-f", *ids, ref, *made, check=False)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root writes into the engine's volume directories")
async def test_a_volume_directory_the_engine_does_not_see_is_left_as_found_and_the_engine_copies_instead(
    stacks: list[Stack], tmp_path: Path, image: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make(stacks, tmp_path, image).up()  # the template exists
    monkeypatch.setattr(volume_fill, "_engine_sees", lambda *args: False)  # as if the directory were another than the engine's
    stack = make(stacks, tmp_path, image)
    await stack.up()
    assert any("(sent; initialisation skipped)" in detail for _, _, detail in stack.events)
    assert SKIPPED in docker_logs(stack) and owner_of_data(stack) == owner_in_template(image)
    with stack.connect() as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_only_an_empty_local_volume_directory_owned_by_root_is_written_into(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    answers: dict[str, object] = {}
    monkeypatch.setattr(volume_fill, "request", lambda sock, method, url, **kw: answers)
    empty = tmp_path / "empty"
    empty.mkdir()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "PG_VERSION").write_text("15\n")
    (tmp_path / "link").symlink_to(empty)
    root = os.geteuid() == 0
    for mountpoint, driver, options, wanted in (
        (empty, "local", {}, empty if root else None),
        (tmp_path / "full", "local", {}, None),  # holds data: never written into
        (tmp_path / "link", "local", {}, None),
        (tmp_path / "missing", "local", {}, None),
        (empty, "local", {"type": "nfs", "o": "addr=10.0.0.1"}, None),  # the local driver mounting something else
        (empty, "rexray", {}, None),
    ):
        answers.clear()
        answers.update({"Driver": driver, "Mountpoint": str(mountpoint), "Options": options})
        assert volume_fill.volume_directory(Path("/nowhere"), "v") == wanted, (mountpoint, driver, options)
    if root:
        os.chown(empty, 1000, 1000)  # as an engine that remaps user IDs makes them
        answers.update({"Driver": "local", "Mountpoint": str(empty), "Options": {}})
        assert volume_fill.volume_directory(Path("/nowhere"), "v") is None


async def test_the_data_is_kept_as_one_archive_that_later_volumes_are_filled_from(stacks: list[Stack], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ref = f"omnitron-test/postgres-template:{uuid.uuid4().hex[:10]}"
    new_image_id(ref)
    try:
        await make(stacks, tmp_path, ref).up()  # builds the template, and saves its archive
        assert archives() == [f"{template_id(ref).removeprefix('sha256:')}.tar"]

        def no_container(*args, **kw):
            raise AssertionError("the template's data was read from a container again")

        monkeypatch.setattr(templates, "save_archive", no_container)
        for _ in range(2):
            seeded = make(stacks, tmp_path, ref)
            await seeded.up()
            assert seeded.seeded() and SKIPPED in docker_logs(seeded)
            with seeded.connect() as conn:
                assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        ids = docker_cli("image", "ls", "-q", "--no-trunc", "--filter", f"label={templates.LABEL_TEMPLATE_IMAGE}={ref}").split()
        docker_cli("image", "rm", "-f", *ids, ref, check=False)


def files_in_data(stack: Stack, pattern: str) -> int:
    found = docker_cli("exec", f"omnitron-{stack.name}-dev-db", "find", "/var/lib/postgresql/data", "-name", pattern)
    return len(found.split())


async def test_the_maps_the_server_makes_again_are_left_out_of_the_copy(stacks: list[Stack], tmp_path: Path, image: str) -> None:
    await make(stacks, tmp_path, image).up()  # the template exists
    maps = "find /omnitron-template -name '*_fsm' -o -name '*_vm'"
    made = len(docker_cli("run", "--rm", "--network", "none", "--entrypoint", "sh", template_id(image), "-c", maps).split())
    seeded = make(stacks, tmp_path, image)
    await seeded.up()
    assert seeded.seeded() and made > 100  # initialised by the image: its maps are all there
    assert files_in_data(seeded, "*_fsm") + files_in_data(seeded, "*_vm") < made / 10  # made again only where written since
    with seeded.connect() as conn:
        conn.execute("CREATE TABLE notes (id int PRIMARY KEY, note text)")
        conn.execute("INSERT INTO notes SELECT n, repeat('x', 200) FROM generate_series(1, 5000) n")
        conn.execute("VACUUM (FREEZE, ANALYZE)")
        assert conn.execute("SELECT count(*) FROM notes WHERE id > 10").fetchone() == (4990,)
        assert conn.execute("SELECT count(*) FROM pg_class").fetchone()[0] > 300
    assert files_in_data(seeded, "*_vm") > 20  # the vacuum made them again


@pytest.mark.parametrize("way", ["through the engine", "from this side"])
async def test_a_template_copy_that_breaks_off_leaves_no_part_of_it_behind(stacks: list[Stack], tmp_path: Path, image: str, monkeypatch: pytest.MonkeyPatch, way: str) -> None:
    if way == "from this side" and os.geteuid() != 0:
        pytest.skip("only root writes into the engine's volume directories")
    await make(stacks, tmp_path, image).up()  # the template exists
    if way == "through the engine":
        monkeypatch.setattr(volume_fill, "volume_directory", lambda *args: None)  # the engine copies it in
        module, step, error = templates, "_put_archive", templates.EngineReadError(500, "broken off")
    else:
        module, step, error = volume_fill, "fill", templates.EngineReadError(900, "filling broke off")
    copy = getattr(module, step)

    def broken(*args, **kw):
        done = copy(*args, **kw)  # the data is in: it fails just after
        assert done or step == "_put_archive"
        raise error

    monkeypatch.setattr(module, step, broken)
    stack = make(stacks, tmp_path, image)
    await stack.up()
    assert any(f"copying the template in failed: {error}" in detail for _, _, detail in stack.events)
    assert INITIALISED in docker_logs(stack)  # a fresh volume, initialised by the image
    with stack.connect() as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_the_archive_copy_leaves_out_the_rebuilt_files_and_keeps_the_rest() -> None:
    import io
    import tarfile

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in (("./", None), ("./base/1/", None), ("./base/1/112", b"page"), ("./base/1/112_fsm", b"map"), ("./global/1262_vm", b"vm"), ("./global/1262", b"")):
            info = tarfile.TarInfo(name)
            info.uid, info.gid, info.uname, info.mode = 999, 999, "postgres", 0o700 if data is None else 0o600
            if data is None:
                info.type = tarfile.DIRTYPE
            else:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    raw.seek(0)
    out = io.BytesIO()
    templates._copy_archive(raw, out, ("base/*/*_fsm", "global/*_vm"))
    out.seek(0)
    with tarfile.open(fileobj=out) as tar:
        kept = {m.name: (m.mode, m.uid, m.uname, tar.extractfile(m).read() if m.isreg() else None) for m in tar}
    assert kept == {".": (0o700, 999, "postgres", None), "./base/1": (0o700, 999, "postgres", None), "./base/1/112": (0o600, 999, "postgres", b"page"), "./global/1262": (0o600, 999, "postgres", b"")}


async def test_a_damaged_archive_is_dropped_and_saved_again(stacks: list[Stack], tmp_path: Path, image: str) -> None:
    await make(stacks, tmp_path, image).up()
    await make(stacks, tmp_path, image).up()  # seeded: the archive is there (saved by the build or now)
    (name,) = archives()
    (Path(os.environ["OMNITRON_CACHE_DIR"]) / templates.ARCHIVES / name).write_bytes(b"not a tar archive\n" * 1000)
    damaged = make(stacks, tmp_path, image)
    await damaged.up()
    assert any("copying the template in failed" in detail for _, _, detail in damaged.events)
    assert INITIALISED in docker_logs(damaged) and archives() == []
    with damaged.connect() as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    after = make(stacks, tmp_path, image)
    await after.up()
    assert after.seeded() and SKIPPED in docker_logs(after) and archives() == [name]


def test_the_key_follows_the_image_and_settings_but_not_the_password() -> None:
    env = {"POSTGRES_USER": "postgres", "POSTGRES_PASSWORD": "one"}
    body = {"Cmd": ["postgres"]}
    key = templates.template_key("sha256:a", DATA_TEMPLATE, env, body, "/var/lib/postgresql/data", "")
    assert key == templates.template_key("sha256:a", DATA_TEMPLATE, {**env, "POSTGRES_PASSWORD": "two"}, body, "/var/lib/postgresql/data", "")
    assert key != templates.template_key("sha256:b", DATA_TEMPLATE, env, body, "/var/lib/postgresql/data", "")
    assert key != templates.template_key("sha256:a", DATA_TEMPLATE, {**env, "POSTGRES_USER": "app"}, body, "/var/lib/postgresql/data", "")
    assert key != templates.template_key("sha256:a", DATA_TEMPLATE, env, {"Cmd": ["postgres", "-c", "password_encryption=md5"]}, "/var/lib/postgresql/data", "")


def test_the_data_directory_must_lie_in_the_volume() -> None:
    image_env = ["PGDATA=/var/lib/postgresql/data", "PATH=/usr/bin"]
    target = "/var/lib/postgresql/data"
    assert templates.data_dir_in_volume(DATA_TEMPLATE, {}, image_env, target) == ""
    assert templates.data_dir_in_volume(DATA_TEMPLATE, {"PGDATA": "/var/lib/postgresql/data/pgdata"}, image_env, target) == "pgdata"
    assert templates.data_dir_in_volume(DATA_TEMPLATE, {"PGDATA": "/srv/pg"}, image_env, target) is None


def test_postgres_refuses_what_a_template_cannot_stand_in_for() -> None:
    assert refuse({"POSTGRES_PASSWORD": "x"}) is None
    assert refuse({}) == "no POSTGRES_PASSWORD to set"
    assert refuse({"POSTGRES_PASSWORD": "x", "POSTGRES_PASSWORD_FILE": "/run/secrets/pw"}) == "settings are read from files"
    assert refuse({"POSTGRES_PASSWORD": "x", "POSTGRES_INITDB_ARGS": "--auth-local=scram-sha-256"}) is not None
    assert refuse({"POSTGRES_PASSWORD": "x", "POSTGRES_INITDB_WALDIR": "/wal"}) is not None


def test_the_switch() -> None:
    assert templates.enabled({}) and templates.enabled({templates.SWITCH: "on"})
    assert not any(templates.enabled({templates.SWITCH: value}) for value in ("off", "OFF", "0", "false", "no"))
    assert os.environ.get(templates.SWITCH) is None  # the tests above ran with it unset


async def test_a_run_killed_before_the_credentials_were_set_is_finished_by_the_next(stacks: list[Stack], tmp_path: Path, image: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from omnitron_provider_docker.seeding import SeedingMixin

    await make(stacks, tmp_path, image).up()  # the template exists
    stack = make(stacks, tmp_path, image)
    adopt = SeedingMixin._adopt

    async def killed(self, spec, template, container_id):
        raise RuntimeError("killed here")  # as if the process died between start and setting the password

    monkeypatch.setattr(SeedingMixin, "_adopt", killed)
    result = await up(stack.project, stack.project.plan(provider="docker"), progress=lambda s, p, d: stack.events.append((s, p, d)), check=False)
    assert not result.ok and stack.seeded()
    refused = ""
    for _ in range(120):  # the server answers once it has started: with the template's unknown password still in place
        try:
            stack.connect().close()
        except psycopg.OperationalError as exc:
            refused = str(exc)
            if "password authentication failed" in refused:
                break
        time.sleep(0.5)
    assert "password authentication failed" in refused
    monkeypatch.setattr(SeedingMixin, "_adopt", adopt)
    await stack.up()
    with stack.connect() as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


async def test_a_run_killed_while_it_filled_the_volume_is_made_again_by_the_next(stacks: list[Stack], tmp_path: Path, image: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import tarfile

    await make(stacks, tmp_path, image).up()  # the template exists
    stack = make(stacks, tmp_path, image)
    put = templates._put_archive

    def killed(sock, container, container_path, archive, **kw):
        half = tmp_path / "half.tar"
        with tarfile.open(archive) as whole, tarfile.open(half, "w", format=tarfile.PAX_FORMAT) as part:
            members = whole.getmembers()
            for member in members[: len(members) // 2]:
                part.addfile(member, whole.extractfile(member) if member.isreg() else None)
        put(sock, container, container_path, half, **kw)
        raise RuntimeError("killed here")  # as if the process died with half of the data in the volume

    directory = volume_fill.volume_directory
    monkeypatch.setattr(volume_fill, "volume_directory", lambda *args: None)  # the engine copies it in
    monkeypatch.setattr(templates, "_put_archive", killed)
    result = await up(stack.project, stack.project.plan(provider="docker"), progress=lambda s, p, d: stack.events.append((s, p, d)), check=False)
    assert not result.ok
    assert docker_cli("inspect", "-f", "{{.State.Status}}", f"omnitron-{stack.name}-dev-db").strip() == "created"
    monkeypatch.setattr(templates, "_put_archive", put)
    monkeypatch.setattr(volume_fill, "volume_directory", directory)
    stack.events.clear()
    await stack.up()
    assert any("stopped while it filled data volume" in detail for _, _, detail in stack.events) and stack.seeded()
    with stack.connect() as conn:
        assert conn.execute("SELECT count(*) FROM pg_class").fetchone()[0] > 300


async def test_down_with_volumes_removes_a_seeding_container_a_killed_up_left_behind(stacks: list[Stack], tmp_path: Path, image: str) -> None:
    """An ``up`` killed while seeding leaves the never-started seeding container holding the volume."""
    import subprocess
    import sys

    stack = make(stacks, tmp_path, image)
    await stack.up()
    volume = f"omnitron-{stack.name}-dev-db-data"
    leftover = docker_cli("create", "--label", f"{templates.LABEL_TEMPLATE_BUILD}=left-by-a-killed-up", "--network", "none", "-v", f"{volume}:/seeded", image).strip()
    done = subprocess.run([str(Path(sys.executable).parent / "omnitron"), "infra", "down", "--volumes"], cwd=stack.root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert docker_cli("ps", "-aq", "--filter", f"id={leftover}").strip() == ""
    assert docker_cli("volume", "ls", "-q", "--filter", f"name={volume}").strip() == ""
