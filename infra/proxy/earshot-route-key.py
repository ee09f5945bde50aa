#!/usr/bin/env python3
"""earshot-route-key: decodes a player's key for nginx, which cannot decode base64url itself.

Players send their key as the WebSocket subprotocol "bearer.<base64url(key)>"; MCP calls send it raw in
"Authorization: Bearer <key>". nginx's auth_request asks this service on every /ws upgrade and hashes the raw key
it answers with (X-Earshot-Route-Key), so both reach the same task. Loopback only; logs nothing (keys).
"""
import base64
import os
import re
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PRINTABLE_KEY = re.compile(r"[\x21-\x7e]{1,512}")


# Credentials Earshot issues carry the user's route tag (server/src/auth/route-tag.ts): route on it when present, so
# a user's key, OAuth tokens and speech tokens all reach one task; on the whole key otherwise.
ROUTE_TAG = re.compile(r"(?:esk|eso_at|est)_([A-Za-z0-9_-]{12})\.")


def routed(credential):
    tagged = ROUTE_TAG.match(credential)
    return tagged.group(1) if tagged else credential


def route_key(header):
    for offered in (header or "").split(","):
        value = offered.strip()
        if value.startswith("speech-token."):
            # The in-chat player's token for one speech (printable already, not encoded).
            token = value[len("speech-token."):]
            if PRINTABLE_KEY.fullmatch(token):
                return routed(token)
            continue
        if not value.startswith("bearer."):
            continue
        encoded = value[len("bearer."):]
        try:
            key = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode("ascii")
        except ValueError:
            continue
        if PRINTABLE_KEY.fullmatch(key):
            return routed(key)
    return None


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        key = route_key(self.headers.get("Sec-WebSocket-Protocol"))
        self.send_response(204)
        if key is not None:
            self.send_header("X-Earshot-Route-Key", key)
        self.end_headers()

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass


class Server(ThreadingHTTPServer):
    # Every player reconnects at once after a reload: the default backlog of 5 would drop their lookups.
    request_queue_size = 256
    daemon_threads = True


def main():
    host, _, port = os.environ.get("EARSHOT_ROUTE_KEY_LISTEN", "127.0.0.1:8090").rpartition(":")
    Server((host, int(port)), Handler).serve_forever()


if __name__ == "__main__":
    main()
