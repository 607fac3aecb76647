"""Start-up checks: can WeasyPrint subset fonts with HarfBuzz, and does fontconfig know a CJK font?

Without libharfbuzz-subset0 WeasyPrint silently falls back to fontTools and a Chinese contract takes
seconds instead of a fraction of one; without a CJK font every Chinese glyph is a missing-glyph box.
The result is logged once and shown to admins on /admin/settings.
"""
import logging
import shutil
import subprocess

from flask_babel import lazy_gettext as _l

log = logging.getLogger(__name__)

MESSAGES = {
    "harfbuzz_subset": _l("HarfBuzz-Subset is not available to WeasyPrint: PDF documents render very slowly. "
                          "Install the Debian package libharfbuzz-subset0 (make run does it) and restart."),
    "cjk_font": _l("No Chinese (CJK) font was found by fontconfig: Chinese text in PDF documents cannot be "
                   "printed. Install the Debian package fonts-noto-cjk (make run does it) and restart."),
}
LOG_TEXT = {
    "harfbuzz_subset": "HarfBuzz-Subset (libharfbuzz-subset0) is not available to WeasyPrint; "
                       "PDF rendering falls back to fontTools and is very slow",
    "cjk_font": "fontconfig finds no CJK font (install fonts-noto-cjk); Chinese text in PDFs will be missing",
}


def harfbuzz_subset_ok() -> bool:
    try:
        from weasyprint.text.ffi import harfbuzz, harfbuzz_subset
    except Exception:  # noqa: BLE001 - WeasyPrint's libraries missing altogether
        return False
    return bool(harfbuzz_subset) and bool(harfbuzz.hb_version_atleast(4, 1, 0))


def cjk_font_ok() -> bool:
    if not shutil.which("fc-list"):
        return False
    try:
        out = subprocess.run(["fc-list", ":lang=zh-cn", "family"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return False
    return "CJK SC" in out.stdout or bool(out.stdout.strip())


def run(app) -> list[str]:
    """Check once; keep the problems (keys of MESSAGES) in app.extensions for the settings page."""
    problems = [key for key, ok in (("harfbuzz_subset", harfbuzz_subset_ok()), ("cjk_font", cjk_font_ok()))
                if not ok]
    for key in problems:
        log.warning("documents: %s", LOG_TEXT[key])
    app.extensions["document_problems"] = problems
    return problems


def problems(app) -> list:
    """The translated warnings for admins."""
    return [MESSAGES[key] for key in app.extensions.get("document_problems", [])]
