"""Places an order: writes to its own database, bumps a counter in its own Redis DB, stores a receipt in its own bucket."""

import os
import sys
from urllib.parse import urlsplit

import boto3
import psycopg
import redis

db_url, redis_url = os.environ["DATABASE_URL"], os.environ["REDIS_URL"]
item = sys.argv[1] if len(sys.argv) > 1 else "widget"
with psycopg.connect(db_url) as conn:
    conn.execute("CREATE TABLE IF NOT EXISTS orders (id serial PRIMARY KEY, item text NOT NULL, created timestamptz DEFAULT now())")
    order_id = conn.execute("INSERT INTO orders (item) VALUES (%s) RETURNING id", (item,)).fetchone()[0]
    count = conn.execute("SELECT count(*) FROM orders").fetchone()[0]
    dbname = conn.execute("SELECT current_database()").fetchone()[0]
r = redis.Redis.from_url(redis_url)
r.incr("orders:placed")
r.set("last-app", "orders")
# "awsEnv": true gives boto3 its endpoint, key and region through the standard AWS variables: no settings here
s3 = boto3.client("s3")
bucket = os.environ["S3_BUCKET"]
s3.put_object(Bucket=bucket, Key=f"receipts/{order_id}.txt", Body=f"order {order_id}: 1 x {item}\n".encode())
receipts = s3.list_objects_v2(Bucket=bucket, Prefix="receipts/").get("KeyCount", 0)
print(f"orders: database {dbname} holds {count} order(s); redis db {urlsplit(redis_url).path.lstrip('/')} counted {int(r.get('orders:placed'))}; "
      f"bucket {bucket} holds {receipts} receipt(s)")
