"""Secrets rendered as tokens and found again (what the plan cache and head starts keep): no value is ever in
what is kept, and the store's values come back exactly where the render put them, quoted where it quoted them."""

from __future__ import annotations

import json
from urllib.parse import quote

from omnitron.secret_tokens import PARTS_KEY, SecretTokens, decode, wanted


def test_a_document_keeps_references_and_decodes_to_what_the_real_render_makes() -> None:
    values = {"app/db/password": "p@ss/w:rd", "app/cache/password": "r3dis"}

    def render(secret):  # a stand-in for a provider's body: env, a URL with the secret quoted, stdin
        return {
            "Env": ["USER=postgres", f"PASSWORD={secret('app/db/password')}"],
            "Url": f"postgresql://u:{quote(secret('app/db/password'), safe='')}@h/db",
            "stdin": f'requirepass "{secret("app/cache/password")}"\n',
            "Port": 5432,
        }

    tokens = SecretTokens()
    kept = tokens.encode(render(tokens.reference))
    assert kept is not None
    text = json.dumps(kept)
    assert all(v not in text for v in values.values())
    assert kept["Env"][0] == "USER=postgres" and PARTS_KEY in kept["Env"][1]
    assert wanted(kept) == set(values)
    assert decode(kept, values) == render(values.__getitem__)


def test_a_secret_a_template_function_transformed_is_not_kept() -> None:
    tokens = SecretTokens()
    doc = {"Env": [f"HASH={tokens.reference('k')[::-1]}"]}  # the token does not come out as it went in
    assert tokens.encode(doc) is None
