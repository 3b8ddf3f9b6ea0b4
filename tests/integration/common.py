"""Shared set-up of the integration tests: arguments, a scratch folder, checks."""

import argparse
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))

import vgfix  # noqa: E402

FAILURES = []


def args():
    p = argparse.ArgumentParser()
    p.add_argument("--build", required=True)
    p.add_argument("--source", required=True)
    return p.parse_args()


def scratch(name):
    d = tempfile.mkdtemp(prefix="vigie-%s-" % name)
    return d


def check(cond, what):
    if cond:
        print("ok - %s" % what)
    else:
        print("FAIL - %s" % what)
        FAILURES.append(what)


def finish(tmp=None):
    if tmp and not FAILURES:
        shutil.rmtree(tmp, ignore_errors=True)
    elif tmp:
        print("kept %s for inspection" % tmp)
    total = len(FAILURES)
    print("%d failed" % total)
    sys.exit(1 if total else 0)


def no_leak(text, values, what):
    """None of the values, in their usual spellings or as runs of 8 digits."""
    leaks = []
    for v in values:
        for s in vgfix.spellings(v) | vgfix.digit_runs(v):
            if s in text:
                leaks.append(s)
    check(not leaks, "%s: no full identifier in the output %s" % (what, leaks[:3]))
