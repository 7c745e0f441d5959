from urllib.parse import unquote, urlsplit

import pytest

from omnitron.errors import TemplateError
from omnitron.templating import BUILTIN_FUNCTIONS, MASK, Renderer, TemplateContext, TemplateFunction


@pytest.fixture
def renderer():
    return Renderer({f.name: f() for f in BUILTIN_FUNCTIONS})


def ctx(**kw):
    base = dict(app="web", service="search", host="localhost", ports={"http": 9200}, secrets={"searchApiKey": "search_api_key"}, secret=lambda k: {"search_api_key": "s3cr3t"}[k])
    base.update(kw)
    return TemplateContext(**base)


def test_spec_example(renderer):
    assert renderer.render("http://${host}:${port:http}", ctx()) == "http://localhost:9200"
    assert renderer.render("${secret:searchApiKey}", ctx()) == "s3cr3t"


def test_a_secret_name_secrets_does_not_map_is_the_store_key_itself(renderer):
    # the spec's "SEARCH_API_KEY": "${secret:searchApiKey}" with no secrets block
    read: list[str] = []
    c = ctx(secrets={}, secret=lambda k: read.append(k) or "v-" + k)
    assert renderer.render("${secret:searchApiKey}", c) == "v-searchApiKey"
    assert renderer.render("${secret:searchApiKey}", ctx()) == "s3cr3t"  # mapped: the key secrets names
    assert read == ["searchApiKey"]


def test_single_port_needs_no_name(renderer):
    assert renderer.render("${port}", ctx()) == "9200"
    with pytest.raises(TemplateError, match="needs a port name"):
        renderer.render("${port}", ctx(ports={"a": 1, "b": 2}))


def test_escape(renderer):
    assert renderer.render("$${host} is ${host}", ctx()) == "${host} is localhost"
    assert renderer.render("cost: $5 and $${", ctx()) == "cost: $5 and ${"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("${nope}", "unknown template function ${nope}"),
        ("${port:grpc}", "unknown port 'grpc'"),
        ("${host", "unterminated placeholder"),
        ("${secret}", "needs an argument"),
        ("${host:x}", "takes no argument"),
        ("${}", "invalid placeholder"),
        ("${alloc:db}", "nothing allocated"),
    ],
)
def test_errors_name_app_variable_and_template(renderer, template, message):
    with pytest.raises(TemplateError) as info:
        renderer.render(template, ctx(), variable="SEARCH_URL")
    text = str(info.value)
    assert message in text
    assert "app web" in text and "SEARCH_URL" in text and template in text


@pytest.mark.parametrize("password", ["p@ss:w/rd", "%#?&=+ spaces", "plain", "ünïcødé@/"])
def test_credentials_in_urls_are_percent_encoded(renderer, password):
    c = ctx(ports={"main": 5432}, secrets={"pw": "k"}, secret=lambda k: password, alloc={"database": "my db"})
    url = renderer.render("postgresql://user:${secret:pw}@${host}:${port:main}/${alloc:database}", c)
    parts = urlsplit(url)
    assert unquote(parts.password) == password
    assert parts.hostname == "localhost" and parts.port == 5432
    assert unquote(parts.path[1:]) == "my db"


def test_placeholders_outside_urls_are_verbatim(renderer):
    c = ctx(secrets={"pw": "k"}, secret=lambda k: "a@b/c")
    assert renderer.render("${secret:pw}", c) == "a@b/c"
    assert renderer.render("host=${host} password=${secret:pw}", c) == "host=localhost password=a@b/c"


def test_masking(renderer):
    out = renderer.render("u:${secret:searchApiKey}@${host}", ctx(), mask_secrets=True)
    assert out == f"u:{MASK}@localhost"


def test_only_host_port_and_secret_render_alike_for_every_app(renderer):
    class Caller(TemplateFunction):  # a plugin function: depends on the app unless it promises otherwise
        name = "caller"
        takes_argument = False

        def render(self, arg, ctx):
            return ctx.app or "-"

    r = Renderer({**renderer.functions, "caller": Caller()})
    assert r.service_only("http://u:${secret:searchApiKey}@${host}:${port:http}/x")
    assert r.service_only("no placeholders")
    assert not r.service_only("${alloc:db}")
    assert not r.service_only("http://${host}/${caller}")
    assert not r.service_only("${nope}") and not r.service_only("${host")
