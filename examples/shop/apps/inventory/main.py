"""Checks stock: its own database, Redis DB and bucket, and shows it cannot see the orders app's data."""

import os
from urllib.parse import urlsplit

import boto3
import psycopg
import redis
from botocore.config import Config
from botocore.exceptions import ClientError

with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
    conn.execute("CREATE TABLE IF NOT EXISTS stock (sku text PRIMARY KEY, qty int NOT NULL)")
    conn.execute("INSERT INTO stock VALUES ('widget', 10) ON CONFLICT (sku) DO UPDATE SET qty = stock.qty - 1")
    qty = conn.execute("SELECT qty FROM stock WHERE sku = 'widget'").fetchone()[0]
    sees_orders = conn.execute("SELECT to_regclass('orders') IS NOT NULL").fetchone()[0]
    dbname = conn.execute("SELECT current_database()").fetchone()[0]
r = redis.Redis.from_url(os.environ["REDIS_URL"])
r.set("last-app", "inventory")
s3 = boto3.client(
    "s3", endpoint_url=os.environ["S3_ENDPOINT"], region_name=os.environ["S3_REGION"],
    aws_access_key_id=os.environ["S3_ACCESS_KEY"], aws_secret_access_key=os.environ["S3_SECRET_KEY"],
    config=Config(s3={"addressing_style": "path"}),
)
s3.put_object(Bucket=os.environ["S3_BUCKET"], Key="stock.csv", Body=f"widget,{qty}\n".encode())
try:
    s3.list_objects_v2(Bucket="receipts")
    reads_receipts = True
except ClientError:
    reads_receipts = False
print(f"inventory: database {dbname} has {qty} widget(s); sees the orders table: {sees_orders}; "
      f"redis db {urlsplit(os.environ['REDIS_URL']).path.lstrip('/')} sees orders' counter: {r.exists('orders:placed') == 1}; "
      f"reads the orders' receipts: {reads_receipts}")
