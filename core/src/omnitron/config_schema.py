"""JSON Schemas (draft 2020-12) of the two config files, generated from the models and the installed plugins.

- :func:`ecosystem_schema`: ``omnitron.toml`` (and what ``define_ecosystem`` takes);
- :func:`app_schema`: an app's ``config/default.json`` (its ``omnitron`` key).

Each is one self-contained schema an editor can use. A service entry is a
preset shorthand when it has ``preset`` (else a full requirement), and a
preset's ``config`` is checked by that preset's own model, for every
installed preset; so are the health probes plugins add under ``healthCheck``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .plugins import PluginManager

DRAFT = "https://json-schema.org/draft/2020-12/schema"
LEGACY_KEYS = ("postgres", "redis", "minio", "gateway", "tor")


def _defs(root_model: type, plugins: PluginManager) -> tuple[dict[str, Any], dict[str, Any]]:
    """The root model's schema and every definition, preset configs and probe specs included (named ``preset.NAME``, ``probe.NAME``)."""
    from pydantic.json_schema import models_json_schema

    presets = {name: p.config_model for name, p in sorted(plugins.presets.items())}
    probes = {name: p.spec_model for name, p in sorted(plugins.probes.items()) if name not in ("tcp", "http", "command") and getattr(p, "spec_model", None) is not None}
    models = [root_model, *presets.values(), *probes.values()]
    keys, top = models_json_schema([(m, "validation") for m in dict.fromkeys(models)], ref_template="#/$defs/{model}", by_alias=True)
    defs = dict(top.get("$defs", {}))

    def ref_of(model: type) -> str:
        return keys[(model, "validation")]["$ref"]

    root = defs.pop(ref_of(root_model).rsplit("/", 1)[1])
    preset_refs = {name: ref_of(model) for name, model in presets.items()}
    probe_refs = {name: ref_of(model) for name, model in probes.items()}
    _shape(defs, preset_refs, probe_refs)
    _shape({"root": root}, preset_refs, probe_refs)
    return root, defs


def _shape(defs: dict[str, Any], preset_refs: dict[str, str], probe_refs: dict[str, str]) -> None:
    """Service entries keyed on ``preset``, preset configs checked per preset, plugin probes, the legacy infrastructure keys."""
    for name, schema in defs.items():
        _entries(schema)
        if name == "PresetService" and preset_refs:
            schema["allOf"] = [
                {"if": {"properties": {"preset": {"const": preset}}, "required": ["preset"]}, "then": {"properties": {"config": {"$ref": ref}}}}
                for preset, ref in preset_refs.items()
            ]
        elif name == "HealthCheck" and probe_refs:
            schema.setdefault("properties", {}).update({probe: {"$ref": ref} for probe, ref in probe_refs.items()})
        elif name == "InfrastructureConfig":
            props = schema.setdefault("properties", {})
            for key in LEGACY_KEYS:
                props[key] = {"description": f"legacy shape: the {key} preset's options (use services)", "anyOf": [{"type": "boolean"}, {"type": "null"}, {"type": "object"}]}
            props["containers"] = {"description": "legacy shape: custom services (use services)", "type": "object", "additionalProperties": {"$ref": "#/$defs/ServiceRequirement"}}


def _entries(node: Any) -> None:
    """Replace the ``oneOf`` pydantic writes for a service entry by ``if preset then PresetService else ServiceRequirement``."""
    if isinstance(node, dict):
        alternatives = node.get("oneOf")
        if isinstance(alternatives, list) and {a.get("$ref") for a in alternatives if isinstance(a, dict)} == {"#/$defs/PresetService", "#/$defs/ServiceRequirement"}:
            del node["oneOf"]
            node.pop("discriminator", None)
            node.update({"type": "object", "if": {"required": ["preset"]}, "then": {"$ref": "#/$defs/PresetService"}, "else": {"$ref": "#/$defs/ServiceRequirement"}})
        for value in node.values():
            _entries(value)
    elif isinstance(node, list):
        for value in node:
            _entries(value)


def ecosystem_schema(plugins: PluginManager) -> dict[str, Any]:
    """The schema of ``omnitron.toml`` / the mapping ``define_ecosystem`` takes."""
    from .model import EcosystemConfig

    root, defs = _defs(EcosystemConfig, plugins)
    return {"$schema": DRAFT, "$id": "urn:omnitron:schema:ecosystem", **root, "title": "omnitron ecosystem (omnitron.toml)", "$defs": defs}


def app_schema(plugins: PluginManager) -> dict[str, Any]:
    """The schema of an app's ``config/default.json``: its ``omnitron`` key; other keys belong to the app."""
    from .model import AppConfig

    root, defs = _defs(AppConfig, plugins)
    defs["AppConfig"] = root
    return {
        "$schema": DRAFT,
        "$id": "urn:omnitron:schema:app",
        "title": "omnitron app config (config/default.json)",
        "type": "object",
        "properties": {"$schema": {"type": "string"}, "omnitron": {"$ref": "#/$defs/AppConfig"}},
        "$defs": defs,
    }
