"""Is an HTML page free of anything a browser would run? A small, strict checker."""
import html
import re
from html.parser import HTMLParser

URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background", "srcset",
             "lowsrc", "dynsrc"}
# An inline <svg> chart of the app's own is fine (no handler, no script: checked like any element);
# what could run or load something inside one is not.
FORBIDDEN_TAGS = {"iframe", "frame", "frameset", "object", "embed", "applet", "base", "math", "template",
                  "portal", "foreignobject", "animate", "set", "animatemotion", "animatetransform", "use",
                  "handler", "listener"}
_STRIP = re.compile(r"[\x00-\x20]+")


def _dangerous_url(value, tag):
    v = _STRIP.sub("", html.unescape(value or "")).lower()
    if v.startswith("data:image/svg") and tag not in ("img", "link"):  # an SVG *image* runs no script
        return True
    return v.startswith(("javascript:", "vbscript:", "data:text/html", "livescript:"))


class _Checker(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []
        self.in_script = False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…> event handler")
            if name in URL_ATTRS and _dangerous_url(value, tag):
                self.problems.append(f"<{tag} {name}={value!r}> script URL")
            if name == "style" and value and ("expression(" in value.lower() or "javascript:" in value.lower()):
                self.problems.append(f"<{tag} style={value!r}>")
            if name == "srcdoc":
                self.problems.append(f"<{tag} srcdoc>")
        if tag in FORBIDDEN_TAGS:
            self.problems.append(f"<{tag}> element")
        if tag == "meta" and any(n == "http-equiv" and (v or "").lower() == "refresh" for n, v in attrs):
            self.problems.append("<meta http-equiv=refresh>")
        if tag == "script":
            src = dict(attrs).get("src") or ""
            if not src.startswith("/") or src.startswith("//"):
                self.problems.append(f"<script src={src!r}> not from this site")
            self.in_script = True
        if tag == "style":
            self.problems.append("<style> element (CSP allows only stylesheets from this site)")

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag):
        if tag == "script":
            self.in_script = False

    def handle_data(self, data):
        if self.in_script and data.strip():
            self.problems.append(f"inline script {data.strip()[:60]!r}")


def problems(page: str):
    """A list of what a browser would run on ``page`` (empty when the page is inert)."""
    checker = _Checker()
    checker.feed(page)
    checker.close()
    return checker.problems


def text(page) -> str:
    """The visible text of ``page`` (tags removed, entities decoded)."""
    if isinstance(page, bytes):
        page = page.decode()
    return html.unescape(re.sub(r"<[^>]*>", " ", page))


# The corpus: each payload carries a marker ({m}) so a test can see that it was shown at all.
PAYLOADS = [
    "<script>alert('{m}')</script>",
    "<img src=x onerror=alert('{m}')>",
    "<svg onload=alert('{m}')>",
    "<svg><script>alert('{m}')</script></svg>",
    "\"><script>alert('{m}')</script>",
    "'><img src=x onerror=alert('{m}')>",
    "<a href=\"javascript:alert('{m}')\">{m}</a>",
    "<a href=\"jav&#x09;ascript:alert('{m}')\">{m}</a>",
    "[{m}](javascript:alert(1))",
    "![{m}](javascript:alert(1))",
    "[{m}](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<iframe src=\"javascript:alert('{m}')\"></iframe>",
    "<body onload=alert('{m}')>",
    "<details open ontoggle=alert('{m}')>",
    "<input autofocus onfocus=alert('{m}')>",
    "&lt;script&gt;alert('{m}')&lt;/script&gt;",
    "%3Cscript%3Ealert('{m}')%3C%2Fscript%3E",
    "\\u003cscript\\u003ealert('{m}')\\u003c/script\\u003e",
    "<scr<script>ipt>alert('{m}')</scr</script>ipt>",
    "<style>@import 'javascript:alert(\"{m}\")';</style>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert('{m}')>",
    "<object data=\"javascript:alert('{m}')\"></object>",
    "{{{{7*7}}}}{m}",
    "<meta http-equiv=refresh content=\"0;url=javascript:alert('{m}')\">",
]


def corpus(prefix="X"):
    """[(marker, payload)] with markers like XSS07 (short enough for any name field)."""
    return [(f"{prefix}SS{i:02d}", p.format(m=f"{prefix}SS{i:02d}")) for i, p in enumerate(PAYLOADS)]
