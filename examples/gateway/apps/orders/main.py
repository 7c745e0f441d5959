"""orders: answers on PORT (omnitron allocates it), counts what it served in its own Redis DB (REDIS_URL)."""

import http.server
import json
import os

import redis

PORT = int(os.environ["PORT"])
DB = redis.Redis.from_url(os.environ["REDIS_URL"])


class Orders(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"app": "orders", "served": DB.incr("orders:served"), "gateway": os.environ["GATEWAY_URL"]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


print(f"orders: http://127.0.0.1:{PORT}/, through the gateway at {os.environ['GATEWAY_URL']}/orders/", flush=True)
http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Orders).serve_forever()
