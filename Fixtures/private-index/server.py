#!/usr/bin/env python3
"""A private Python package index on loopback, for the `build --secret` tests.

Serves PEP 503's "simple" API with one pure-Python wheel (made here, in memory) and answers 401
unless the request carries HTTP Basic credentials `oauth2accesstoken:TOKEN` — how Artifact
Registry's Python repositories take a Google access token. TOKEN comes from the environment
(PRIVATE_INDEX_TOKEN), never from the command line. Prints the port it listens on, then serves
until killed.

    PRIVATE_INDEX_TOKEN=… python3 server.py    # prints e.g. 40123
"""
import base64
import hashlib
import http.server
import io
import os
import sys
import zipfile

USER = "oauth2accesstoken"
NAME, VERSION = "swiftdock-private-probe", "1.0"
DIST = NAME.replace("-", "_")
WHEEL = f"{DIST}-{VERSION}-py3-none-any.whl"


def make_wheel():
    files = {
        f"{DIST}/__init__.py": b"MARKER = 'installed from the private index'\n",
        f"{DIST}-{VERSION}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {VERSION}\n".encode(),
        f"{DIST}-{VERSION}.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: swiftdock-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{DIST}-{VERSION}.dist-info/RECORD,,")
    files[f"{DIST}-{VERSION}.dist-info/RECORD"] = ("\n".join(record) + "\n").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for path, data in files.items():
            z.writestr(path, data)
    return out.getvalue()


def main():
    token = os.environ.get("PRIVATE_INDEX_TOKEN", "")
    if not token:
        sys.exit("server.py: PRIVATE_INDEX_TOKEN is not set")
    expected = "Basic " + base64.b64encode(f"{USER}:{token}".encode()).decode()
    wheel = make_wheel()
    sha = hashlib.sha256(wheel).hexdigest()
    pages = {
        "/simple/": f'<html><body><a href="/simple/{NAME}/">{NAME}</a></body></html>'.encode(),
        f"/simple/{NAME}/": f'<html><body><a href="/packages/{WHEEL}#sha256={sha}">{WHEEL}</a></body></html>'.encode(),
        f"/packages/{WHEEL}": wheel,
    }

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.headers.get("Authorization") != expected:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="private-index"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = pages.get(self.path)
            if body is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            kind = "application/octet-stream" if self.path.endswith(".whl") else "text/html"
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *args):
            sys.stderr.write("%s %s\n" % (self.command, self.path))

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
