"""The console in a real browser: Debian's headless Chromium driven by Playwright for Python.

Run by tests/api/browser.rs against a live server it has filled with visits; the facts it
needs arrive as one JSON document in FP_BROWSER_CASE. Screenshots of every page go to
FP_SCREENSHOTS for a person to look at. Exits non-zero on the first failed check, naming it.
"""

import csv
import io
import json
import os
import sys
import urllib.request
import zipfile

from playwright.sync_api import sync_playwright, expect

CASE = json.loads(os.environ["FP_BROWSER_CASE"])
BASE = CASE["base_url"]
SHOTS = os.environ.get("FP_SCREENSHOTS", "target/console-screenshots")
os.makedirs(SHOTS, exist_ok=True)
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-default-apps", "--disable-extensions",
]


def api(path, token):
    req = urllib.request.Request(BASE + path, headers={"Authorization": "Bearer " + token})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, None


class Watch:
    """Every request a page makes, and every console error it logs."""

    def __init__(self, page, who):
        self.who = who
        self.off_origin = []
        self.errors = []
        page.on("request", self.request)
        page.on("console", lambda m: m.type == "error" and not self.expected(m.text) and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def request(self, req):
        url = req.url
        if not (url.startswith(BASE) or url.startswith("data:") or url.startswith("blob:")):
            self.off_origin.append(url)

    @staticmethod
    def expected(text):
        # The deliberate 403/404 answers of the role checks are logged by Chromium as errors.
        return "status of 403" in text or "status of 404" in text

    def check(self):
        assert not self.off_origin, f"{self.who}: requests left the origin: {self.off_origin}"
        assert not self.errors, f"{self.who}: console errors: {self.errors}"


def shot(page, name):
    page.screenshot(path=os.path.join(SHOTS, name + ".png"), full_page=True)


UNNAMED = """() => Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea, button, a[href]'))
  .filter(el => el.offsetParent !== null)
  .filter(el => {
    const label = (el.labels && el.labels.length) || el.getAttribute('aria-label') || el.getAttribute('title')
      || (el.textContent || '').trim() || el.getAttribute('alt') || el.querySelector('img[alt]');
    return !label;
  }).map(el => el.outerHTML.slice(0, 120))"""


def named(page):
    """Every visible control has an accessible name."""
    missing = page.evaluate(UNNAMED)
    assert not missing, f"{page.url}: controls without an accessible name: {missing}"


def sign_in(page, login, password):
    page.goto(BASE + "/hq/login?lang=id")
    page.get_by_label("Nama pengguna").fill(login)
    page.get_by_label("Kata sandi").fill(password)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_load_state("networkidle")


def thumbnails_loaded(page):
    page.wait_for_load_state("networkidle")
    imgs = page.locator(".thumbs img, .photo-panel img")
    n = imgs.count()
    assert n > 0, "no thumbnails on the page"
    for i in range(n):
        imgs.nth(i).scroll_into_view_if_needed()
    page.wait_for_function("() => Array.from(document.querySelectorAll('.thumbs img, .photo-panel img')).every(i => i.complete)")
    widths = page.eval_on_selector_all(".thumbs img, .photo-panel img", "els => els.map(e => e.naturalWidth)")
    assert all(w > 0 for w in widths), f"thumbnails not loaded: {widths}"
    return len(widths)


def main():
    visits = CASE["visits"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CASE.get("chromium", "/usr/bin/chromium"), headless=True, args=CHROMIUM_ARGS)

        # --- HQ: sign in, the queue, a visit and its map, decisions, the language -------------
        ctx = browser.new_context(viewport={"width": 1360, "height": 900}, locale="id-ID")
        page = ctx.new_page()
        watch = Watch(page, "hq")
        page.goto(BASE + "/hq/queue")
        assert "/hq/login" in page.url, page.url
        shot(page, "01-login")
        sign_in(page, CASE["hq"]["login"], CASE["hq"]["password"])
        assert page.url.startswith(BASE + "/hq/queue"), page.url
        expect(page.get_by_role("heading", name="Antrean tinjauan")).to_be_visible()
        for v in visits:
            expect(page.locator(f"#entry-{v}")).to_be_visible()
        n = thumbnails_loaded(page)
        assert n >= len(visits), f"{n} thumbnails for {len(visits)} visits"
        named(page)
        # The keyboard: j moves to the first entry, x selects it, x again unselects it.
        page.keyboard.press("j")
        expect(page.locator(".entry.current")).to_have_count(1)
        page.keyboard.press("x")
        expect(page.locator("#selected-count")).to_contain_text("1")
        page.keyboard.press("x")
        shot(page, "02-queue")
        # The visits whose rep asked for HQ's help, on their own filter.
        expect(page.locator(f"#entry-{visits[0]} .badge.help")).to_have_text("Perlu bantuan HQ")
        page.locator("#f-help").check()
        page.get_by_role("button", name="Terapkan").click()
        page.wait_for_url("**/hq/queue?*needs_hq_help=1*")
        expect(page.locator(".entry")).to_have_count(1)
        expect(page.locator(f"#entry-{visits[0]}")).to_be_visible()
        shot(page, "02b-queue-needs-hq-help")
        page.goto(BASE + "/hq/queue")

        # CSRF: a state change without the token is refused (the page's cookies, no token).
        r = page.request.post(BASE + "/hq/locale", form={"locale": "en"})
        assert r.status == 403, f"POST without CSRF token answered {r.status}"

        # The visit page: record, photos, and the map with the customer's marker.
        first = visits[0]
        page.locator(f"#entry-{first} a.open").click()
        page.wait_for_url(f"**/hq/visits/{first}")
        page.wait_for_selector("#map[data-ready='true']")
        page.wait_for_selector("#map[data-basemap='loaded']", timeout=20000)
        assert page.locator("#map path.customer-marker").count() == 1, "no customer marker on the map"
        assert page.locator("#map path.photo-marker").count() >= 1, "no photo marker on the map"
        expect(page.locator(".leaflet-control-scale")).to_be_visible()
        thumbnails_loaded(page)
        named(page)
        # The result reason in words, and its own detail questions answered.
        expect(page.get_by_role("heading", name="Detail follow up")).to_be_visible()
        expect(page.locator("dl.record dt", has_text="Apakah perlu bantuan dari HQ?")).to_be_visible()
        expect(page.locator(".summary-line .badge.help")).to_be_visible()
        shot(page, "03-visit")
        # A WhatsApp follow-up: the chat's text as OCR read it beside the screenshot, with what
        # it says of the contact, the date and the two sides.
        page.goto(BASE + f"/hq/visits/{CASE['whatsapp_visit']}")
        chat = page.locator("pre.chat-text")
        expect(chat).to_contain_text("Budi Santoso")
        expect(chat).to_contain_text("tarif khusus")
        expect(page.locator("dl.record dt", has_text="Kontak di chat")).to_be_visible()
        expect(page.locator("dl.record dd", has_text="12 November 2026")).to_be_visible()
        thumbnails_loaded(page)
        shot(page, "03b-whatsapp-chat")
        page.goto(BASE + f"/hq/visits/{first}")
        # The full-size photo opens from this origin.
        with ctx.expect_page() as popup:
            page.locator(".photo-panel a").first.click()
        full = popup.value
        full.wait_for_load_state()
        assert full.url.startswith(BASE + f"/hq/visits/{first}/photos/"), full.url
        full.close()

        # Reject the first entry with a deduction, without a page reload.
        page.goto(BASE + "/hq/queue")
        page.evaluate("window.__same_page = true")
        entry = page.locator(f"#entry-{first}")
        entry.locator("input.comment").fill("Foto tidak jelas")
        entry.locator("input.points").fill("5")
        entry.get_by_role("button", name="Tolak").click()
        decided = page.locator(f"#entry-{first}.decided")
        expect(decided).to_be_visible()
        assert page.evaluate("window.__same_page") is True, "the page reloaded"
        task = decided.locator(".revisit code").inner_text().strip()
        status, body = api(f"/v1/tasks/{task}", CASE["rep_token"])
        assert status == 200 and body["task_type"] == "revisit", f"re-visit task {task}: {status} {body}"
        shot(page, "04-rejected")

        # Bulk-approve the other three.
        for v in visits[1:]:
            page.locator(f"#entry-{v} input.select").check()
        expect(page.locator("#selected-count")).to_contain_text("3")
        page.get_by_role("button", name="Setujui yang dipilih").click()
        expect(page.locator("#bulk-result .notice")).to_contain_text("3")
        for v in visits[1:]:
            expect(page.locator(f"#entry-{v}.decided")).to_be_visible()
            status, body = api(f"/v1/visits/{v}", CASE["hq_token"])
            assert body["review_status"] == "approved", f"{v}: {body['review_status']}"
        assert page.evaluate("window.__same_page") is True, "the page reloaded"
        shot(page, "05-bulk-approved")

        # Export the visits as CSV and their photos as a ZIP, and read both back.
        page.goto(BASE + "/hq/exports")
        named(page)
        shot(page, "06-exports")
        with page.expect_download() as dl:
            page.get_by_role("button", name="Unduh").first.click()
        rows = list(csv.reader(io.StringIO(open(dl.value.path(), encoding="utf-8").read())))
        assert rows[0][0] == "visit_id", rows[0]
        exported = {r[0] for r in rows[1:]}
        assert set(visits) <= exported, f"the CSV lacks visits: {set(visits) - exported}"
        by_id = {r[0]: r for r in rows[1:]}
        assert by_id[first][rows[0].index("last_decision")] == "reject", by_id[first]
        # The ZIP of four visits is over this server's limit: it is prepared in the background
        # and appears in the download centre, which refreshes itself until it is ready.
        page.locator("button[formaction='/hq/exports/photos.zip']").click()
        page.wait_for_url("**/hq/exports?done=queued*")
        expect(page.get_by_role("status")).to_contain_text("disiapkan")
        ready = page.locator("#downloads tr.export-ready a[download]")
        expect(ready).to_be_visible(timeout=20000)
        expect(page.locator("#downloads tr.export-ready")).to_contain_text("Siap")
        named(page)
        shot(page, "06b-download-centre")
        with page.expect_download() as dl:
            ready.click()
        with zipfile.ZipFile(dl.value.path()) as z:
            names = z.namelist()
            assert "manifest.csv" in names, names
            manifest = list(csv.reader(io.StringIO(z.read("manifest.csv").decode())))
            assert len(manifest) - 1 == len(names) - 1 >= len(visits), (len(manifest), names)
            for row in manifest[1:]:
                assert len(z.read(row[0])) == int(row[7]), row

        # The re-visit task is in the task list.
        page.goto(BASE + "/hq/tasks")
        expect(page.locator("table.list").first).to_contain_text("revisit")
        named(page)
        shot(page, "07-tasks")
        page.goto(BASE + "/hq/tasks?view=month")
        expect(page.locator("table.calendar")).to_be_visible()
        shot(page, "07b-tasks-month")
        page.goto(BASE + "/hq/customers")
        page.locator("table.list a").first.click()
        page.wait_for_url("**/hq/customers/*")
        expect(page.locator("svg.chart rect")).to_have_count(12)
        named(page)
        shot(page, "07c-customer")

        # A customer without coordinates: its approved door visit proposes the photo's place,
        # which HQ accepts on the customer's page.
        unplaced = CASE["unplaced_customer"]
        page.goto(BASE + f"/hq/customers/{unplaced}")
        expect(page.locator("section.proposal")).to_contain_text("-6.200000, 106.800000")
        named(page)
        shot(page, "07d-customer-proposed-place")
        page.get_by_role("button", name="Terima lokasi").click()
        page.wait_for_url(f"**/hq/customers/{unplaced}?done=placed")
        expect(page.get_by_role("status")).to_contain_text("disimpan")
        assert page.locator("section.proposal").count() == 0, "the proposal is gone once accepted"
        status, body = api(f"/v1/customers/{unplaced}", CASE["hq_token"])
        assert (body["latitude"], body["longitude"]) == (-6.2, 106.8), body

        # The scorecards and the branch map.
        page.goto(BASE + "/hq/scorecards")
        expect(page.locator("svg.chart")).to_be_visible()
        named(page)
        shot(page, "08-scorecards")
        page.goto(BASE + "/hq/map")
        page.wait_for_selector("#map[data-ready='true']")
        page.wait_for_selector("#map[data-basemap='loaded']", timeout=20000)
        assert page.locator("#map path.visit-marker").count() >= 1, "no visit on the branch map"
        shot(page, "09-map")
        page.locator("#map path.visit-marker").first.click(force=True)
        page.wait_for_url("**/hq/visits/*")
        page.goto(BASE + "/hq/tasks")

        # English, remembered.
        page.get_by_role("button", name="Ganti bahasa ke English").click()
        page.wait_for_load_state("networkidle")
        expect(page.get_by_role("heading", name="Tasks")).to_be_visible()
        page.goto(BASE + "/hq/queue")
        expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
        named(page)
        shot(page, "10-queue-english")
        page.goto(BASE + "/hq/exports")
        expect(page.get_by_role("heading", name="Download centre")).to_be_visible()
        expect(page.locator("#downloads tr.export-ready")).to_contain_text("Ready")
        named(page)
        shot(page, "10b-exports-english")
        page.goto(BASE + f"/hq/visits/{CASE['whatsapp_visit']}")
        expect(page.get_by_role("heading", name="Chat text read (OCR)")).to_be_visible()
        expect(page.locator("dl.record dt", has_text="Contact on the chat")).to_be_visible()
        expect(page.locator(".findings code", has_text="screenshot_contact_missing")).to_be_visible()
        named(page)
        shot(page, "10c-whatsapp-chat-english")
        watch.check()
        ctx.close()

        # --- Branch marketing of another branch: nothing of JKT -------------------------------
        ctx = browser.new_context(viewport={"width": 1280, "height": 800})
        page = ctx.new_page()
        watch = Watch(page, "jap marketing")
        sign_in(page, CASE["jap_marketing"]["login"], CASE["jap_marketing"]["password"])
        for v in visits:
            assert page.locator(f"#entry-{v}").count() == 0, f"JAP marketing sees JKT visit {v}"
        r = page.goto(BASE + f"/hq/visits/{first}")
        assert r.status == 404, f"JAP marketing opened a JKT visit: {r.status}"
        shot(page, "11-other-branch")
        watch.check()
        ctx.close()

        # --- The rep: their own visits, read-only; never another rep's ------------------------
        ctx = browser.new_context(viewport={"width": 1280, "height": 800})
        page = ctx.new_page()
        watch = Watch(page, "rep")
        sign_in(page, CASE["rep"]["login"], CASE["rep"]["password"])
        assert page.url.startswith(BASE + "/hq/tasks"), page.url
        page.goto(BASE + f"/hq/visits/{first}")
        expect(page.locator("h1")).to_contain_text("Kunjungan")
        assert page.locator("button[name='decision']").count() == 0, "a rep has review controls"
        shot(page, "12-rep-visit")
        page.goto(BASE + "/hq/tasks")
        shot(page, "13-rep-tasks")
        r = page.goto(BASE + "/hq/queue")
        assert r.status == 403, f"a rep opened the queue: {r.status}"
        watch.check()
        ctx.close()

        ctx = browser.new_context()
        page = ctx.new_page()
        sign_in(page, CASE["rep2"]["login"], CASE["rep2"]["password"])
        r = page.goto(BASE + f"/hq/visits/{first}")
        assert r.status == 404, f"another rep opened the visit: {r.status}"
        ctx.close()
        browser.close()
    print("console browser test: all checks passed")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print("FAILED:", e, file=sys.stderr)
        sys.exit(1)
