"""Each test gets its own database, cloned from the migrated one, and a flushed Redis DB index.

No fixture here starts a server: the omnitron pytest plugin (installed with
omnitron) brings the project's `test` stack up once per session as native
processes, runs the app's migrations, and hands each test fresh copies.
"""

import psycopg
import pytest

import orders


@pytest.fixture(autouse=True)
def clean(omnitron_database, omnitron_redis):
    """Every test starts from the migrated schema with its seed data, and an empty Redis DB."""
    return omnitron_database


def test_an_order_is_stored_and_counted():
    assert orders.place_order("widget", 2) == 1  # the first order of a fresh database
    assert orders.revenue_cents() == 500
    assert orders.placed("widget") == 2


def test_the_previous_test_left_nothing_behind(clean):
    assert orders.revenue_cents() == 0 and orders.placed("widget") == 0
    with psycopg.connect(clean.url) as conn:
        assert conn.execute("SELECT count(*) FROM products").fetchone()[0] == 2  # seed data from the migration
        assert conn.execute("SELECT current_database()").fetchone()[0] == clean.name != "orders"


@pytest.mark.parametrize("sku, qty, cents", [("widget", 1, 250), ("gadget", 3, 3600)])
def test_revenue(sku, qty, cents):
    orders.place_order(sku, qty)
    assert orders.revenue_cents() == cents


def test_the_stack_hands_out_envs_and_urls(omnitron_stack):
    assert omnitron_stack.name == "test"
    assert omnitron_stack.apps["orders"]["DATABASE_URL"].endswith("/orders")
    db = omnitron_stack.services["db"]
    assert db.ports["main"] == 5432 + 26000 and db.url.startswith("postgresql://")
