"""The orders schema and its seed data, in the database omnitron gives the app (DATABASE_URL)."""

import os

import psycopg

with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
    conn.execute("CREATE TABLE IF NOT EXISTS products (sku text PRIMARY KEY, price_cents int NOT NULL)")
    conn.execute("INSERT INTO products VALUES ('widget', 250), ('gadget', 1200) ON CONFLICT DO NOTHING")
    conn.execute("CREATE TABLE IF NOT EXISTS orders (id serial PRIMARY KEY, sku text NOT NULL REFERENCES products, qty int NOT NULL)")
print("orders: schema ready")
