"""Field descriptions for the JSON Schema, read from the models' attribute docstrings when a schema is made.

The models document their fields with a docstring under each attribute.
Reading those means reading the modules' source, which pydantic would
otherwise do for every model at import (``use_attribute_docstrings``): a cost
every command would pay for what only ``omnitron config schema`` shows.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from functools import lru_cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema


@lru_cache(maxsize=None)
def attribute_docs(cls: type) -> dict[str, str]:
    """Field name -> the docstring under it in ``cls``'s own body (its bases' are read for them)."""
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):
        return {}
    body = ast.parse(source).body
    if not body or not isinstance(body[0], ast.ClassDef):
        return {}
    docs: dict[str, str] = {}
    statements = body[0].body
    for stmt, after in zip(statements, statements[1:]):
        if (
            isinstance(stmt, ast.AnnAssign)
            and isinstance(stmt.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            docs[stmt.target.id] = inspect.cleandoc(after.value.value)
    return docs


class DocumentedSchema(GenerateJsonSchema):
    """JSON Schema generation that adds each field's attribute docstring as its ``description``."""

    def model_schema(self, schema: Any) -> Any:
        out = super().model_schema(schema)
        cls = schema.get("cls")
        properties = out.get("properties") if isinstance(out, dict) else None
        if not isinstance(cls, type) or not issubclass(cls, BaseModel) or not properties:
            return out
        for klass in reversed(cls.__mro__):
            if not issubclass(klass, BaseModel) or klass is BaseModel:
                continue
            for name, doc in attribute_docs(klass).items():
                info = cls.model_fields.get(name)
                if info is None:
                    continue
                key = info.alias if info.alias in properties else name
                if key in properties and "description" not in properties[key] and info.description is None:
                    properties[key]["description"] = doc
        return out


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``model``'s JSON Schema by alias (camelCase), with field descriptions."""
    return model.model_json_schema(by_alias=True, schema_generator=DocumentedSchema)
