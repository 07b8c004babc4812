"""Screenshots of linli's key pages for docs/screenshots.md.

    .venv/bin/python -m tests.browser.make_screenshots [--out docs/screenshots] [--md docs/screenshots.md]

Builds a fresh demo database, starts gunicorn on loopback with every installed module, drives
Debian's chromium through the pages (phone 390×844 and desktop 1280×800; zh_Hans for every page,
en and zh_Hant for a few) and writes the PNGs and the Markdown page that shows them. The set is
kept small (≤ 30 files) so the repository stays light; `optipng` squeezes them when installed."""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.browser.conftest import (CHROMIUM, DEMO_PASSWORD, LAUNCH_ARGS, LOCALES, build_demo_database,  # noqa: E402
                                    serve)

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
LANG_NAMES = {"zh_Hans": "简体中文", "zh_Hant": "繁體中文", "en": "English"}


@dataclass(frozen=True)
class Shot:
    name: str  # file stem
    caption: str
    who: str | None  # demo login, or None for a visitor
    path: str  # a path, or "first:<css>" to follow the first link matching on the page before
    locales: tuple = ("zh_Hans",)
    viewports: tuple = ("phone", "desktop")
    plugin: str | None = None  # only when this module is installed
    before: str | None = None  # the page to open before following ``path``


def _open_proposal():
    return "first:main .proposal-list a.big-link"


SHOTS = [
    Shot("home", "Community home, as a visitor / 社区首页（访客）", None, "/c/demo/",
         locales=("zh_Hans", "zh_Hant", "en")),
    Shot("register", "Registering / 注册", None, "/c/demo/register", viewports=("phone",)),
    Shot("proposals", "Proposal list with filters / 议题列表", "resident1", "/c/demo/proposals/"),
    Shot("proposal", "An open proposal: seconds (附议), comments, history / 议题详情", "resident5",
         _open_proposal(), before="/c/demo/proposals/?state=open", locales=("zh_Hans", "zh_Hant", "en"),
         viewports=("phone",)),
    Shot("proposal-desktop", "An open proposal on a desktop / 议题详情（电脑）", "resident5", _open_proposal(),
         before="/c/demo/proposals/?state=open", viewports=("desktop",)),
    Shot("new-proposal", "Submitting a proposal / 提交议题", "resident1", "/c/demo/proposals/new",
         viewports=("phone",)),
    Shot("staff-proposal", "Staff move a proposal on, with a reason / 工作人员推进议题", "staff", _open_proposal(),
         before="/c/demo/proposals/?state=coordinating", viewports=("desktop",)),
    Shot("member", "Staff verify a resident's household / 核实住户", "staff", "first:main table a",
         before="/c/demo/members?status=verified", viewports=("desktop",)),
    Shot("modules", "An admin switches modules on and off / 模块开关", "admin", "/c/demo/admin/modules",
         viewports=("desktop",)),
    Shot("voting", "Voting / 表决", "resident1", "/c/demo/voting/", plugin="voting"),
    Shot("meetings", "Meetings / 议事会议", "resident1", "/c/demo/meetings/", plugin="meetings"),
    Shot("mediation", "Mediation cases / 调解", "tiaojieyuan", "/c/demo/mediation/", plugin="mediation"),
    Shot("points", "Volunteer points / 志愿积分", "resident1", "/c/demo/points/", plugin="points"),
]


def installed_plugins():
    only = [n for n in os.environ.get("LINLI_PLUGINS", "").split(",") if n] or None
    return sorted(ep.name for ep in metadata.entry_points(group="linli.plugins") if only is None or ep.name in only)


class Sessions:
    """One logged-in browser context per (who, locale, viewport)."""

    def __init__(self, browser, base):
        self.browser, self.base, self.contexts = browser, base, {}

    def page(self, who, locale, viewport):
        key = (who, locale, viewport)
        if key not in self.contexts:
            ctx = self.browser.new_context(viewport=SIZES[viewport], locale=LOCALES[locale][0],
                                           device_scale_factor=1, is_mobile=viewport == "phone",
                                           has_touch=viewport == "phone", timezone_id="Asia/Shanghai")
            page = ctx.new_page()
            if who:
                page.goto(self.base + "/auth/login")
                page.fill('main form [name="login"]', who)
                page.fill('main form [name="password"]', DEMO_PASSWORD)
                with page.expect_navigation():
                    page.click('main form button[type="submit"]')
            self.contexts[key] = page
        return self.contexts[key]

    def close(self):
        for page in self.contexts.values():
            page.context.close()


def capture(browser, base, out, shots=SHOTS, plugins=()):
    """Take every shot; return [(shot, locale, viewport, file name)]."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sessions = Sessions(browser, base)
    taken = []
    try:
        for shot in shots:
            if shot.plugin and shot.plugin not in plugins:
                continue
            for viewport in shot.viewports:
                for locale in shot.locales:
                    page = sessions.page(shot.who, locale, viewport)
                    if shot.path.startswith("first:"):
                        page.goto(base + shot.before)
                        with page.expect_navigation():
                            page.locator(shot.path[6:]).first.click()
                    else:
                        resp = page.goto(base + shot.path)
                        if resp is None or resp.status != 200:
                            raise RuntimeError(f"{shot.path}: HTTP {resp and resp.status}")
                    page.evaluate("window.scrollTo(0, 0)")
                    name = f"{shot.name}-{locale}-{viewport}.png".replace("_", "-").lower()
                    page.screenshot(path=str(out / name))
                    taken.append((shot, locale, viewport, name))
    finally:
        sessions.close()
    if shutil.which("optipng"):
        subprocess.run(["optipng", "-quiet", "-o2", *[str(out / t[3]) for t in taken]], check=False)
    return taken


def write_markdown(taken, md_path, image_dir):
    md_path = Path(md_path)
    rel = os.path.relpath(image_dir, md_path.parent)
    lines = ["# linli in pictures", "",
             "Screenshots of the key pages, made from the demo community by "
             "`.venv/bin/python -m tests.browser.make_screenshots` (Debian's chromium, phone 390×844 and "
             "desktop 1280×800). Every page shown here is also visited by the browser tests in "
             "tests/browser, which check it with axe-core.", ""]
    seen = []
    for shot, *_rest in taken:
        if shot not in seen:
            seen.append(shot)
    for shot in seen:
        lines += [f"## {shot.caption}", ""]
        for s, locale, viewport, name in taken:
            if s is shot:
                lines.append(f"**{LANG_NAMES[locale]}, {viewport}**  ")
                lines.append(f'<img src="{rel}/{name}" alt="{shot.caption} — {LANG_NAMES[locale]}, {viewport}" '
                             f'width="{195 if viewport == "phone" else 640}">')
                lines.append("")
    md_path.write_text("\n".join(lines), encoding="utf-8")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--md", default=str(ROOT / "docs" / "screenshots.md"))
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    plugins = installed_plugins()
    out = Path(args.out)
    for old in out.glob("*.png"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        url = build_demo_database(Path(tmp) / "linli.sqlite", plugins)
        with serve(url, tmp, plugins) as base, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
            taken = capture(browser, base, out, plugins=plugins)
            browser.close()
    write_markdown(taken, args.md, out)
    total = sum((out / t[3]).stat().st_size for t in taken)
    print(f"{len(taken)} screenshots ({total // 1024} KiB) in {out}; {args.md} written")


if __name__ == "__main__":
    main()
