"""The web console in a real browser (headless Chromium driven by Playwright).

Started by scripts/browser-test, which provides Playwright and Chromium; reads
DATABASE_URL (a PostgreSQL server it may create databases on) and BIN (the folder of
ocpp-worker, ocpp-gateway and ocpp-sim). It starts a worker and a gateway on free
ports against a fresh database, drives the console through sign-in, the fleet page,
a station's live status change caused by ocpp-sim (its row, the counts, and the
"new or changed stations" notice of a page it was not on), sending a command and seeing its
answer, the message log and its download, a transaction's charts, CSV exports, id
tags, a worker restart under an open page, and sign-out; then stops everything and
drops the database. Every check asserts on what the page shows.

    python3 scripts/browser-test.py [--screenshots docs/console]
"""

import argparse
import csv
import io
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

from playwright.sync_api import expect, sync_playwright

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
LIVE_LIMIT_MS = 2000


def say(message):
    print(f"browser-test: {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def psql(url, sql):
    out = subprocess.run(["psql", url, "-AtXq", "-v", "ON_ERROR_STOP=1", "-c", sql],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def database_url(base, name):
    parts = urllib.parse.urlsplit(base)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


def wait_http(url, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.2)
    raise SystemExit(f"browser-test: {url} did not answer 200 within {seconds} s")


class System:
    """A worker and a gateway on a fresh database, and the simulated stations."""

    def __init__(self, bin_dir, base_url, logs):
        self.bin = bin_dir
        self.logs = logs
        self.database = "console_browser_" + secrets.token_hex(4)
        self.admin_url = database_url(base_url, "postgres")
        self.url = database_url(base_url, self.database)
        self.token = "browser-test-" + secrets.token_hex(12)
        self.admin_port = free_port()
        self.worker_port = free_port()
        self.gateway_port = free_port()
        self.processes = {}
        psql(self.admin_url, f"CREATE DATABASE {self.database}")
        subprocess.run([f"{self.bin}/ocpp-worker", "migrate"], check=True, env=self.env(),
                       stdout=subprocess.DEVNULL, stderr=open(f"{logs}/migrate.log", "w"))

    def env(self, **extra):
        env = dict(os.environ, DATABASE_URL=self.url, LOG_LEVEL="warning")
        env.update(extra)
        return env

    def start(self, name, argv, **env):
        log = open(f"{self.logs}/{name}.log", "a")
        self.processes[name] = subprocess.Popen(argv, env=self.env(**env), stdout=log, stderr=log,
                                                stdin=subprocess.DEVNULL)
        return self.processes[name]

    def start_worker(self):
        self.start("worker", [f"{self.bin}/ocpp-worker", "run"], OCPP_MIGRATE="false",
                   OCPP_ADMIN_TOKEN=self.token, OCPP_ADMIN_HOST="127.0.0.1", OCPP_ADMIN_PORT=str(self.admin_port),
                   OCPP_WORKER_HOST="127.0.0.1", OCPP_WORKER_PORT=str(self.worker_port))
        wait_http(f"http://127.0.0.1:{self.worker_port}/readyz")
        wait_http(f"http://127.0.0.1:{self.admin_port}/sign-in")

    def start_gateway(self):
        self.start("gateway", [f"{self.bin}/ocpp-gateway"], OCPP_HOST="127.0.0.1",
                   OCPP_PORT=str(self.gateway_port), OCPP_AUTH="insecure-none", OCPP_REGISTRATION="open",
                   OCPP_AUTHORIZATION="open")
        wait_http(f"http://127.0.0.1:{self.gateway_port}/readyz")

    def stop(self, name, timeout=20):
        process = self.processes.pop(name, None)
        if process and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                raise SystemExit(f"browser-test: {name} did not stop within {timeout} s of SIGTERM")

    def station(self, identity, *flags):
        url = f"ws://127.0.0.1:{self.gateway_port}/ocpp/{identity}"
        return self.start(f"sim-{identity}", [f"{self.bin}/ocpp-sim", "station", url, *flags])

    @property
    def console(self):
        return f"http://127.0.0.1:{self.admin_port}"

    def api(self, method, path, body=None):
        request = urllib.request.Request(
            self.console + path, method=method, data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as reply:
            return json.loads(reply.read() or b"null")

    def close(self):
        for name in list(self.processes):
            try:
                self.stop(name)
            except SystemExit as error:
                say(str(error))
        try:
            psql(self.admin_url, f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)")
        except subprocess.CalledProcessError as error:
            say(f"could not drop {self.database}: {error.stderr}")


def status_received_ms(system, identity, connector, status):
    """When the gateway received the station's StatusNotification (epoch ms)."""
    value = psql(system.url, f"""
        SELECT (extract(epoch FROM max(i.received_at)) * 1000)::bigint FROM ocpp.inbox AS i
        JOIN ocpp.stations AS s ON s.id = i.station_id
        WHERE s.identity = '{identity}' AND i.action = 'StatusNotification'
          AND i.payload::jsonb->>'status' = '{status}' AND (i.payload::jsonb->>'connectorId')::int = {connector}""")
    if not value:
        raise AssertionError(f"no StatusNotification {status} of {identity} connector {connector} in the journal")
    return int(value)


def assert_live_within_limit(page, system, identity, connector, status):
    updated = page.evaluate(f"window.liveSeen['{identity}:{connector}:{status}']")
    assert updated, f"{identity} connector {connector} {status} never came as a live event"
    received = status_received_ms(system, identity, connector, status)
    delay = updated - received
    say(f"{identity} connector {connector} {status}: on the page {delay} ms after the gateway received it")
    assert delay <= LIVE_LIMIT_MS, f"live update took {delay} ms (limit {LIVE_LIMIT_MS} ms)"


def reload_until(page, locator, text, seconds=15):
    """Reloads until `locator` holds `text`: for what the worker applies after the
    station was answered (the page itself is not live there)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if locator.count() and text in locator.first.inner_text():
            return
        time.sleep(0.25)
        page.reload()
    expect(locator.first).to_contain_text(text)


def run(system, screenshots):
    def shot(page, name, full_page=True):
        if screenshots:
            page.screenshot(path=os.path.join(screenshots, f"{name}.png"), full_page=full_page)

    # A station the operator registered before it ever connected: offline on the fleet page.
    system.api("POST", "/api/v1/stations", {"identity": "CP-LIVE-1", "registrationStatus": "Accepted"})
    for number in range(2, 6):
        system.api("POST", "/api/v1/stations", {"identity": f"CP-FLEET-{number}", "registrationStatus": "Pending"})

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        page = context.new_page()
        page.set_default_timeout(10_000)

        say("sign-in: a page asked for without a session goes to the sign-in form")
        page.goto(system.console + "/stations")
        expect(page).to_have_url(system.console + "/sign-in?next=%2Fstations")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        page.fill("input[name=token]", "not-the-token-0123456789")
        page.click("button[type=submit]")
        expect(page.get_by_role("alert")).to_have_text("That is not the admin token.")
        shot(page, "sign-in")
        page.fill("input[name=token]", system.token)
        page.click("button[type=submit]")
        expect(page).to_have_url(system.console + "/stations")
        cookie = next(c for c in context.cookies() if c["name"] == "ocpp_console")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict", cookie
        assert system.token not in cookie["value"], "the admin token must not be in the cookie"

        say("fleet: every station, its state, the counts, filter and search")
        row = page.locator('tr:has(a:text-is("CP-LIVE-1"))')
        expect(row.locator('[data-field="online"]')).to_have_text("offline")
        expect(row.locator('[data-field="registration"]')).to_have_text("Accepted")
        expect(page.locator("#counts")).to_contain_text("5 stations")
        expect(page.locator("#counts")).to_contain_text("5 offline")
        page.fill("input[name=q]", "CP-FLEET")
        page.click("form.filters button[type=submit]")
        expect(page.locator("tbody tr")).to_have_count(4)
        expect(page.locator("tbody")).not_to_contain_text("CP-LIVE-1")
        page.goto(system.console + "/stations")
        expect(page.locator("body")).to_have_attribute("data-live", "open")
        expect(page.locator("#counts")).to_contain_text("0 online")
        # A second fleet page filtered to online stations: none yet.
        filtered = context.new_page()
        filtered.set_default_timeout(10_000)
        filtered.goto(system.console + "/stations?online=online")
        expect(filtered.locator("tbody")).to_contain_text("No station matches.")
        expect(filtered.locator("body")).to_have_attribute("data-live", "open")
        expect(filtered.locator("#fleet-notice")).to_be_hidden()
        filtered.evaluate("window.notReloaded = true")

        say("fleet, live: ocpp-sim connects CP-LIVE-1; its row and the counts change without a reload")
        page.evaluate("window.notReloaded = true")
        system.station("CP-LIVE-1", "--connectors", "2")
        expect(row.locator('[data-field="online"]')).to_have_text("online")
        expect(row.locator('[data-connector="1"]')).to_have_text("#1 Available · NoError")
        expect(row.locator('[data-connector="2"]')).to_have_text("#2 Available · NoError")
        assert_live_within_limit(page, system, "CP-LIVE-1", 2, "Available")
        # The counts at the top follow (read once per burst of notices, within 2 s).
        counts = page.locator("#counts")
        expect(counts).to_contain_text("1 online", timeout=2_000)
        expect(counts).to_contain_text("4 offline", timeout=2_000)
        expect(counts).to_contain_text("Available: 2", timeout=2_000)
        assert page.evaluate("window.notReloaded === true"), "the page was reloaded"

        say("fleet, live: the online-only page was empty; it says a station would now be on it")
        notice = filtered.locator("#fleet-notice")
        expect(notice).to_have_text("1 new or changed station — reload", timeout=2_000)
        expect(filtered.locator("#counts")).to_contain_text("1 online", timeout=2_000)
        assert filtered.evaluate("window.notReloaded === true"), "the filtered page was reloaded"
        notice.get_by_role("link", name="reload").click()
        expect(filtered.locator('tr:has(a:text-is("CP-LIVE-1")) [data-field="online"]')).to_have_text("online")
        expect(filtered.locator("#fleet-notice")).to_be_hidden()
        filtered.close()
        page.reload()
        expect(page.locator("#counts")).to_contain_text("1 online")
        expect(page.locator("#counts")).to_contain_text("Available: 2")
        shot(page, "fleet")

        say("station page: connectors, sections, live connector status")
        station = context.new_page()
        station.set_default_timeout(10_000)
        station.goto(system.console + "/stations/CP-LIVE-1")
        expect(station.get_by_role("heading", name="Station CP-LIVE-1")).to_be_visible()
        expect(station.locator('tbody[data-field="connectorRows"] tr[data-connector="1"]')).to_contain_text("Available")
        for heading in ["Open transactions", "Configuration (as last read)", "Reservations", "Events", "Message log"]:
            expect(station.get_by_role("heading", name=heading)).to_be_visible()
        expect(station.locator("table.events")).to_contain_text('"status" : "Available"')
        expect(station.locator("table.messages")).to_contain_text("BootNotification")
        expect(station.locator("body")).to_have_attribute("data-live", "open")
        station.evaluate("window.notReloaded = true")

        say("send a command: a field error from the API's rules, then ChangeAvailability answered")
        page.goto(system.console + "/commands?station=CP-LIVE-1&action=ChangeAvailability")
        expect(page.get_by_role("heading", name="ChangeAvailability")).to_be_visible()
        page.fill('input[name="field.connectorId"]', "one")
        page.click("#command-form button[type=submit]")
        expect(page.locator('[data-error-for="connectorId"]')).to_contain_text("expected integer")
        page.fill('input[name="field.connectorId"]', "1")
        page.click("#command-form button[type=submit]")
        expect(page.locator('[data-error-for="type"]')).to_contain_text("required field is missing")
        expect(page.locator('[data-error-for="connectorId"]')).to_have_count(0)
        page.select_option('select[name="field.type"]', "Inoperative")
        page.click("#command-form button[type=submit]")
        expect(page.get_by_role("status")).to_contain_text("queued")
        # The list follows the command by itself until it is answered.
        history = page.locator("#history tbody tr").first
        expect(history.locator(".command-status")).to_have_text("answered")
        expect(history.locator(".command-answer")).to_contain_text('"Accepted"')
        shot(page, "commands")

        say("station page, live: the station reports connector 1 Unavailable; the page shows it without a reload")
        connector = station.locator('tbody[data-field="connectorRows"] tr[data-connector="1"]')
        expect(connector).to_contain_text("Unavailable")
        assert station.evaluate("window.notReloaded === true"), "the station page was reloaded"
        assert_live_within_limit(station, system, "CP-LIVE-1", 1, "Unavailable")

        say("message log: both directions, filter, downloads")
        station.reload()
        log = station.locator("table.messages")
        expect(log).to_contain_text("ChangeAvailability")
        expect(log).to_contain_text("StatusNotification")
        station.select_option('select[name="direction"]', "out")
        station.click('form[action^="/stations/"] button[type=submit]')
        expect(log.locator("tbody tr")).to_have_count(1)
        expect(log).to_contain_text("← out")
        expect(log).not_to_contain_text("BootNotification")
        shot(station, "station")
        with station.expect_download() as download:
            station.click("text=Download CSV")
        rows = list(csv.DictReader(io.StringIO(open(download.value.path()).read())))
        assert [r["action"] for r in rows] == ["ChangeAvailability"], rows
        assert rows[0]["direction"] == "out" and '"Accepted"' in rows[0]["answer"], rows
        with station.expect_download() as download:
            station.click("text=Download JSON lines")
        lines = [json.loads(line) for line in open(download.value.path())]
        assert lines and lines[0]["payload"] == {"connectorId": 1, "type": "Inoperative"}, lines

        say("a worker restart under an open page: the live stream comes back")
        system.stop("worker")
        system.start_worker()
        expect(station.locator("body")).to_have_attribute("data-live", "open", timeout=15_000)
        station.goto(system.console + "/stations/CP-LIVE-1")  # the message filter off again
        station.evaluate("window.notReloaded = true")
        system.stop("worker")
        system.start_worker()
        expect(station.locator("body")).to_have_attribute("data-live", "open", timeout=15_000)
        system.api("POST", "/api/v1/stations/CP-LIVE-1/commands",
                   {"action": "ChangeAvailability", "payload": {"connectorId": 1, "type": "Operative"}})
        expect(connector).to_contain_text("Available", timeout=15_000)
        expect(connector).not_to_contain_text("Unavailable")
        assert station.evaluate("window.notReloaded === true"), "the station page was reloaded"

        say("transactions: a charging session by ocpp-sim, its charts and CSV exports")
        session = system.station("CP-CHARGE-1", "--script", "--id-tag", "BROWSER-TAG", "--charge-minutes", "2",
                                 "--meter-interval", "10", "--speed", "20")
        assert session.wait(60) == 0, "the scripted charging session failed (see its log)"
        page.goto(system.console + "/transactions?station=CP-CHARGE-1")
        first = page.locator("#transactions tbody tr").first
        reload_until(page, first, "Completed")
        expect(first).to_contain_text("BROWSER-TAG")
        shot(page, "transactions")
        with page.expect_download() as download:
            page.click("#transactions-csv")
        exported = list(csv.DictReader(io.StringIO(open(download.value.path()).read())))
        assert len(exported) == 1 and exported[0]["station"] == "CP-CHARGE-1", exported
        assert int(exported[0]["energy_wh"]) > 0 and exported[0]["status"] == "Completed", exported
        with page.expect_download() as download:
            page.click("#meter-values-csv")
        samples = list(csv.DictReader(io.StringIO(open(download.value.path()).read())))
        energy = [s for s in samples if s["measurand"] == "Energy.Active.Import.Register"]
        assert len(energy) >= 10 and all(s["station"] == "CP-CHARGE-1" for s in samples), samples[:3]
        first.locator("a").first.click()
        expect(page.get_by_role("heading", name="Transaction")).to_be_visible()
        charts = page.locator("svg.chart")
        expect(charts).to_have_count(2)
        for index, label in enumerate(["Energy (Wh)", "Power (W)"]):
            chart = charts.nth(index)
            expect(chart).to_have_attribute("aria-label", label)
            d = chart.locator("path.line").get_attribute("d")
            assert d and d.count("L") >= 5, f"{label}: the line has too few points: {d!r}"
        expect(page.locator("#meter-values tbody tr").first).not_to_contain_text("None.")
        shot(page, "transaction", full_page=False)

        say("id tags: create with expiry and parent, a field error, block and unblock")
        page.goto(system.console + "/id-tags")
        page.fill("#create-id-tag input[name=idTag]", "BROWSER-NEW")
        page.fill("#create-id-tag input[name=expiryDate]", "2030-01-31T12:00")
        page.fill("#create-id-tag input[name=parentIdTag]", "FLEET-PARENT")
        page.click("#create-id-tag button[type=submit]")
        expect(page.get_by_role("status")).to_contain_text("BROWSER-NEW")
        tag = page.locator('tr[data-id-tag="BROWSER-NEW"]')
        expect(tag).to_contain_text("2030-01-31 12:00:00")
        expect(tag).to_contain_text("FLEET-PARENT")
        expect(tag.locator(".tag-status")).to_have_text("Accepted")
        tag.get_by_role("button", name="Block").click()
        expect(page.locator('tr[data-id-tag="BROWSER-NEW"] .tag-status')).to_have_text("Blocked")
        page.locator('tr[data-id-tag="BROWSER-NEW"]').get_by_role("button", name="Unblock").click()
        expect(page.locator('tr[data-id-tag="BROWSER-NEW"] .tag-status')).to_have_text("Accepted")
        row = page.locator('tr[data-id-tag="BROWSER-NEW"]')
        row.locator("input[name=expiryDate]").fill("2031-05-01T08:30")
        row.locator("input[name=parentIdTag]").fill("")
        row.get_by_role("button", name="Save").click()
        expect(page.get_by_role("status")).to_contain_text("BROWSER-NEW")
        row = page.locator('tr[data-id-tag="BROWSER-NEW"]')
        expect(row).to_contain_text("2031-05-01 08:30:00")
        expect(row).not_to_contain_text("FLEET-PARENT")
        row.locator("input[name=parentIdTag]").fill("P" * 21)
        row.get_by_role("button", name="Save").click()
        expect(page.locator('[data-error-for="edit"]')).to_contain_text("parentIdTag must be 1 to 20 characters")
        page.goto(system.console + "/id-tags")
        page.fill("#create-id-tag input[name=idTag]", "BROWSER-TOO-LONG-ID-TAG")
        page.click("#create-id-tag button[type=submit]")
        expect(page.locator('[data-error-for="idTag"]')).to_contain_text("1 to 20 characters")
        page.goto(system.console + "/id-tags")
        shot(page, "id-tags")

        say("a form from another site is refused (CSRF)")
        reply = page.request.post(system.console + "/id-tags/block", form={"idTag": "BROWSER-NEW"})
        assert reply.status == 403, reply.status
        reply = page.request.post(system.console + "/id-tags/block",
                                  form={"idTag": "BROWSER-NEW", "csrf": "forged"})
        assert reply.status == 403, reply.status

        say("sign-out: the session ends")
        page.goto(system.console + "/stations")
        page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_url(system.console + "/sign-in")
        page.goto(system.console + "/stations")
        expect(page).to_have_url(system.console + "/sign-in?next=%2Fstations")
        browser.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--screenshots", metavar="DIR", help="save a screenshot of each page in DIR")
    arguments = parser.parse_args()
    if arguments.screenshots:
        os.makedirs(arguments.screenshots, exist_ok=True)
    logs = tempfile.mkdtemp(prefix="ocpp-browser-test.")
    system = System(os.environ["BIN"], os.environ["DATABASE_URL"], logs)
    ok = False
    try:
        system.start_worker()
        system.start_gateway()
        run(system, arguments.screenshots)
        ok = True
    finally:
        system.close()
        if not ok:
            for name in sorted(os.listdir(logs)):
                text = open(os.path.join(logs, name)).read()[-3000:]
                say(f"--- {name} (last lines) ---\n{text}")
    say("all browser checks passed")


if __name__ == "__main__":
    main()
