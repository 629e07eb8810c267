"""E-mail subscriptions through a real SMTP server (PyPI aiosmtpd) on loopback.

Starts the server binary given as the first argument with CALMROOM_SMTP_URL
pointing at an aiosmtpd server run here, then, as a reader and as the team:
  1. subscribes to one component on the public page and gets a confirmation
     mail (no unsubscribe header: there is nothing to leave yet);
  2. confirms through the link in it (a GET shows a button, the POST confirms);
  3. gets a customer-facing update of an incident affecting that component,
     with RFC 8058 List-Unsubscribe headers, and none of an incident affecting
     another component;
  4. unsubscribes in one click (a POST to the List-Unsubscribe address, the
     way mail clients do it) and gets nothing after that.
Every mail is parsed with Python's email package. Exits non-zero on failure.
"""

import email
import email.policy
import http.cookiejar
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from aiosmtpd.controller import Controller

SERVER = sys.argv[1]
SITE = sys.argv[2]
PORT = int(os.environ.get("CALMROOM_MAIL_PORT", "3118"))
SMTP_PORT = int(os.environ.get("CALMROOM_MAIL_SMTP_PORT", "2526"))
BASE = f"http://127.0.0.1:{PORT}"
READER = "reader@example.com"


def fail(message):
    print(f"mail: {message}", file=sys.stderr)
    sys.exit(1)


class Sink:
    """Keeps every message the server hands over, parsed."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), message))
        return "250 OK"

    def count(self):
        with self.lock:
            return len(self.messages)

    def wait_for(self, index, what, seconds=30):
        deadline = time.time() + seconds
        while time.time() < deadline:
            with self.lock:
                if len(self.messages) > index:
                    return self.messages[index]
            time.sleep(0.2)
        fail(f"no mail arrived: {what}")


jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))


def post(path, data, content_type="application/x-www-form-urlencoded"):
    body = data if isinstance(data, bytes) else urllib.parse.urlencode(data, doseq=True).encode()
    request = urllib.request.Request(BASE + path, data=body, headers={"content-type": content_type})
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def get(url):
    try:
        with opener.open(url, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def api(function, data):
    status, body = post(f"/api/{function}", data)
    if status != 200:
        fail(f"{function} answered {status}: {body}")
    return body


def publish(number, issue):
    values = {"issue": issue, "impact": "Some customers see errors.", "mitigation": "We are restoring service."}
    body = json.dumps({"number": number, "kind": "customer", "values": values, "confirm": True}).encode()
    status, answer = post("/api/publish_update", body, "application/json")
    if status != 200 or "Published" not in answer:
        fail(f"publishing answered {status}: {answer}")


def text_of(message):
    return message.get_body(preferencelist=("plain",)).get_content()


def main():
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=SMTP_PORT)
    controller.start()
    data = tempfile.mkdtemp()
    env = dict(
        os.environ,
        CALMROOM_DATA_DIR=data,
        CALMROOM_BIND=f"127.0.0.1:{PORT}",
        CALMROOM_BASE_URL=BASE,
        CALMROOM_SMTP_URL=f"smtp://127.0.0.1:{SMTP_PORT}",
        CALMROOM_MAIL_FROM="Example status <status@example.com>",
        CALMROOM_STATUS_TITLE="Example status",
        CALMROOM_ADMIN_EMAIL="ada@example.com",
        CALMROOM_ADMIN_PASSWORD="calm under pressure",
        CALMROOM_LOG="warn",
        LEPTOS_SITE_ROOT=SITE,
    )
    server = subprocess.Popen([SERVER], env=env)
    try:
        run(sink)
    finally:
        server.terminate()
        server.wait(timeout=30)
        controller.stop()


def run(sink):
    for _ in range(150):
        try:
            if get(BASE + "/healthz")[0] == 200:
                break
        except OSError:
            pass
        time.sleep(0.2)
    else:
        fail("the server did not start")

    api("sign_in", {"email": "ada@example.com", "password": "calm under pressure"})
    payments = api("add_component", {"name": "Payments API", "group_name": "", "description": ""}).strip()
    dashboard = api("add_component", {"name": "Dashboard", "group_name": "", "description": ""}).strip()

    status, page = get(BASE + "/status")
    if 'action="/status/subscribe"' not in page:
        fail("the status page offers no e-mail sign-up with SMTP configured")
    status, body = post("/status/subscribe", {"email": READER, "component": [payments]})
    if status != 200 or "Check your inbox" not in body:
        fail(f"signing up answered {status}: {body}")

    rcpt, confirm = sink.wait_for(0, "the confirmation")
    if rcpt != [READER] or "Confirm your subscription" not in confirm["Subject"]:
        fail(f"unexpected confirmation: {rcpt} {confirm['Subject']}")
    if confirm["List-Unsubscribe"] is not None:
        fail("a confirmation carries an unsubscribe header before there is anything to leave")
    if not confirm["Message-ID"]:
        fail("the confirmation has no Message-ID")
    link = re.search(r"(http://\S+/status/subscription/confirm\?token=[0-9a-f]{64})", text_of(confirm))
    if not link:
        fail(f"no confirmation link in: {text_of(confirm)}")
    status, shown = get(link.group(1))
    if status != 200 or "<button" not in shown:
        fail(f"the confirmation link answered {status}")
    token = urllib.parse.parse_qs(urllib.parse.urlparse(link.group(1)).query)["token"][0]
    status, body = post("/status/subscription/confirm", {"token": token})
    if status != 200 or "You are subscribed" not in body:
        fail(f"confirming answered {status}: {body}")
    print("mail: subscribed and confirmed through the mailed link")

    # Incident 1 affects what the reader follows; incident 2 does not.
    for number, component, title in [(1, payments, "Card payments failing"), (2, dashboard, "Dashboard slow")]:
        api("declare_incident", {"title": title, "severity": "sev2", "impact": "", "best_guess": ""})
        api("set_affected_component", {"number": number, "component_id": component, "status": "partial_outage"})
    publish(2, "Dashboard slow")
    publish(1, "Card payments failing")
    rcpt, update = sink.wait_for(1, "the update of the followed component")
    if "Card payments failing" not in update["Subject"]:
        fail(f"the first mail after confirming is not the followed incident's: {update['Subject']}")
    unsubscribe = update["List-Unsubscribe"]
    if not unsubscribe or not re.fullmatch(r"<http://\S+/status/unsubscribe\?token=[0-9a-f]{64}>", unsubscribe):
        fail(f"List-Unsubscribe is {unsubscribe!r}")
    if update["List-Unsubscribe-Post"] != "List-Unsubscribe=One-Click":
        fail(f"List-Unsubscribe-Post is {update['List-Unsubscribe-Post']!r}")
    body = text_of(update)
    for expected in ["Some customers see errors.", "UTC", "/status/subscription?token="]:
        if expected not in body:
            fail(f"the update mail lacks {expected!r}: {body}")
    print("mail: the followed component's update arrived with one-click unsubscribe headers")

    status, body = post(unsubscribe.strip("<>")[len(BASE):], b"List-Unsubscribe=One-Click")
    if status != 200 or "unsubscribed" not in body:
        fail(f"one-click unsubscribe answered {status}: {body}")
    before = sink.count()
    publish(1, "Card payments failing")
    time.sleep(8)  # more than the mail worker's poll
    if sink.count() != before:
        fail(f"mail arrived after unsubscribing: {sink.messages[before:]}")
    if any("Dashboard" in m["Subject"] for _, m in sink.messages):
        fail("a mail about a component the reader does not follow arrived")
    print("mail: nothing about the other component, and nothing after unsubscribing")


if __name__ == "__main__":
    main()
