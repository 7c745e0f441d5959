"""The app's code: it reads DATABASE_URL and REDIS_URL from its environment, as omnitron hands them."""

import os

import psycopg
import redis


def place_order(sku: str, qty: int = 1) -> int:
    """Record an order and count it in Redis; returns the order's id."""
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        order_id = conn.execute("INSERT INTO orders (sku, qty) VALUES (%s, %s) RETURNING id", (sku, qty)).fetchone()[0]
    redis.Redis.from_url(os.environ["REDIS_URL"]).incr(f"placed:{sku}", qty)
    return order_id


def revenue_cents() -> int:
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        return conn.execute("SELECT coalesce(sum(o.qty * p.price_cents), 0) FROM orders o JOIN products p USING (sku)").fetchone()[0]


def placed(sku: str) -> int:
    return int(redis.Redis.from_url(os.environ["REDIS_URL"]).get(f"placed:{sku}") or 0)
