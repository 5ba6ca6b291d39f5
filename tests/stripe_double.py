"""A local HTTP test double of the few Stripe API endpoints this project uses.

The real `stripe` SDK talks to it over HTTP (STRIPE_API_BASE), so tests exercise
the SDK's encoding, idempotency keys, retries and error mapping. It can be told to
fail (status codes, timeouts, dropped connections) for the next N requests, to answer
every request after a delay (`set_latency`: Stripe hundreds of milliseconds away), and
to hang (`hang`: connections are accepted and requests read, but nothing is answered
until the hang ends, after N seconds or when `end_hang` is called).

Run standalone for the bench or manual testing:  python -m tests.stripe_double --port 12111
[--latency 0.4]. A standalone double is steered over HTTP on paths Stripe does not have
(answered at once, never delayed, never recorded):
    POST /_double/latency  seconds=0.4     every answer from now on waits 0.4 s
    POST /_double/hang     seconds=15      hang for 15 s (no seconds: until /_double/end_hang)
    POST /_double/end_hang                 answer the held requests now
    GET  /_double/state                    {"latency": ..., "hang_left": ..., "held": ..., "requests": ...}
"""

import argparse
import json
import math
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit


_IN_PROGRESS = object()  # an idempotency key whose first request is still being answered


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
    lost_answer: bool = False  # do what was asked, then answer with the fault: the client never learns it was done
    method: str | None = None  # only requests of this method (None: any)
    skip: int = 0  # matching requests answered as usual before the fault starts


@dataclass
class StripeDouble:
    host: str = "127.0.0.1"
    port: int = 0
    sessions: dict = field(default_factory=dict)
    refunds: dict = field(default_factory=dict)
    coupons: dict = field(default_factory=dict)
    customers: dict = field(default_factory=dict)
    invoices: dict = field(default_factory=dict)
    invoice_items: dict = field(default_factory=dict)
    intents: dict = field(default_factory=dict)  # PaymentIntent id -> amount captured
    requests: list = field(default_factory=list)
    faults: list = field(default_factory=list)
    idempotent: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    latency: float = 0.0  # seconds every request waits before it is answered
    # Where Checkout Session urls point. A browser test sets Stripe's real host: the site's CSP (form-action) lets a
    # form's redirect go only there, and the test answers that address itself (the browser cannot reach Stripe).
    checkout_host: str = "checkout.stripe.test"
    hang_until: float | None = None  # time.monotonic() when the hang ends; math.inf: until end_hang()
    hang_method: str | None = None  # only requests of this method hang (None: all)
    hang_after_doing: bool = False  # carry each request out, then hold its answer (Stripe did it; the answer waits)
    held: int = 0  # requests waiting for a hang to end
    _hang_over: threading.Event = field(default_factory=threading.Event)

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

            def handle_one_request(self):
                try:
                    super().handle_one_request()
                except (BrokenPipeError, ConnectionResetError):
                    # The client gave up waiting (its timeout during a hang); nothing to answer.
                    self.close_connection = True

            def do_POST(self):
                double._handle(self, "POST")

        self.server = ThreadingHTTPServer((self.host, self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.end_hang()
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def reset(self) -> None:
        with self.lock:
            self.sessions.clear()
            self.refunds.clear()
            self.coupons.clear()
            self.customers.clear()
            self.invoices.clear()
            self.invoice_items.clear()
            self.intents.clear()
            self.requests.clear()
            self.faults.clear()
            self.idempotent.clear()
            self.latency = 0.0
            self.checkout_host = "checkout.stripe.test"
        self.end_hang()

    def set_latency(self, seconds: float) -> None:
        """Answer every request `seconds` late, as a Stripe far away does."""
        with self.lock:
            self.latency = max(float(seconds), 0.0)

    def hang(self, seconds: float | None = None, method: str | None = None, after_doing: bool = False) -> None:
        """Accept connections and read requests but answer none (of `method` only, when given) until the hang ends;
        with `after_doing`, each request is carried out at once and only its answer is held.

        After `seconds` (or at end_hang() when None) the held requests are answered as usual,
        late: a client that gave up meanwhile finds its connection answered into the void.
        """
        with self.lock:
            self.hang_until = time.monotonic() + seconds if seconds is not None else math.inf
            self.hang_method, self.hang_after_doing = method, after_doing
            self._hang_over.clear()

    def end_hang(self) -> None:
        with self.lock:
            self.hang_until = None
            self._hang_over.set()

    def state(self) -> dict:
        with self.lock:
            if self.hang_until is not None and self.hang_until <= time.monotonic():
                self.hang_until = None  # over, even if no request arrived while it lasted
            hang_left = None
            if self.hang_until is not None:
                hang_left = "until ended" if self.hang_until == math.inf else self.hang_until - time.monotonic()
            return {"latency": self.latency, "hang_left": hang_left, "held": self.held, "requests": len(self.requests)}

    def _wait_like_the_network(self, method: str) -> None:
        with self.lock:
            latency, hangs = self.latency, self.hang_method in (None, method)
        if latency:
            time.sleep(latency)
        if not hangs:
            return
        with self.lock:
            self.held += 1
        try:
            while True:
                with self.lock:
                    until = self.hang_until
                    if until is None:
                        return
                    left = until - time.monotonic()
                    if left <= 0:
                        self.hang_until = None
                        self._hang_over.set()
                        return
                self._hang_over.wait(min(left, 3600))
        finally:
            with self.lock:
                self.held -= 1

    def fail_next(
        self, status: int = 500, times: int = 1, path_prefix: str = "", delay: float = 0.0, lost_answer: bool = False,
        method: str | None = None, skip: int = 0,
    ) -> None:
        """The next `times` requests under `path_prefix` (of `method`, when given) fail with `status` (0 drops the
        connection, -1 hangs past the client's timeout); with `lost_answer`, each is carried out first, as when
        Stripe's answer is lost; with `skip`, that many such requests are answered as usual first."""
        with self.lock:
            self.faults.append(Fault(status=status, times=times, path_prefix=path_prefix, delay=delay,
                                     lost_answer=lost_answer, method=method, skip=skip))

    # Test-side actions that stand for what a buyer does on Stripe's page.
    def pay(self, session_id: str) -> dict:
        with self.lock:
            session = self.sessions[session_id]
            intent = session.get("payment_intent") or f"pi_{secrets.token_hex(12)}"
            session.update(status="complete", payment_status="paid", payment_intent=intent)
            self.intents[intent] = session["amount_total"]
            return dict(session)

    def start_delayed_payment(self, session_id: str) -> dict:
        """The buyer finishes Checkout with a bank debit: the session completes, the money is still on its way."""
        with self.lock:
            session = self.sessions[session_id]
            session.update(status="complete", payment_status="unpaid", payment_intent=f"pi_{secrets.token_hex(12)}")
            return dict(session)

    def refund_in_dashboard(self, payment_intent: str, amount: int) -> dict:
        """Staff refund part of a charge by hand in Stripe's dashboard; returns the charge as `charge.refunded` shows it."""
        with self.lock:
            refund = {"id": f"re_{secrets.token_hex(12)}", "object": "refund", "amount": amount,
                      "payment_intent": payment_intent, "metadata": {}, "status": "succeeded"}
            self.refunds[refund["id"]] = refund
            return self._charge(payment_intent)

    def fail_refund(self, refund_id: str, reason: str = "expired_or_canceled_card") -> dict:
        """The card a refund went to was closed: the refund fails and its money comes back to the balance (the charge
        no longer counts it). Returns the refund as `refund.failed` shows it."""
        with self.lock:
            refund = self.refunds[refund_id]
            refund.update(status="failed", failure_reason=reason)
            return dict(refund)

    def charge(self, payment_intent: str) -> dict:
        with self.lock:
            return self._charge(payment_intent)

    def _charge(self, payment_intent: str) -> dict:
        refunded = self._refunded(payment_intent)
        amount = self.intents.get(payment_intent, refunded)
        return {"id": f"ch_{payment_intent.removeprefix('pi_')}", "object": "charge", "payment_intent": payment_intent,
                "amount": amount, "amount_refunded": refunded, "refunded": refunded >= amount, "currency": "usd"}

    def _refunded(self, payment_intent: str) -> int:
        """What a charge counts as refunded: every refund taken out of it that has not failed."""
        return sum(r["amount"] for r in self.refunds.values() if r["payment_intent"] == payment_intent and r["status"] != "failed")

    def pay_invoice(self, invoice_id: str) -> dict:
        """The district pays on Stripe's hosted invoice page (card or bank transfer)."""
        with self.lock:
            invoice = self.invoices[invoice_id]
            assert invoice["status"] == "open", f"cannot pay a {invoice['status']} invoice"
            intent = f"pi_{secrets.token_hex(12)}"
            _mark_invoice_paid(invoice, payment_intent=intent)
            self.intents[intent] = invoice["amount_paid"]
            return _invoice_view(invoice)

    def void_invoice(self, invoice_id: str) -> dict:
        """Staff void the invoice in Stripe's dashboard."""
        with self.lock:
            invoice = self.invoices[invoice_id]
            assert invoice["status"] in ("open", "uncollectible"), f"cannot void a {invoice['status']} invoice"
            invoice["status"] = "void"
            invoice["status_transitions"]["voided_at"] = int(time.time())
            return _invoice_view(invoice)

    def mark_invoice_uncollectible(self, invoice_id: str) -> dict:
        """Staff write the invoice off in Stripe's dashboard."""
        with self.lock:
            invoice = self.invoices[invoice_id]
            assert invoice["status"] == "open", f"cannot write off a {invoice['status']} invoice"
            invoice["status"] = "uncollectible"
            invoice["status_transitions"]["marked_uncollectible_at"] = int(time.time())
            return _invoice_view(invoice)

    def invoice(self, invoice_id: str) -> dict:
        with self.lock:
            return _invoice_view(self.invoices[invoice_id], with_payments=True)

    def requests_to(self, method: str, path_prefix: str) -> list[dict]:
        return [r for r in self.requests if r["method"] == method and r["path"].startswith(path_prefix)]

    # --- HTTP handling -------------------------------------------------------
    def _take_fault(self, path: str, method: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and path.startswith(fault.path_prefix) and fault.method in (None, method):
                    if fault.skip > 0:
                        fault.skip -= 1
                        return None
                    fault.times -= 1
                    return fault
        return None

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length).decode() if length else ""
        path = urlsplit(handler.path).path
        params = decode_form(body or urlsplit(handler.path).query)  # GET parameters (expand[]) ride in the query
        if path.startswith("/_double/"):
            return self._control(handler, method, path, params)
        key = handler.headers.get("Idempotency-Key")
        with self.lock:
            self.requests.append(
                {"method": method, "path": path, "params": params, "idempotency_key": key,
                 "authorization": handler.headers.get("Authorization", "")}
            )
        with self.lock:
            after_doing = self.hang_after_doing
        if not after_doing:
            self._wait_like_the_network(method)
        fault = self._take_fault(path, method)
        if fault is not None and method == "POST" and key and 400 <= fault.status < 500 and fault.status not in (409, 429):
            with self.lock:
                answered = self.idempotent.get(key) not in (None, _IN_PROGRESS)
            if answered:  # Stripe replays a key's first answer; it does not refuse the request afresh
                fault = None
        if fault is not None and not fault.lost_answer:
            return self._answer_with(handler, fault)
        if not handler.headers.get("Authorization", "").startswith("Bearer sk_"):
            return self._send(handler, 401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key"}})
        if method == "POST" and key:
            with self.lock:
                cached = self.idempotent.get(key)
                if cached is None:
                    self.idempotent[key] = _IN_PROGRESS
            if cached is _IN_PROGRESS:
                # As Stripe does: a second request with a key whose first request is still running.
                return self._send(handler, 409, {"error": {"type": "idempotency_error", "message": "There is currently another in-progress request using this Stripe-Idempotency-Key. Please try again later."}})
            if cached is not None:
                if cached[0] != (path, body):
                    return self._send(handler, 400, {"error": {"type": "idempotency_error", "message": "Keys for idempotent requests can only be used with the same parameters they were first used with."}})
                return self._send(handler, cached[1], cached[2], replay=True)
        status, payload = 500, _error_body(500)
        try:
            status, payload = self._route(method, path, params)
        finally:
            if method == "POST" and key:
                with self.lock:
                    if status < 500:
                        self.idempotent[key] = ((path, body), status, payload)
                    else:
                        self.idempotent.pop(key, None)
        if after_doing:
            self._wait_like_the_network(method)
        if fault is not None:  # done, and the answer lost on its way back
            return self._answer_with(handler, fault)
        self._send(handler, status, payload)

    def _answer_with(self, handler: BaseHTTPRequestHandler, fault: Fault) -> None:
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
        self._send(handler, fault.status, _error_body(fault.status))

    def _control(self, handler, method: str, path: str, params: dict) -> None:
        """Steer a standalone double (the bench): not Stripe's API, so never delayed or recorded."""
        seconds = float(params["seconds"]) if params.get("seconds") not in (None, "") else None
        if method == "POST" and path == "/_double/latency" and seconds is not None:
            self.set_latency(seconds)
        elif method == "POST" and path == "/_double/hang":
            self.hang(seconds)
        elif method == "POST" and path == "/_double/end_hang":
            self.end_hang()
        elif not (method == "GET" and path == "/_double/state"):
            return self._send(handler, 404, {"error": {"message": f"No such control: {method} {path}"}})
        self._send(handler, 200, self.state())

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
        if method == "POST" and path == "/v1/coupons":
            if not params.get("amount_off") and not params.get("percent_off"):
                return 400, {"error": {"type": "invalid_request_error", "message": "Coupons need amount_off or percent_off."}}
            coupon = {
                "id": f"coupon_{secrets.token_hex(6)}",
                "object": "coupon",
                "amount_off": int(params["amount_off"]) if params.get("amount_off") else None,
                "percent_off": float(params["percent_off"]) if params.get("percent_off") else None,
                "currency": params.get("currency"),
                "duration": params.get("duration", "once"),
                "max_redemptions": int(params["max_redemptions"]) if params.get("max_redemptions") else None,
                "name": params.get("name"),
            }
            with self.lock:
                self.coupons[coupon["id"]] = coupon
            return 200, coupon
        if path.startswith(("/v1/customers", "/v1/invoices", "/v1/invoiceitems")):
            with self.lock:
                return self._route_invoicing(method, path, params)
        if method == "GET" and path == "/v1/refunds":
            return self._list_refunds(params)
        if method == "POST" and path == "/v1/refunds":
            intent, amount = params.get("payment_intent"), int(params.get("amount", 0))
            with self.lock:
                captured = self.intents.get(intent)
                refunded = self._refunded(intent)
            if captured is not None and refunded + amount > captured:
                # As Stripe answers: a refund can never exceed what is left of the charge.
                return _invalid(
                    f"Refund amount ({amount}) is greater than unrefunded amount on charge ({captured - refunded})", "amount"
                )
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

    def _list_refunds(self, params: dict) -> tuple[int, dict]:
        """As Stripe lists them: newest first, `limit` (1-100) at a time, the next page from `starting_after`."""
        limit = int(params.get("limit") or 10)
        if not 1 <= limit <= 100:
            return _invalid("This value must be between 1 and 100.", "limit")
        with self.lock:
            found = [dict(r) for r in reversed(self.refunds.values())
                     if not params.get("payment_intent") or r["payment_intent"] == params["payment_intent"]]
        if params.get("starting_after"):
            ids = [r["id"] for r in found]
            found = found[ids.index(params["starting_after"]) + 1:] if params["starting_after"] in ids else []
        return 200, {"object": "list", "url": "/v1/refunds", "has_more": len(found) > limit, "data": found[:limit]}

    def _create_session(self, params: dict) -> tuple[int, dict]:
        required = ("mode", "line_items", "success_url", "cancel_url")
        missing = [k for k in required if k not in params]
        if missing:
            return 400, {"error": {"type": "invalid_request_error", "message": f"Missing required param: {missing[0]}."}}
        expires_at = int(params.get("expires_at", time.time() + 86400))
        if expires_at < time.time() + 30 * 60 - 5:
            return 400, {"error": {"type": "invalid_request_error", "param": "expires_at", "message": "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation."}}
        amount = sum(int(item["quantity"]) * int(item["price_data"]["unit_amount"]) for item in params["line_items"])
        for discount in params.get("discounts", []):
            with self.lock:
                coupon = self.coupons.get(discount.get("coupon"))
            if coupon is None:
                return 400, {"error": {"type": "invalid_request_error", "param": "discounts", "message": "No such coupon."}}
            off = coupon["amount_off"] or round(amount * coupon["percent_off"] / 100)
            amount = max(amount - off, 0)
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
            "url": f"https://{self.checkout_host}/c/pay/{session_id}",
        }
        with self.lock:
            self.sessions[session_id] = session
        return 200, session

    # --- Customers, invoice items and invoices (called with the lock held) ---------------
    def _route_invoicing(self, method: str, path: str, params: dict) -> tuple[int, dict]:
        if method == "POST" and path == "/v1/customers":
            return self._create_customer(params)
        if method == "POST" and path == "/v1/invoiceitems":
            return self._create_invoice_item(params)
        if method == "POST" and path == "/v1/invoices":
            return self._create_invoice(params)
        match = re.fullmatch(r"/v1/invoices/([^/]+)(?:/(finalize|send|pay|void))?", path)
        if match is None:
            return 404, {"error": {"type": "invalid_request_error", "message": f"Unrecognized request URL ({method} {path})."}}
        invoice = self.invoices.get(match.group(1))
        if invoice is None:
            return _missing("invoice", match.group(1))
        action = match.group(2)
        if method == "GET" and action is None:
            return 200, _invoice_view(invoice, with_payments="payments" in (params.get("expand") or []))
        if method != "POST" or action is None:
            return 404, {"error": {"type": "invalid_request_error", "message": f"Unrecognized request URL ({method} {path})."}}
        status = invoice["status"]
        if action == "finalize":
            if status != "draft":
                return _invalid("This invoice is already finalized, you can't re-finalize a non-draft invoice.")
            self._finalize(invoice)
        elif action == "send":
            if invoice["collection_method"] != "send_invoice":
                return _invalid("You can only manually send an invoice if its collection method is 'send_invoice'.")
            if status == "draft":
                self._finalize(invoice)
            elif status not in ("open", "paid"):
                return _invalid(f"You can't send a {status} invoice.")
            invoice["sent_count"] += 1
        elif action == "pay":
            if status != "open":
                return _invalid(f"Invoice is already {status}." if status in ("paid", "void") else f"You can't pay a {status} invoice.")
            if params.get("paid_out_of_band") != "true":
                return 402, {"error": {"type": "card_error", "code": "invoice_no_customer_payment_method",
                                       "message": "This customer has no attached payment source or default payment method."}}
            _mark_invoice_paid(invoice, payment_intent=None)
        elif action == "void":
            if status not in ("open", "uncollectible"):
                return _invalid(f"You can only pass in open or uncollectible invoices; this one is {status}.")
            invoice["status"] = "void"
            invoice["status_transitions"]["voided_at"] = int(time.time())
        return 200, _invoice_view(invoice)

    def _create_customer(self, params: dict) -> tuple[int, dict]:
        address = params.get("address") or {}
        if not isinstance(address, dict):
            return _invalid("Invalid object", param="address")
        unknown = set(address) - {"line1", "line2", "city", "state", "postal_code", "country"}
        if unknown:
            return _invalid(f"Received unknown parameter: address[{sorted(unknown)[0]}]", param="address")
        customer = {
            "id": f"cus_{secrets.token_hex(8)}",
            "object": "customer",
            "email": params.get("email"),
            "name": params.get("name"),
            "address": address or None,
            "metadata": params.get("metadata", {}),
        }
        self.customers[customer["id"]] = customer
        return 200, customer

    def _create_invoice(self, params: dict) -> tuple[int, dict]:
        customer = params.get("customer")
        if not customer:
            return _invalid("Missing required param: customer.", param="customer")
        if customer not in self.customers:
            return _missing("customer", customer, param="customer")
        method = params.get("collection_method", "charge_automatically")
        if method not in ("charge_automatically", "send_invoice"):
            return _invalid(f"Invalid collection_method: {method}", param="collection_method")
        if method == "send_invoice" and "days_until_due" not in params and "due_date" not in params:
            return _invalid("Invoices with collection_method=send_invoice need days_until_due or due_date.", param="days_until_due")
        if method == "charge_automatically" and "days_until_due" in params:
            return _invalid("days_until_due can only be set when collection_method=send_invoice.", param="days_until_due")
        fields = params.get("custom_fields") or []
        if len(fields) > 4:
            return _invalid("You can only have up to 4 custom fields.", param="custom_fields")
        for item in fields:
            if not isinstance(item, dict) or not item.get("name") or not item.get("value"):
                return _invalid("Custom fields need a name and a value.", param="custom_fields")
            if len(item["name"]) > 40 or len(item["value"]) > 140:
                return _invalid("Custom field names are at most 40 characters and values at most 140.", param="custom_fields")
        invoice_id = f"in_{secrets.token_hex(12)}"
        invoice = {
            "id": invoice_id,
            "object": "invoice",
            "customer": customer,
            "collection_method": method,
            "days_until_due": int(params["days_until_due"]) if "days_until_due" in params else None,
            "due_date": int(params["due_date"]) if "due_date" in params else None,
            "currency": params.get("currency", "usd"),
            "custom_fields": fields or None,
            "description": params.get("description"),
            "footer": params.get("footer"),
            "metadata": params.get("metadata", {}),
            "auto_advance": params.get("auto_advance", "false") == "true",
            "status": "draft",
            "number": None,
            "hosted_invoice_url": None,
            "amount_due": 0,
            "amount_paid": 0,
            "paid_out_of_band": False,
            "amount_remaining": 0,
            "total": 0,
            "lines": [],
            "status_transitions": {"finalized_at": None, "paid_at": None, "voided_at": None, "marked_uncollectible_at": None},
            "payments_data": [],
            "sent_count": 0,
        }
        self.invoices[invoice_id] = invoice
        return 200, _invoice_view(invoice)

    def _create_invoice_item(self, params: dict) -> tuple[int, dict]:
        customer = params.get("customer")
        if not customer:
            return _invalid("Missing required param: customer.", param="customer")
        if customer not in self.customers:
            return _missing("customer", customer, param="customer")
        if "unit_amount" in params:
            return _invalid("Received unknown parameter: unit_amount. Did you mean unit_amount_decimal?", param="unit_amount")
        priced = [k for k in ("amount", "unit_amount_decimal", "price_data", "pricing") if k in params]
        if not priced:
            return _invalid("You must specify either `amount`, `unit_amount_decimal`, `price_data` or `pricing`.")
        if len(priced) > 1:
            return _invalid(f"You may only specify one of these parameters: {', '.join(priced)}.")
        if "price_data" in params and "product" not in params["price_data"]:
            return _invalid("Missing required param: price_data[product].", param="price_data[product]")
        if ("amount" in params or "unit_amount_decimal" in params) and not params.get("currency"):
            return _invalid("Missing required param: currency.", param="currency")
        if "amount" in params and "quantity" in params:
            return _invalid("When passing `amount`, `quantity` cannot be set; use `unit_amount_decimal`.", param="quantity")
        quantity = int(params.get("quantity", 1))
        if quantity < 0:
            return _invalid("Quantity must be a non-negative integer.", param="quantity")
        if "amount" in params:
            amount = int(params["amount"])
        elif "unit_amount_decimal" in params:
            amount = int(Decimal(params["unit_amount_decimal"]) * quantity)
        else:
            amount = int(params["price_data"].get("unit_amount", 0)) * quantity
        invoice_id = params.get("invoice")
        invoice = None
        if invoice_id:
            invoice = self.invoices.get(invoice_id)
            if invoice is None:
                return _missing("invoice", invoice_id, param="invoice")
            if invoice["status"] != "draft":
                return _invalid("You can only add invoice items to draft invoices.", param="invoice")
            if invoice["customer"] != customer:
                return _invalid("The invoice item's customer must match the invoice's customer.", param="customer")
        item = {
            "id": f"ii_{secrets.token_hex(12)}",
            "object": "invoiceitem",
            "customer": customer,
            "invoice": invoice_id,
            "amount": amount,
            "quantity": quantity,
            "unit_amount_decimal": params.get("unit_amount_decimal"),
            "currency": params.get("currency"),
            "description": params.get("description"),
            "metadata": params.get("metadata", {}),
        }
        self.invoice_items[item["id"]] = item
        if invoice is not None:
            invoice["lines"].append(item)
            invoice["total"] += amount
            invoice["amount_due"] = invoice["amount_remaining"] = invoice["total"]
        return 200, item

    def _finalize(self, invoice: dict) -> None:
        now = int(time.time())
        invoice["status"] = "open"
        invoice["number"] = f"DBL-{sum(1 for i in self.invoices.values() if i['number']) + 1:04d}"
        invoice["hosted_invoice_url"] = f"https://invoice.stripe.test/i/{invoice['id']}"
        invoice["status_transitions"]["finalized_at"] = now
        if invoice["due_date"] is None and invoice["days_until_due"] is not None:
            invoice["due_date"] = now + invoice["days_until_due"] * 86400

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


def _invalid(message: str, param: str | None = None) -> tuple[int, dict]:
    error = {"type": "invalid_request_error", "message": message}
    if param:
        error["param"] = param
    return 400, {"error": error}


def _missing(kind: str, object_id: str, param: str | None = None) -> tuple[int, dict]:
    error = {"type": "invalid_request_error", "code": "resource_missing", "message": f"No such {kind}: '{object_id}'"}
    if param:
        error["param"] = param
    return 404, {"error": error}


def _mark_invoice_paid(invoice: dict, *, payment_intent: str | None) -> None:
    invoice["status"] = "paid"
    invoice["paid_out_of_band"] = payment_intent is None
    invoice["amount_paid"] = invoice["amount_due"]
    invoice["amount_remaining"] = 0
    invoice["status_transitions"]["paid_at"] = int(time.time())
    payment = {"type": "payment_intent", "payment_intent": payment_intent} if payment_intent else {"type": "out_of_band"}
    invoice["payments_data"].append(
        {"id": f"inpay_{secrets.token_hex(8)}", "object": "invoice_payment", "status": "paid",
         "amount_paid": invoice["amount_due"], "payment": payment}
    )


def _invoice_view(invoice: dict, *, with_payments: bool = False) -> dict:
    """The invoice as the API shows it; `payments` appears only when expanded, as in Stripe."""
    view = {k: v for k, v in invoice.items() if k not in ("payments_data", "lines", "sent_count")}
    view["lines"] = {"object": "list", "data": [dict(line) for line in invoice["lines"]], "has_more": False}
    view["status_transitions"] = dict(invoice["status_transitions"])
    if with_payments:
        view["payments"] = {"object": "list", "data": [dict(p) for p in invoice["payments_data"]], "has_more": False}
    return view


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
    parser.add_argument("--latency", type=float, default=0.0, help="seconds every answer waits (Stripe far away)")
    args = parser.parse_args()
    double = StripeDouble(host=args.host, port=args.port, latency=args.latency).start()
    print(f"Stripe test double on {double.url} (latency {args.latency:g} s)", flush=True)
    try:
        double.thread.join()
    except KeyboardInterrupt:
        double.stop()
