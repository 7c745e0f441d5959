"""New data volumes seeded from a cached, initialised template, so the image skips its own initialisation.

For a service whose preset describes a :class:`~omnitron.api.DataTemplate`
(Postgres does), on a local engine, when its data volume is created now: the
volume is filled from the template of the service's image ID (see
:mod:`.templates`) once the container is created and before it first starts, and once it runs the
template's ``adopt`` command sets the service's own credentials through the
server's local socket; only then does ``ensure`` return, so nothing can see
the service ready before. Without a template yet, the service initialises as
usual and the template is built alongside, in a thread, for later projects
(``aclose`` waits for it). A volume that already existed is never touched.
``OMNITRON_DOCKER_TEMPLATE=off`` turns all of it off.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

import anyio

from omnitron.api import DataTemplate, ProvisionError, RuntimeSpec

from . import container_root, engine_reads, templates
from .container_config import Placement, container_env, create_body, docker_options

PENDING_RECORDS = "docker-template"
"""State store records (by service) of seeded volumes whose credentials are not set yet."""
ADOPT_TIMEOUT_S = 120.0
HOST_ADOPT_TIMEOUT_S = 10.0
"""How long ``adopt_from_host`` may wait for the seeded server (it starts in well under a second) before the
template's command in the container takes over, which waits on."""
FINISH_TIMEOUT_S = 60.0
log = logging.getLogger("omnitron.docker")


class SeedingMixin:
    """Part of :class:`~.engine.DockerEngineProvider`: data volumes from templates."""

    ctx: Any
    _new_volumes: set[str]
    _builds: dict[str, threading.Thread]
    _abort_builds: threading.Event
    # from the other parts: _remove_volume()

    def _data_template(self, spec: RuntimeSpec) -> DataTemplate | None:
        """The preset's template when it may stand in for the image's initialisation of this service (no I/O)."""
        if not templates.enabled(os.environ) or engine_reads.local_socket() is None:
            return None
        svc = spec.service
        presets = getattr(self.ctx.plugins, "presets", None) or {}
        preset = presets.get(svc.preset) if svc.preset else None
        template = preset.data_template() if preset is not None else None
        if template is None:
            return None
        opts = docker_options(spec)
        mounts = opts.volumes
        # anything else mounted (init scripts, config files) may shape the initialisation: the image does it then
        if opts.user is not None or len(mounts) != 1 or mounts[0].type != "volume" or mounts[0].source != template.volume:
            return None
        return None if template.refuse(container_env(spec)) is not None else template

    def _seeding(self, spec: RuntimeSpec, template: DataTemplate, image: dict[str, Any]) -> templates.Seeding | None:
        opts = docker_options(spec)
        target = opts.volumes[0].target
        env = container_env(spec)
        rel = templates.data_dir_in_volume(template, env, (image.get("Config") or {}).get("Env") or [], target)
        if rel is None:
            return None
        body = create_body(spec, Placement(project="-", stack="-", network="-", volumes={template.volume: "-"}))
        key = templates.template_key(image["Id"], template, env, body, target, rel)
        data_dir = templates.TEMPLATE_ROOT + (f"/{rel}" if rel else "")
        volumes = dict((image.get("Config") or {}).get("Volumes") or {})
        return templates.Seeding(
            template=template, image=opts.image or "", image_id=image["Id"], image_volumes=volumes, key=key, target=target, data_dir=data_dir, create_body=body
        )

    async def _image_and_template(self, spec: RuntimeSpec, template: DataTemplate | None) -> tuple[dict[str, Any], templates.Seeding | None, str | None]:
        """The image (pulled if missing); how its data would be seeded, and the cached template's ID (``None``: not built yet)."""
        opts = docker_options(spec)
        assert opts.image is not None
        image = await self._ensure_image(spec.service.name, opts.image)
        sock = engine_reads.local_socket()
        seeding = self._seeding(spec, template, image) if template is not None and sock is not None else None
        if seeding is None or sock is None:
            return image, None, None
        return image, seeding, await anyio.to_thread.run_sync(templates.find, sock, seeding.key)

    async def _seed_volume(self, service: str, seeding: templates.Seeding, template_id: str | None, volume: str, container_id: str) -> bool:
        """Fill the new ``volume`` of the created, not yet started container from the template; ``False`` (the image
        initialises it) when there is none yet.

        On a miss the template is built alongside, for later projects.
        """
        sock = engine_reads.local_socket()
        if sock is None:
            return False
        if template_id is None:
            self._start_build(service, sock, seeding)
            return False
        how = await anyio.to_thread.run_sync(templates.seed, sock, template_id, container_id, seeding, volume)
        self.ctx.progress(service, "creating", f"data volume {volume} from the cached template of {seeding.image} ({how}; initialisation skipped)")
        return True

    def _pending(self, service: str, volume: str | None) -> None:
        """Record (``volume``) or forget (``None``) that ``service``'s volume is seeded and its credentials not yet set."""
        if self.ctx.state is None:
            return
        if volume is None:
            self.ctx.state.delete_record(self.ctx.stack, PENDING_RECORDS, service)
        else:
            self.ctx.state.put_record(self.ctx.stack, PENDING_RECORDS, service, {"volume": volume})

    def _copy_cut_short(self, service: str) -> str | None:
        """The volume of ``service`` a killed run was filling from the template, when its container is created and
        never started (call it only then: the copy into it may be partial), or ``None``."""
        record = self.ctx.state.get_record(self.ctx.stack, PENDING_RECORDS, service) if self.ctx.state is not None else None
        return record.get("volume") if record else None

    async def _remove_seeded_volume(self, service: str, volume: str) -> None:
        """Remove ``volume``, seeded and never adopted: it holds the template's data and nothing else."""
        await self._remove_volume(volume, what=f"service {service}: removing data volume {volume} (its copy from the template was cut short)")
        self._pending(service, None)

    async def _finish_adoption(self, spec: RuntimeSpec, state: Any) -> None:
        """Set the credentials of a volume seeded by a run killed before it did (the data holds nothing else yet)."""
        name = spec.service.name
        record = self.ctx.state.get_record(self.ctx.stack, PENDING_RECORDS, name) if self.ctx.state is not None else None
        if record is None or state.status != "running" or not state.container_id:
            return
        presets = getattr(self.ctx.plugins, "presets", None) or {}
        preset = presets.get(spec.service.preset) if spec.service.preset else None
        template = preset.data_template() if preset is not None else None
        if template is None:
            return
        problem = await self._adopt(spec, template, state.container_id)
        if problem is not None:
            raise ProvisionError(
                f"service {name}: its data volume {record.get('volume')} was seeded by a run that stopped before setting its credentials, "
                f"and setting them now failed ({problem}); it holds no data yet: `omnitron infra reset` makes it again"
            )
        self._pending(name, None)

    async def _adopt(self, spec: RuntimeSpec, template: DataTemplate, container_id: str) -> str | None:
        """Set the service's credentials in the seeded, started container; why it failed, or ``None``."""
        sock = engine_reads.local_socket()
        if sock is None:
            return "the engine is not local"
        self.ctx.progress(spec.service.name, "starting", "setting its credentials over the local socket")
        if template.adopt_from_host is not None and await self._adopted_from_host(spec, template, container_id):
            return None
        try:
            code, output = await anyio.to_thread.run_sync(lambda: templates.run(sock, container_id, list(template.adopt), timeout=ADOPT_TIMEOUT_S))
        except (engine_reads.EngineReadError, OSError) as exc:
            return str(exc)
        if code != 0:
            return f"exit code {code}: {output.strip()[-300:]}"
        return None

    async def _adopted_from_host(self, spec: RuntimeSpec, template: DataTemplate, container_id: str) -> bool:
        """Whether the template's ``adopt_from_host`` set the credentials through the container's root (no process in it)."""
        assert template.adopt_from_host is not None
        try:
            info = await self._inspect(container_id) or {}
            root = container_root.root_of(int((info.get("State") or {}).get("Pid") or 0), str(info.get("Id") or container_id))
            if root is None:
                return False
            await template.adopt_from_host(container_root.resolver(root), container_env(spec), HOST_ADOPT_TIMEOUT_S)
        except Exception as exc:  # the command in the container is the way that always works
            log.debug("service %s: credentials not set from this side (%s: %s); running the template's command in the container", spec.service.name, type(exc).__name__, exc)
            return False
        return True

    def _start_build(self, service: str, sock: Any, seeding: templates.Seeding) -> None:
        if seeding.key in self._builds:
            return
        self.ctx.progress(service, "creating", f"no data template for {seeding.image} yet: building one alongside, for later projects")

        def work() -> None:
            try:
                templates.build(sock, seeding, self._abort_builds)
            except templates.BuildAborted:
                pass
            except Exception as exc:  # a template is an optimisation: the service itself is unaffected
                log.warning("service %s: no data template of %s was built (later projects initialise as usual): %s", service, seeding.image, exc)

        thread = threading.Thread(target=work, name=f"omnitron-template-{seeding.key[:8]}", daemon=True)
        self._builds[seeding.key] = thread
        thread.start()

    async def _finish_builds(self, *, abort: bool) -> None:
        """Wait for the templates being built (``abort``: stop them first; their containers are removed either way).

        A build runs beside the service's own initialisation, so it is about done
        when the service is; one still busy a minute later is given up.
        """
        if abort:
            self._abort_builds.set()
        with anyio.CancelScope(shield=True):
            for thread in list(self._builds.values()):
                await anyio.to_thread.run_sync(thread.join, FINISH_TIMEOUT_S)
                if thread.is_alive():
                    self._abort_builds.set()
                    await anyio.to_thread.run_sync(thread.join)
        self._builds.clear()
