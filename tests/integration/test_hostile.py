"""The hostile files of issue 9 (tests/tools/hostile.py), each carrying a planted
IBAN and NIR, through `vigiectl scan --json` and through the running daemon
(gate route): every one ends flagged or unscannable, never clean, within the
scan time limit, under the per-worker memory bound (workers.memory = 256M, the
RLIMIT_AS of each scan worker), with max_expanded lowered to 64M to keep the
suite short: test_archive_limits runs the bombs under the default limits. Special files and awkward names in the watched
folder never crash the daemon, nothing is written outside the store, nothing is
left undecided. Prints a table: input, result, time, peak RSS.

Then the "no lazy" check: the same build and configuration scan the clean
fixtures (office fixtures, demo samples, clean documents made here) with zero
unscannable results."""

import json
import os
import shutil
import subprocess
import sys
import threading
import time

from common import args, check, finish, no_leak, scratch, vgfix
from daemon_harness import Daemon

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import archfix  # noqa: E402
import hostile  # noqa: E402
import mailfix  # noqa: E402
import pdfgen  # noqa: E402

a = args()
tmp = scratch("hostile")
VIGIECTL = os.path.join(a.build, "vigiectl")
MEMORY_MB = 256
SCAN_TIME = 60  # the default limits.max_scan_time
GRACE = 15      # the worker is killed a few seconds past it; process start-up


def sanitized(build):
    try:
        with open(os.path.join(build, "CMakeCache.txt")) as f:
            return "VIGIE_SANITIZE:BOOL=ON" in f.read()
    except OSError:
        return False


ASAN = sanitized(a.build)
if ASAN:
    print("# sanitizer build: workers.memory (RLIMIT_AS) is not applied and AddressSanitizer's "
          "shadow memory inflates RSS: the memory bound is not checked here, the normal build checks it")
# Workers run as an unprivileged user: they must reach the files, and spool
# members needing a seek into a folder they may write.
os.chmod(tmp, 0o755)
spool = os.path.join(tmp, "spool")
os.makedirs(spool)
os.chmod(spool, 0o1777)
conf = os.path.join(tmp, "vigie.conf")
with open(conf, "w") as f:
    f.write('workers = { memory = "%dM"; tmpdir = "%s"; };\n' % (MEMORY_MB, spool))
    # The bombs end at a limit whatever max_expanded is; the default (1G) makes
    # each take 20 s to a minute on a shared 2-core machine. test_archive_limits
    # runs the same bombs under the default limits; here 64M keeps the suite short.
    f.write('limits = { max_expanded = "64M"; };\n')

for p in hostile.ESCAPES:
    if os.path.lexists(p):
        os.unlink(p)

t0 = time.time()
gen = hostile.generate(os.path.join(tmp, "files"))
print("# generated %d hostile inputs in %.1f s" % (len(gen.cases), time.time() - t0))


class Sampler:
    """Largest VmHWM of the processes whose parent is `ppid` (the scan
    workers), read every 20 ms while a command runs."""

    def __init__(self, ppid_fn):
        self.ppid_fn = ppid_fn
        self.peak_kb = 0
        self.stop = False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stop:
            ppid = self.ppid_fn()
            if ppid:
                for pid in os.listdir("/proc"):
                    if not pid.isdigit():
                        continue
                    try:
                        with open("/proc/%s/status" % pid) as f:
                            st = f.read()
                    except OSError:
                        continue
                    fields = dict(l.split(":", 1) for l in st.splitlines() if ":" in l)
                    if fields.get("PPid", "").strip() != str(ppid) or "VmHWM" not in fields:
                        continue
                    self.peak_kb = max(self.peak_kb, int(fields["VmHWM"].split()[0]))
            time.sleep(0.02)

    def done(self):
        self.stop = True
        self.t.join()
        return self.peak_kb


def measured_scan(paths):
    """vigiectl scan --json under GNU time (its peak RSS includes the workers it
    reaps) with the workers' VmHWM sampled too. Returns (lines, out, secs, MiB)."""
    rss_file = os.path.join(tmp, ".rss")
    cmd = ["/usr/bin/time", "-f", "%M", "-o", rss_file, VIGIECTL, "scan", "--json", "-c", conf] + paths
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    t0 = time.monotonic()

    def vigiectl_pid():
        try:
            with open("/proc/%d/task/%d/children" % (proc.pid, proc.pid)) as f:
                kids = f.read().split()
            return int(kids[0]) if kids else 0
        except OSError:
            return 0

    s = Sampler(vigiectl_pid)
    out, err = proc.communicate()
    secs = time.monotonic() - t0
    sampled = s.done()
    try:
        with open(rss_file) as f:
            rss = int(f.read().split()[-1])
    except (OSError, ValueError, IndexError):
        rss = 0
    text = out.decode("utf-8", "replace")
    lines = [json.loads(l) for l in text.splitlines() if l.strip()]
    return lines, text + err.decode("utf-8", "replace"), secs, max(rss, sampled) / 1024.0


def summary(line):
    rs = sorted({u["reason"] for u in line.get("unscannable", [])})
    ds = sorted({x["detector"] for x in line.get("findings", [])})
    return "%s%s%s" % (line.get("verdict"), (" " + ",".join(rs)) if rs else "",
                       (" [" + ",".join(ds) + "]") if ds else "")


ALL_OUTPUT = []
TABLE = []
sha_of = {}

# --- 1. vigiectl scan, one file at a time ---------------------------------------
files = [c for c in gen.cases if c.kind == "file" and c.group != "special"]
for c in files:
    lines, out, secs, mb = measured_scan([c.path])
    ALL_OUTPUT.append(out)
    line = lines[0] if len(lines) == 1 else {}
    sha_of[c.name] = line.get("sha256", "")
    TABLE.append((c.group, c.name, summary(line), secs, mb))
    check(line.get("verdict") in ("flagged", "unscannable"),
          "scan %s: never clean (%s)" % (c.name, summary(line)))
    check(secs < SCAN_TIME + GRACE, "scan %s: within the scan time limit (%.1f s)" % (c.name, secs))
    if not ASAN:
        check(mb < MEMORY_MB, "scan %s: peak RSS %.0f MiB < %d MiB" % (c.name, mb, MEMORY_MB))

# the special folder (FIFO, socket, device, sparse file, names, deep path, escaping
# members), walked as a folder: one line per entry
special_dir = os.path.join(gen.out, "special")
lines, out, secs, mb = measured_scan([special_dir])
ALL_OUTPUT.append(out)
by_path = {l["path"]: l for l in lines}
specials = [c for c in gen.cases if c.group == "special"]
print("# special folder: %d entries in %.1f s, peak RSS %.0f MiB" % (len(lines), secs, mb))
check(len(lines) == len(specials), "scan of the special folder: one line per entry (%d of %d)"
      % (len(lines), len(specials)))
for l in lines:
    c = next((c for c in specials if os.path.basename(c.path) in l["path"]
              or c.kind == "deep" and "fond.txt" in l["path"]), None)
    name = c.name if c and c.kind != "file" else os.path.basename(l["path"])
    if c and c.kind == "special":
        ok = l.get("verdict") == "unscannable" and {u["reason"] for u in l["unscannable"]} == {"special-file"}
    else:
        ok = l.get("verdict") in ("flagged", "unscannable")
    TABLE.append(("special", name, summary(l), secs, mb))
    check(ok, "scan special/%s: %s" % (name, summary(l)))
check(not any(os.path.lexists(p) for p in hostile.ESCAPES), "scan: archive members ../../ and / wrote nothing")
check(secs < SCAN_TIME + GRACE and (ASAN or mb < MEMORY_MB),
      "scan of the special folder (10 GB sparse file included): %.1f s, %.0f MiB" % (secs, mb))

# --- 2. the daemon, gate route --------------------------------------------------
# max_expanded is lowered to 64M here to keep the suite short (the bombs end
# at a limit either way).
d = Daemon(a.build, os.path.join(tmp, "daemon"), workers_extra='memory = "%dM";' % MEMORY_MB,
           extra='limits = { max_expanded = "64M"; };\n')
os.chmod(d.root, 0o1777)  # the harness's workers.tmpdir
d.start()
sampler = Sampler(lambda: d.proc.pid)
t0 = time.time()
for c in files:
    os.rename(c.path, os.path.join(d.watch, c.name))
for e in os.listdir(special_dir):
    os.rename(os.path.join(special_dir, e), os.path.join(d.watch, e))
ok = d.settled(timeout=600)
took = time.time() - t0
wpeak = sampler.done() / 1024.0
check(ok, "daemon: every hostile file decided (%.1f s)" % took)
check(d.proc.poll() is None, "daemon: still running")
items = d.items()
check(all(it["verdict"] in ("flagged", "unscannable") for it in items) and
      all(it["state"] == "held" for it in items), "daemon: every item held, flagged or unscannable")
check(d.delivered() == [], "daemon: nothing delivered (%s)" % d.delivered()[:5])
expect = len(files) + sum(1 for c in specials if c.kind != "special")
check(len(items) == expect, "daemon: one item per hostile file (%d of %d)" % (len(items), expect))
held_sha = {}
for it in items:
    s = d.ctl_json("show", it["id"])
    held_sha.setdefault(s["sha256"], []).append(s)
missing = [c.name for c in files if sha_of.get(c.name) and sha_of[c.name] not in held_sha]
check(not missing, "daemon: each file held is the file scanned (by SHA-256) %s" % missing[:5])
blobs = os.listdir(os.path.join(d.store, "blobs"))
check(sorted(blobs) == sorted(it["id"] for it in items), "daemon: one blob per item, nothing else in the store")
du = sum(os.stat(os.path.join(d.store, "blobs", b)).st_blocks * 512 for b in blobs)
check(du < 200 << 20, "daemon: the 10 GB sparse file stays sparse in the store (%.0f MiB on disk)" % (du / 2 ** 20))
log = d.read_log()
for name in ("tube", "prise", "peripherique"):
    p = os.path.join(d.watch, name)
    check(os.path.lexists(p) and not os.path.isfile(p), "daemon: %s left where it was" % name)
check(log.count("reason=special-file") >= 3, "daemon: FIFO, socket and device logged special-file")
check(not d.staged() and not d.waiting(), "daemon: nothing stuck in staging or in the folder (%s)"
      % (d.staged() + d.waiting())[:3])
check(not any(os.path.lexists(p) for p in hostile.ESCAPES), "daemon: archive members ../../ and / wrote nothing")
check(d.status()["workers"]["count"] == 2, "daemon: the worker pool is whole")
print("# daemon: %d hostile files decided in %.1f s, workers' peak RSS %.0f MiB%s"
      % (len(items), took, wpeak, " (sanitizer build)" if ASAN else ""))
if not ASAN:
    check(wpeak < MEMORY_MB, "daemon: workers' peak RSS %.0f MiB < %d MiB" % (wpeak, MEMORY_MB))
ALL_OUTPUT.append(log + d.ctl("list").stdout + json.dumps(items))
d.stop()

print("# %-10s %-34s %-48s %8s %9s" % ("group", "input", "result (vigiectl scan)", "time", "peak RSS"))
for g, n, r, secs, mb in TABLE:
    print("# %-10s %-34s %-48s %7.2fs %6.0f MiB" % (g, n[:34], r[:48], secs, mb))

# --- 3. no lazy: the clean fixtures scan with zero unscannable --------------------
clean = os.path.join(tmp, "clean")
os.makedirs(clean)
office = os.path.join(a.source, "tests", "integration", "office")
for n in os.listdir(office):
    if n != "expected.json":
        shutil.copy(os.path.join(office, n), os.path.join(clean, n))
demo = os.path.join(tmp, "demo")
subprocess.run([sys.executable, os.path.join(a.source, "tests", "tools", "make_demo.py"), demo],
               check=True, capture_output=True)
for dp, dn, fn in os.walk(os.path.join(demo, "samples")):
    for n in fn:
        if n != "archive-tronquee.zip":  # damaged on purpose
            shutil.copy(os.path.join(dp, n), os.path.join(clean, "demo-" + n))
rng = vgfix.rng(99)
iban = vgfix.french_iban(rng)
gen.planted.append(iban)
made = {
    "lettre.docx": hostile._docx(hostile._w_doc("", "Bonjour, la réunion est jeudi.", "Cordialement.")),
    "releve.pdf": pdfgen.document([["Releve du mois", "Virement %s" % vgfix.spaced(iban)]], flate=True),
    "note.pdf": pdfgen.document([["Note de service", "Fermeture le 14 juillet."]]),
    "mail.eml": (mailfix.HDR + "Subject: planning\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
                 "La réunion est déplacée.\r\n").encode(),
    "pieces.zip": archfix.zip_bytes([("a.txt", b"Devis joint.\n"), ("b/c.csv", b"x;y\n1;2\n")]),
    "pieces.tar.gz": hostile._tar([("a.txt", b"Devis joint.\n")], "w:gz"),
    "utf16.txt": "\ufeffCompte rendu, été 2024.\n".encode("utf-16-le"),
}
for n, data in made.items():
    with open(os.path.join(clean, n), "wb") as f:
        f.write(data)
if shutil.which("7z"):
    subprocess.run(["7z", "a", "-bd", "-y", os.path.join(clean, "pieces.7z"), os.path.join(clean, "lettre.docx")],
                   check=True, capture_output=True)
lines, out, secs, mb = measured_scan([clean])
ALL_OUTPUT.append(out)
n_uns = sum(1 for l in lines if l.get("unscannable"))
counts = {v: sum(1 for l in lines if l["verdict"] == v) for v in ("clean", "flagged", "unscannable")}
print("# no lazy: %d clean fixtures scanned in %.1f s: %d clean, %d flagged (planted identifiers), "
      "%d with an unscannable part" % (len(lines), secs, counts["clean"], counts["flagged"], n_uns))
check(len(lines) == len(os.listdir(clean)), "no lazy: every fixture scanned (%d)" % len(lines))
check(n_uns == 0, "no lazy: zero unscannable results on clean fixtures %s"
      % [(l["path"], l.get("unscannable")) for l in lines if l.get("unscannable")][:3])

with open(os.path.join(office, "expected.json")) as f:
    for vals in json.load(f).values():
        gen.planted += vals
no_leak("\n".join(ALL_OUTPUT), gen.planted, "every output")
shutil.rmtree(os.path.join(tmp, "files"), ignore_errors=True)
finish(tmp)

