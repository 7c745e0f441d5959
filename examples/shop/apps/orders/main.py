"""Places an order: writes to its own database and bumps a counter in its own Redis DB."""

import os
import sys
from urllib.parse import urlsplit

import psycopg
import redis

db_url, redis_url = os.environ["DATABASE_URL"], os.environ["REDIS_URL"]
with psycopg.connect(db_url) as conn:
    conn.execute("CREATE TABLE IF NOT EXISTS orders (id serial PRIMARY KEY, item text NOT NULL, created timestamptz DEFAULT now())")
    conn.execute("INSERT INTO orders (item) VALUES (%s)", (sys.argv[1] if len(sys.argv) > 1 else "widget",))
    count = conn.execute("SELECT count(*) FROM orders").fetchone()[0]
    dbname = conn.execute("SELECT current_database()").fetchone()[0]
r = redis.Redis.from_url(redis_url)
r.incr("orders:placed")
r.set("last-app", "orders")
print(f"orders: database {dbname} holds {count} order(s); redis db {urlsplit(redis_url).path.lstrip('/')} counted {int(r.get('orders:placed'))}")
