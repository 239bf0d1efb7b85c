"""Schemathesis hooks (loaded through SCHEMATHESIS_HOOKS by run.sh).

The console's operations take a session cookie, and its forms the session's CSRF token, which
Schemathesis cannot know: for every `/hq` and `/` request these hooks add the cookie of a session
signed in as the run's role (FP_SESSION) and put the session's token (FP_CSRF) in the form, so the
generated data reaches the handlers instead of the sign-in page. A sign-out gets a second session
of the same user (FP_SPARE_SESSION, FP_SPARE_CSRF), so that ending it leaves the first one to the
rest of the run (signing in again could meet the sign-in throttle that the fuzzed sign-ins earn).
The sign-in form gets its own CSRF pair (a cookie and the same value in the form), fetched before
each attempt.
"""

import os
import re

import requests
import schemathesis

BASE = os.environ["FP_BASE"]
LOGIN = os.environ["FP_LOGIN"]
PASSWORD = os.environ["FP_PASSWORD"]
STATE = {"session": os.environ["FP_SESSION"], "csrf": os.environ["FP_CSRF"]}
SPARE = {"session": os.environ.get("FP_SPARE_SESSION", ""), "csrf": os.environ.get("FP_SPARE_CSRF", "")}

# A quotation's document (PUT /v1/quotations/{id}/document) is a PDF: sent as the raw bytes
# generated for its binary schema, as an application/octet-stream body would be.
schemathesis.serializer.alias("application/pdf", "application/octet-stream")


def sign_in():
    """A new session of the run's user: (cookie, csrf)."""
    s = requests.Session()
    form = s.get(f"{BASE}/hq/login", timeout=30)
    token = re.search(r'name="_csrf" value="([^"]+)"', form.text).group(1)
    r = s.post(f"{BASE}/hq/login", data={"login": LOGIN, "password": PASSWORD, "_csrf": token}, allow_redirects=False, timeout=30)
    assert r.status_code == 303, r.status_code
    cookie = s.cookies["fp_session"]
    page = s.get(f"{BASE}/hq/password", timeout=30)
    csrf = re.search(r'name="_csrf" value="([^"]+)"', page.text).group(1)
    return cookie, csrf


def is_console(case):
    return case.path == "/" or case.path.startswith("/hq")


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    if not is_console(case):
        return
    headers = dict(case.headers or {})
    headers.pop("Authorization", None)
    if case.path == "/hq/login":
        # The sign-in form's own pair: a pre-session cookie and the same value in the form.
        page = requests.get(f"{BASE}/hq/login", timeout=30)
        pair = next((c for c in page.cookies if c.name != "fp_session"), None)
        cookies = f"{pair.name}={pair.value}" if pair else ""
        token = pair.value if pair else ""
    else:
        session = SPARE if case.path == "/hq/logout" else STATE
        cookies = f"fp_session={session['session']}"
        token = session["csrf"]
    headers["Cookie"] = cookies
    case.headers = headers
    if case.method.upper() == "POST" and isinstance(case.body, dict):
        case.body = {**case.body, "_csrf": token}
