"""Serves one page on 127.0.0.1 (where tor forwards the hidden service) that says where it is published."""

import http.server
import os

PUBLIC_URL = os.environ["PUBLIC_URL"]
PORT = int(os.environ["LISTEN_PORT"])


class Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"hello from {PUBLIC_URL}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", PORT), Page)
print(f"site: serving http://127.0.0.1:{PORT}/, published as {PUBLIC_URL}", flush=True)
server.serve_forever()
