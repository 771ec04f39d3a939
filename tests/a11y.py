"""Accessibility checks for browser tests: axe-core run inside a Playwright page.

axe-core is never committed. `scripts/browser_deps.sh` (run by `make test`) fetches the pinned
version with `npm pack`, checks the tarball's sha512 and the file's sha256, and leaves
`var/axe-core-<version>/axe.min.js` with its MPL-2.0 licence beside it. This module reads the
same pins from that script, so there is one place to change the version.

Missing file: the test skips locally and fails under CI=true (tests/services_probe.require).
A file whose checksum differs from the pin always fails: it is not the engine we pinned.

How to use::

    context = axe_context(browser)           # bypass_csp=True, see below
    page = context.new_page()
    page.goto(url)
    report = AxeReport()
    report.check(page, "consent")            # injects axe if needed and runs axe.run()
    report.assert_clean()                    # fails listing every serious or critical one
"""

from __future__ import annotations

import hashlib
import re
import warnings
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.services_probe import require

ROOT = Path(__file__).resolve().parent.parent
DEPS_SCRIPT = ROOT / "scripts" / "browser_deps.sh"
# The impacts that fail a check; "minor" and "moderate" ones are reported by axe but allowed.
FAILING_IMPACTS = frozenset({"serious", "critical"})
# What axe.run() is asked: violations only (passes and inapplicable rules make a large payload).
RUN_AXE = """async () => {
  const results = await axe.run(document, {resultTypes: ["violations"]});
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map((n) => ({
      target: n.target.map(String).join(" "),
      summary: n.failureSummary || "",
    })),
  }));
}"""


@dataclass(frozen=True)
class AxePins:
    version: str
    sha256: str

    @property
    def path(self) -> Path:
        return ROOT / "var" / f"axe-core-{self.version}" / "axe.min.js"


def _pin(script: str, name: str) -> str:
    found = re.search(rf"^{name}=(\S+)$", script, re.MULTILINE)
    if not found:
        raise RuntimeError(f"{DEPS_SCRIPT} has no {name}= line: the axe-core pin is missing")
    return found[1]


@cache
def axe_pins() -> AxePins:
    script = DEPS_SCRIPT.read_text(encoding="utf-8")
    return AxePins(_pin(script, "AXE_VERSION"), _pin(script, "AXE_SHA256"))


def axe_script_path() -> Path:
    """The pinned axe.min.js, checked; skips (fails under CI) when it was never fetched."""
    pins = axe_pins()
    require(
        f"axe-core {pins.version}",
        pins.path.is_file(),
        f"{pins.path} is missing (run `make browser-deps` or scripts/browser_deps.sh)",
    )
    digest = hashlib.sha256(pins.path.read_bytes()).hexdigest()
    if digest != pins.sha256:
        pytest.fail(
            f"{pins.path} has sha256 {digest}, not the pinned {pins.sha256}: "
            "delete it and run scripts/browser_deps.sh again",
            pytrace=False,
        )
    return pins.path


def axe_context(browser: Any, **options: Any) -> Any:
    """A browser context in which axe can be injected into our pages.

    The pages send a strict Content-Security-Policy (script-src 'self' and no inline script),
    and Playwright's add_script_tag inserts a <script> element that the policy refuses. So the
    accessibility contexts are made with bypass_csp=True. Only these contexts relax the policy;
    tests/platform/test_csp_browser.py checks the same pages with it enforced.
    """
    return browser.new_context(bypass_csp=True, **options)


@dataclass(frozen=True)
class Violation:
    page: str
    rule: str
    impact: str
    help: str
    nodes: tuple[tuple[str, str], ...]  # (CSS target, axe's failure summary)

    def describe(self) -> str:
        lines = [f"[{self.page}] {self.rule} ({self.impact}): {self.help}"]
        for target, summary in self.nodes:
            flat = " ".join(summary.split())
            lines.append(f"    at {target}: {flat}")
        return "\n".join(lines)


def run_axe(page: Any, name: str) -> list[Violation]:
    """Every violation axe-core finds on the page as it is now, whatever its impact."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(axe_script_path()))
    found = page.evaluate(RUN_AXE)
    return [
        Violation(
            page=name,
            rule=item["id"],
            impact=item["impact"] or "unknown",
            help=item["help"],
            nodes=tuple((node["target"], node["summary"]) for node in item["nodes"]),
        )
        for item in found
    ]


@dataclass
class AxeReport:
    """Violations collected over many pages, so one failure lists all of them.

    `known` maps a page name to rule ids seen there and owned by someone else's open work:
    those are reported as warnings instead of failures; any other rule on that page fails.
    A known rule the page no longer breaks is reported too, so the list does not outlive it.
    """

    known: Mapping[str, Collection[str]] = field(default_factory=dict)
    checked: list[str] = field(default_factory=list)
    failures: list[Violation] = field(default_factory=list)
    tolerated: list[Violation] = field(default_factory=list)

    def check(self, page: Any, name: str) -> list[Violation]:
        """Run axe on the page; keep its serious and critical violations. Returns them."""
        self.checked.append(name)
        serious = [v for v in run_axe(page, name) if v.impact in FAILING_IMPACTS]
        for violation in serious:
            if violation.rule in self.known.get(name, ()):
                self.tolerated.append(violation)
            else:
                self.failures.append(violation)
        return serious

    def assert_clean(self) -> None:
        for violation in self.tolerated:
            warnings.warn(f"known, not yet fixed: {violation.describe()}", stacklevel=2)
        for name in self.checked:
            seen = {v.rule for v in self.tolerated if v.page == name}
            for rule in sorted(set(self.known.get(name, ())) - seen):
                warnings.warn(
                    f"[{name}] {rule} is fixed: take it out of the known list", stacklevel=2
                )
        if self.failures:
            listing = "\n".join(v.describe() for v in self.failures)
            pytest.fail(
                f"{len(self.failures)} serious or critical accessibility violation(s) "
                f"on {len(self.checked)} page(s) checked:\n{listing}",
                pytrace=False,
            )
