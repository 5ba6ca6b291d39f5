"""A local HTTP test double of the few Stripe API endpoints this project uses.

The real `stripe` SDK talks to it over HTTP (STRIPE_API_BASE), so tests exercise
the SDK's encoding, idempotency keys, retries and error mapping. It can be told to
fail (status codes, timeouts, dropped connections) for the next N requests.

Run standalone for the bench or manual testing:  python -m tests.stripe_double --port 12111
"""

import argparse
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit


def decode_form(body: str) -> dict:
    """Decode Stripe's bracketed form encoding (a[b][0][c]=1) into nested dicts and lists."""
    root: dict = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _listify(root)


def _listify(node):
    if isinstance(node, dict):
        if node and all(k.isdigit() for k in node):
            return [_listify(node[k]) for k in sorted(node, key=int)]
        return {k: _listify(v) for k, v in node.items()}
    return node


@dataclass
class Fault:
    status: int = 500  # 0 = drop the connection; -1 = hang past the client's timeout
    times: int = 1
    path_prefix: str = ""
    delay: float = 0.0


@dataclass
class StripeDouble:
    host: str = "127.0.0.1"
    port: int = 0
    sessions: dict = field(default_factory=dict)
    refunds: dict = field(default_factory=dict)
    requests: list = field(default_factory=list)
    faults: list = field(default_factory=list)
    idempotent: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> "StripeDouble":
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; with Nagle on, the body waits ~40 ms for a delayed ACK.
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def do_GET(self):
                double._handle(self, "GET")

            def do_POST(self):
                double._handle(self, "POST")

        self.server = ThreadingHTTPServer((self.host, self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def reset(self) -> None:
        with self.lock:
            self.sessions.clear()
            self.refunds.clear()
            self.requests.clear()
            self.faults.clear()
            self.idempotent.clear()

    def fail_next(self, status: int = 500, times: int = 1, path_prefix: str = "", delay: float = 0.0) -> None:
        with self.lock:
            self.faults.append(Fault(status=status, times=times, path_prefix=path_prefix, delay=delay))

    # Test-side actions that stand for what a buyer does on Stripe's page.
    def pay(self, session_id: str) -> dict:
        with self.lock:
            session = self.sessions[session_id]
            session.update(status="complete", payment_status="paid", payment_intent=f"pi_{secrets.token_hex(12)}")
            return dict(session)

    def requests_to(self, method: str, path_prefix: str) -> list[dict]:
        return [r for r in self.requests if r["method"] == method and r["path"].startswith(path_prefix)]

    # --- HTTP handling -------------------------------------------------------
    def _take_fault(self, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and path.startswith(fault.path_prefix):
                    fault.times -= 1
                    return fault
        return None

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length).decode() if length else ""
        path = urlsplit(handler.path).path
        params = decode_form(body) if body else {}
        key = handler.headers.get("Idempotency-Key")
        with self.lock:
            self.requests.append(
                {"method": method, "path": path, "params": params, "idempotency_key": key,
                 "authorization": handler.headers.get("Authorization", "")}
            )
        fault = self._take_fault(path)
        if fault is not None:
            if fault.status == -1:
                time.sleep(fault.delay or 30)
                handler.close_connection = True
                return
            if fault.status == 0:
                handler.close_connection = True
                handler.connection.close()
                return
            if fault.delay:
                time.sleep(fault.delay)
            return self._send(handler, fault.status, _error_body(fault.status))
        if not handler.headers.get("Authorization", "").startswith("Bearer sk_"):
            return self._send(handler, 401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key"}})
        if method == "POST" and key:
            with self.lock:
                cached = self.idempotent.get(key)
            if cached is not None:
                if cached[0] != (path, body):
                    return self._send(handler, 400, {"error": {"type": "idempotency_error", "message": "Keys for idempotent requests can only be used with the same parameters they were first used with."}})
                return self._send(handler, cached[1], cached[2], replay=True)
        status, payload = self._route(method, path, params)
        if method == "POST" and key and status < 500:
            with self.lock:
                self.idempotent[key] = ((path, body), status, payload)
        self._send(handler, status, payload)

    def _route(self, method: str, path: str, params: dict) -> tuple[int, dict]:
        if method == "POST" and path == "/v1/checkout/sessions":
            return self._create_session(params)
        match = re.fullmatch(r"/v1/checkout/sessions/([^/]+)(/expire)?", path)
        if match:
            with self.lock:
                session = self.sessions.get(match.group(1))
                if session is None:
                    return 404, {"error": {"type": "invalid_request_error", "code": "resource_missing", "message": "No such checkout.session"}}
                if match.group(2) and method == "POST":
                    if session["status"] != "open":
                        return 400, {"error": {"type": "invalid_request_error", "message": "Only open sessions can be expired."}}
                    session["status"] = "expired"
                return 200, dict(session)
        if method == "POST" and path == "/v1/refunds":
            refund = {
                "id": f"re_{secrets.token_hex(12)}",
                "object": "refund",
                "amount": int(params.get("amount", 0)),
                "payment_intent": params.get("payment_intent"),
                "metadata": params.get("metadata", {}),
                "status": "succeeded",
            }
            with self.lock:
                self.refunds[refund["id"]] = refund
            return 200, refund
        return 404, {"error": {"type": "invalid_request_error", "message": f"Unrecognized request URL ({method} {path})."}}

    def _create_session(self, params: dict) -> tuple[int, dict]:
        required = ("mode", "line_items", "success_url", "cancel_url")
        missing = [k for k in required if k not in params]
        if missing:
            return 400, {"error": {"type": "invalid_request_error", "message": f"Missing required param: {missing[0]}."}}
        expires_at = int(params.get("expires_at", time.time() + 86400))
        if expires_at < time.time() + 30 * 60 - 5:
            return 400, {"error": {"type": "invalid_request_error", "param": "expires_at", "message": "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation."}}
        amount = sum(int(item["quantity"]) * int(item["price_data"]["unit_amount"]) for item in params["line_items"])
        session_id = f"cs_test_{secrets.token_hex(16)}"
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": params["mode"],
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": amount,
            "currency": params["line_items"][0]["price_data"]["currency"],
            "customer_email": params.get("customer_email"),
            "client_reference_id": params.get("client_reference_id"),
            "metadata": params.get("metadata", {}),
            "expires_at": expires_at,
            "success_url": params["success_url"],
            "cancel_url": params["cancel_url"],
            "payment_intent": None,
            "line_items_params": params["line_items"],
            "url": f"https://checkout.stripe.test/c/pay/{session_id}",
        }
        with self.lock:
            self.sessions[session_id] = session
        return 200, session

    def _send(self, handler, status: int, payload: dict, replay: bool = False) -> None:
        data = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("Request-Id", f"req_{secrets.token_hex(8)}")
        if replay:
            handler.send_header("Idempotent-Replayed", "true")
        handler.end_headers()
        handler.wfile.write(data)


def _error_body(status: int) -> dict:
    kinds = {
        402: ("card_error", "Your card was declined."),
        429: ("rate_limit_error", "Too many requests hit the API too quickly."),
    }
    kind, message = kinds.get(status, ("api_error", "Something went wrong on Stripe's end."))
    return {"error": {"type": kind, "message": message}}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111)
    args = parser.parse_args()
    double = StripeDouble(host=args.host, port=args.port).start()
    print(f"Stripe test double on {double.url}", flush=True)
    try:
        double.thread.join()
    except KeyboardInterrupt:
        double.stop()
