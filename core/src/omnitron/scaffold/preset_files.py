"""The files of a scaffolded preset package (``string.Template``: ``$name``, ``$module``, ``$Camel``, ``$distribution``)."""

from .common import INIT, PYPROJECT

DESCRIPTION = "The $name preset for omnitron."

PLUGIN = '''"""Hook implementations of $distribution (the ``$name`` entry point)."""

from omnitron import hookimpl


@hookimpl
def omnitron_add_presets():
    from .preset import ${Camel}Preset

    return [${Camel}Preset]
'''

PRESET = '''"""The ``$name`` preset: ``{"preset": "$name", "config": {...}}`` becomes a full service requirement."""

from omnitron.api import Credential, DockerServiceConfig, ExpandContext, Port, Preset, PresetConfig, ServiceRequirement, VolumeMount


class ${Camel}Config(PresetConfig):
    """``config`` of ``{"preset": "$name"}``: unknown keys are errors naming the field."""

    image: str = "$name:1"
    port: Port = 8080


class ${Camel}Preset(Preset):
    name = "$name"
    service_type = "daemon"
    config_model = ${Camel}Config
    credentials = {"token": Credential(length=32)}  # generated on first provision, kept in the secret store

    def expand(self, config: ${Camel}Config, ctx: ExpandContext) -> ServiceRequirement:
        return ServiceRequirement(
            description="$name",
            ports={"main": config.port},
            env={"${CONST}_URL": "http://:$${secret:token}@$${host}:$${port:main}/"},
            docker=DockerServiceConfig(
                image=config.image,
                env={"${CONST}_TOKEN": "$${secret:token}"},
                volumes=[VolumeMount(source="data", target="/data")],
                ports={"main": 8080},
            ),
        )
'''

TEST = '''"""The $name preset: its expansion, its config errors, and the env an app gets (planned against an external server)."""

import pytest

from omnitron.api import ConfigError, ExpandContext

from ${module}.preset import ${Camel}Config, ${Camel}Preset


def test_expands_to_a_container_with_a_generated_token():
    req = ${Camel}Preset().expand(${Camel}Config(port=9000), ExpandContext(project="p", stack="dev", service="svc"))
    assert req.ports == {"main": 9000}
    assert req.docker.env["${CONST}_TOKEN"] == "$${secret:token}"


def test_is_registered_through_its_entry_point(omnitron_plugins):
    assert isinstance(omnitron_plugins.presets["$name"], ${Camel}Preset)


def test_an_app_gets_its_url(omnitron_project):
    eco = {
        "project": "shop",
        "infrastructure": {"services": {"svc": {"preset": "$name", "config": {"port": 9000}}}},
        "stacks": {"dev": {"serviceOverrides": {"svc": {"external": {"host": "10.0.0.5", "ports": {"main": 9000}}}}}},
    }
    plan = omnitron_project.write(eco, {"web": {"services": {"svc": True}}}).plan()
    assert plan.service("svc").secrets == {"token": "shop/dev/svc/token"}
    assert plan.apps["web"].env["${CONST}_URL"].template == "http://:$${secret:token}@$${host}:$${port:main}/"


def test_a_config_mistake_names_the_field(omnitron_project):
    project = omnitron_project.write({"infrastructure": {"services": {"svc": {"preset": "$name", "config": {"prot": 1}}}}})
    with pytest.raises(ConfigError, match=r"infrastructure.services.svc.config.prot: unknown key"):
        project.plan()
'''

README = """# $distribution

The `$name` preset for [omnitron](https://pypi.org/project/omnitron/):

```toml
[infrastructure.services.svc]
preset = "$name"
config = { port = 8080 }
```

Test it: `pip install -e .[test] && pytest`.
"""


FILES = {
    "pyproject.toml": PYPROJECT.replace("$DESCRIPTION", DESCRIPTION),
    "README.md": README,
    "src/$module/__init__.py": INIT.replace("$DESCRIPTION", DESCRIPTION),
    "src/$module/plugin.py": PLUGIN,
    "src/$module/preset.py": PRESET,
    "tests/test_preset.py": TEST,
}
