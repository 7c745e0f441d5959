"""inventory: answers on PORT (omnitron allocates it), reached through the gateway at /inventory/."""

import http.server
import json
import os

PORT = int(os.environ["PORT"])
ITEMS = [{"sku": "tea", "stock": 12}, {"sku": "cup", "stock": 3}]


class Inventory(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"app": "inventory", "items": ITEMS}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


print(f"inventory: http://127.0.0.1:{PORT}/, through the gateway at {os.environ['GATEWAY_URL']}/inventory/", flush=True)
http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Inventory).serve_forever()
