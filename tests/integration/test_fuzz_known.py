"""Inputs that crash a library (tests/fuzz/known): through `vigiectl scan`, whose
scans run in sandboxed workers, each must come out unscannable, never clean,
and vigiectl itself must not crash."""

import os

from common import args, check, finish
import vgfix

a = args()
known = os.path.join(a.source, "tests", "fuzz", "known")
files = sorted(os.path.join(known, f) for f in os.listdir(known) if not f.endswith(".md"))
check(len(files) > 0, "tests/fuzz/known holds inputs")
for f in files:
    p, lines = vgfix.scan_json(a.build, [f])
    name = os.path.basename(f)
    check(p.returncode == 1, "%s: vigiectl exits 1 (held): %d" % (name, p.returncode))
    check(len(lines) == 1 and lines[0]["verdict"] == "unscannable",
          "%s: unscannable (%s)" % (name, lines[0]["verdict"] if lines else "no report"))
    reasons = [u["reason"] for u in lines[0]["unscannable"]] if lines else []
    check("worker-crash" in reasons or "corrupt" in reasons,
          "%s: reason worker-crash or corrupt (%s)" % (name, reasons))
finish()
