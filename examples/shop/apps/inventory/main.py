"""Checks stock: its own database and Redis DB, and shows it cannot see the orders app's data."""

import os
from urllib.parse import urlsplit

import psycopg
import redis

with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
    conn.execute("CREATE TABLE IF NOT EXISTS stock (sku text PRIMARY KEY, qty int NOT NULL)")
    conn.execute("INSERT INTO stock VALUES ('widget', 10) ON CONFLICT (sku) DO UPDATE SET qty = stock.qty - 1")
    qty = conn.execute("SELECT qty FROM stock WHERE sku = 'widget'").fetchone()[0]
    sees_orders = conn.execute("SELECT to_regclass('orders') IS NOT NULL").fetchone()[0]
    dbname = conn.execute("SELECT current_database()").fetchone()[0]
r = redis.Redis.from_url(os.environ["REDIS_URL"])
r.set("last-app", "inventory")
print(f"inventory: database {dbname} has {qty} widget(s); sees the orders table: {sees_orders}; "
      f"redis db {urlsplit(os.environ['REDIS_URL']).path.lstrip('/')} sees orders' counter: {r.exists('orders:placed') == 1}")
