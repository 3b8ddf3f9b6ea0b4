"""The system test: vigie installed from its .deb on a fresh Debian 12 booted
under real systemd, in a container on this machine.

A Debian 12 minbase root with systemd (plus the package's dependencies, from the
mirror of this machine's apt sources) is made once with debootstrap and cached
under /var/cache/vigie-test-root, keyed by a hash of its package list. Each run
boots a copy-on-write overlay of it with `systemd-nspawn --register=no
--keep-unit -D ROOT -b`, runs commands inside with `nsenter -t PID -a`, and
powers it off at the end. Inside: the .deb built by CPack (release build,
-DVIGIE_CRASHPOINTS=OFF) is installed with apt; the service is active after the
install, after a reboot and after `systemctl restart`; `systemd-analyze
security` gives an exposure of 2.5 or lower; the supervisor keeps only
CAP_DAC_OVERRIDE, CAP_FOWNER and CAP_LEASE and the workers none; a file an employee drops
into a Samba-like share (a folder of the share's group, which vigie is not in)
is held and `vigiectl list` shows it, `vigiectl release` restores it; `systemctl
reload` with a broken config fails and keeps the service running on the old
one; `apt remove` keeps the quarantine and `apt purge` deletes it.

If the container cannot be made or booted here, the test fails with the reason:
it never skips."""

import fcntl
import glob
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import time

from common import args, check, finish, no_leak, scratch, vgfix

SUITE = "bookworm"
BASE = ["systemd", "systemd-sysv", "dbus"]
CACHE = os.environ.get("VIGIE_TEST_ROOT_CACHE", "/var/cache/vigie-test-root")
EXPOSURE_MAX = 2.5
CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_LEASE = 1, 3, 28

a = args()
tmp = scratch("service-system")
os.chmod(tmp, 0o755)
T0 = time.time()


def phase(what):
    print("[%6.1fs] %s" % (time.time() - T0, what), flush=True)


def run(cmd, timeout=None, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)


def give_up(reason):
    """The test cannot go on: it fails, saying why (never a silent skip)."""
    check(False, reason)
    cleanup()
    finish(tmp)


# --- what the machine needs ----------------------------------------------------------------
missing = [t for t in ("debootstrap", "systemd-nspawn", "nsenter", "cpack", "dpkg-deb")
           if not shutil.which(t)]
if os.geteuid() != 0 or missing:
    check(False, "the system test needs root and debootstrap, systemd-nspawn (systemd-container), "
          "nsenter, cpack, dpkg-deb (missing: %s, uid %d)" % (missing, os.geteuid()))
    finish(tmp)

container = {"nspawn": None, "pid": None, "log": None}
mounts = []


def cleanup():
    poweroff()
    for m in reversed(mounts):
        if run(["umount", m]).returncode != 0:
            run(["umount", "-l", m])
    mounts.clear()


# --- the package: a release build of its own (no crash points, no sanitizer) -------------
phase("building the .deb")
pkg = os.path.join(a.build, "svc-pkg")
steps = [["cmake", "-S", a.source, "-B", pkg, "-DCMAKE_INSTALL_PREFIX=/usr", "-DVIGIE_CRASHPOINTS=OFF",
          "-DVIGIE_SANITIZE=OFF", "-DVIGIE_TESTS=OFF", "-DCMAKE_BUILD_TYPE=RelWithDebInfo"],
         ["cmake", "--build", pkg, "-j2"],
         ["cpack", "-G", "DEB", "--config", os.path.join(pkg, "CPackConfig.cmake"), "-B", pkg]]
for s in steps:
    p = run(s)
    if p.returncode != 0:
        give_up("building the package: %s: %s" % (" ".join(s[:3]), (p.stdout + p.stderr)[-1500:]))
debs = sorted(glob.glob(os.path.join(pkg, "vigie_*.deb")), key=os.path.getmtime)
if not debs:
    give_up("cpack made no vigie_*.deb in %s" % pkg)
deb = debs[-1]
fields = run(["dpkg-deb", "-f", deb, "Package", "Version", "Depends"]).stdout
depends = re.search(r"^Depends: (.*)$", fields, re.M).group(1)
dep_names = sorted({d.split("|")[0].split("(")[0].split(":")[0].strip() for d in depends.split(",")})
phase("package %s, depends on %s" % (os.path.basename(deb), ", ".join(dep_names)))
p = run(["dpkg-deb", "-e", deb, os.path.join(tmp, "control")])
conffiles = open(os.path.join(tmp, "control", "conffiles")).read().split() if p.returncode == 0 else []
check("/etc/vigie/vigie.conf" in conffiles, "the config is a conffile of the package")
check(all(os.access(os.path.join(tmp, "control", s), os.X_OK) for s in ("postinst", "prerm", "postrm")),
      "maintainer scripts postinst, prerm, postrm")


# --- the cached Debian 12 root ------------------------------------------------------------------
def apt_mirror():
    """The first Debian archive of this machine's apt sources that serves SUITE/main."""
    entries = []
    for path in ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*")):
        try:
            text = open(path).read()
        except OSError:
            continue
        if path.endswith(".sources"):
            for stanza in re.split(r"\n\s*\n", text):
                f = {}
                for line in stanza.splitlines():
                    if ":" in line and not line.startswith("#") and not line[0].isspace():
                        k, v = line.split(":", 1)
                        f[k.strip().lower()] = v.split()
                entries.append((f.get("types", []), f.get("uris", []), f.get("suites", []),
                                f.get("components", [])))
        else:
            for line in text.splitlines():
                w = re.sub(r"\[[^]]*\]", "", line.split("#")[0]).split()
                if len(w) >= 4:
                    entries.append(([w[0]], [w[1]], [w[2]], w[3:]))
    for types, uris, suites, comps in entries:
        if "deb" in types and SUITE in suites and "main" in comps and uris:
            return uris[0]
    for types, uris, suites, comps in entries:
        if "deb" in types and uris and uris[0].rstrip("/").endswith("/debian"):
            return uris[0]
    return None


mirror = apt_mirror()
if not mirror:
    give_up("no Debian mirror in this machine's apt sources for debootstrap")
packages = sorted(set(BASE + dep_names))
key = hashlib.sha256(json.dumps({"suite": SUITE, "variant": "minbase", "mirror": mirror,
                                 "packages": packages}).encode()).hexdigest()[:16]
os.makedirs(CACHE, exist_ok=True)
entry = os.path.join(CACHE, key)
lower = os.path.join(entry, "root")
with open(os.path.join(CACHE, ".lock"), "w") as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)  # one debootstrap at a time; others wait and reuse it
    if not os.path.exists(os.path.join(entry, "complete")):
        phase("making the Debian 12 root (debootstrap from %s; cached afterwards)" % mirror)
        shutil.rmtree(entry, ignore_errors=True)
        os.makedirs(entry)
        t = time.time()
        p = run(["debootstrap", "--variant=minbase", "--include=" + ",".join(packages), SUITE,
                 lower, mirror])
        with open(os.path.join(entry, "debootstrap.log"), "w") as f:
            f.write(p.stdout + p.stderr)
        if p.returncode != 0:
            give_up("debootstrap failed (%s): %s" % (p.returncode, (p.stdout + p.stderr)[-1500:]))
        for f in glob.glob(os.path.join(lower, "var/cache/apt/archives/*.deb")):
            os.unlink(f)
        with open(os.path.join(entry, "complete"), "w") as f:
            f.write(json.dumps({"packages": packages, "mirror": mirror, "seconds": time.time() - t}))
        phase("root made in %.0f s" % (time.time() - t))
    else:
        phase("cached root %s" % entry)
    os.utime(os.path.join(entry, "complete"))
    # Roots for package lists no longer built, unused for a week, go.
    for old in glob.glob(os.path.join(CACHE, "*", "complete")):
        if os.path.dirname(old) != entry and time.time() - os.path.getmtime(old) > 7 * 86400:
            shutil.rmtree(os.path.dirname(old), ignore_errors=True)

# Each run writes to an overlay: the cached root stays as debootstrap made it.
merged = os.path.join(tmp, "root")
for d in ("upper", "work", "root"):
    os.makedirs(os.path.join(tmp, d))
p = run(["mount", "-t", "overlay", "overlay", "-o", "lowerdir=%s,upperdir=%s,workdir=%s" %
         (lower, os.path.join(tmp, "upper"), os.path.join(tmp, "work")), merged])
if p.returncode == 0:
    mounts.append(merged)
else:
    phase("overlay refused (%s): copying the root" % p.stderr.strip())
    os.rmdir(merged)
    if run(["cp", "-a", lower, merged]).returncode != 0:
        give_up("cannot copy the cached root")
shutil.copy(deb, os.path.join(merged, "root", os.path.basename(deb)))


# --- booting and driving the container ----------------------------------------------------------
def container_init(nspawn_pid):
    """The container's systemd: a descendant of systemd-nspawn that is PID 1 of its namespace."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            status = open("/proc/%s/status" % pid).read()
        except OSError:
            continue
        nspid = re.search(r"^NSpid:\s+(.*)$", status, re.M)
        if not nspid or nspid.group(1).split()[-1] != "1" or len(nspid.group(1).split()) < 2:
            continue
        p = int(pid)
        while p > 1:
            try:
                st = open("/proc/%d/stat" % p).read()
            except OSError:
                break
            p = int(st[st.rindex(")") + 2:].split()[1])
            if p == nspawn_pid:
                return int(pid)
    return None


def boot(n):
    log = open(os.path.join(tmp, "boot%d.log" % n), "w")
    t = time.time()
    container["nspawn"] = subprocess.Popen(
        ["systemd-nspawn", "--register=no", "--keep-unit", "-D", merged, "-b",
         "--machine=vigie-test-%d" % os.getpid()],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    container["log"] = log.name
    end = time.time() + 60
    while time.time() < end and container["nspawn"].poll() is None:
        container["pid"] = container_init(container["nspawn"].pid)
        if container["pid"]:
            break
        time.sleep(0.2)
    if not container["pid"]:
        give_up("the container did not boot (systemd-nspawn exit %s): %s" %
                (container["nspawn"].poll(), open(log.name, errors="replace").read()[-2000:]))
    # Until its manager listens, systemctl fails at once: ask again.
    state, end = "", time.time() + 180
    while time.time() < end and container["nspawn"].poll() is None:
        p = inside("systemctl is-system-running --wait", timeout=max(1, end - time.time()))
        state = p.stdout.strip()
        if state in ("running", "degraded", "maintenance", "stopping"):
            break
        time.sleep(0.5)
    if state not in ("running", "degraded"):
        give_up("the container's systemd did not come up (%s %s): %s" %
                (state, p.stderr.strip()[-300:], open(log.name, errors="replace").read()[-2000:]))
    if state == "degraded":
        print("degraded boot; failed units:", inside("systemctl --failed --no-legend").stdout.strip())
    phase("container booted (%s) in %.1f s, systemd pid %d" % (state, time.time() - t, container["pid"]))


def poweroff():
    ns = container.get("nspawn")
    if not ns or ns.poll() is not None:
        return
    inside("systemctl poweroff", timeout=30)
    try:
        ns.wait(60)
    except subprocess.TimeoutExpired:
        # Only what this test started: systemd-nspawn, then the container's init.
        ns.send_signal(signal.SIGTERM)
        try:
            ns.wait(20)
        except subprocess.TimeoutExpired:
            if container["pid"]:
                os.kill(container["pid"], signal.SIGKILL)
            ns.kill()
            ns.wait()
    container["pid"] = None


def inside(cmd, timeout=300, user=None):
    """A shell command in the container, with a clean environment."""
    if user:
        cmd = "runuser -u %s -- sh -c %s" % (user, shquote(cmd))
    full = ["nsenter", "-t", str(container["pid"]), "-a", "env", "-i",
            "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "DEBIAN_FRONTEND=noninteractive",
            "sh", "-c", cmd]
    try:
        return run(full, timeout=timeout)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(full, 124, "", "timed out after %d s" % timeout)


def shquote(s):
    return "'" + s.replace("'", "'\\''") + "'"


def wait_until(cond, timeout):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.3)
    return cond()


def status_of(pid):
    p = inside("cat /proc/%s/status" % pid)
    return dict(l.split(":", 1) for l in p.stdout.splitlines() if ":" in l)


def main_pid():
    return inside("systemctl show -p MainPID --value vigie").stdout.strip()


def ctl_json(*words, user="paul"):
    p = inside("vigiectl %s --json" % " ".join(shquote(w) for w in words), user=user)
    try:
        return json.loads(p.stdout)
    except ValueError:
        return {"error": p.stdout + p.stderr}




def stopped(signum, frame):
    raise SystemExit(1)  # through `finally`: the container is powered off first


signal.signal(signal.SIGTERM, stopped)
try:
    boot(1)

    # --- install from the .deb ---------------------------------------------------------------
    t = time.time()
    p = inside("cd /root && apt-get install -y --no-install-recommends ./%s" % os.path.basename(deb))
    phase("apt install in %.1f s" % (time.time() - t))
    check(p.returncode == 0, "apt install ./%s on a fresh Debian 12 (%s)" %
          (os.path.basename(deb), (p.stdout + p.stderr)[-800:] if p.returncode else "ok"))
    check(inside("systemctl is-active vigie").stdout.strip() == "active", "the service runs after the install")
    check(inside("systemctl is-enabled vigie").stdout.strip() == "enabled", "and is enabled")
    ids = inside("id -u vigie; getent group vigie-admin; stat -c '%U %a' /var/lib/vigie /var/spool/vigie")
    check(re.search(r"^vigie-admin:", ids.stdout, re.M) and "vigie 700" in ids.stdout and
          "vigie 710" in ids.stdout, "user vigie, group vigie-admin, private store and spool")
    p = inside("systemd-analyze verify --man=no /lib/systemd/system/vigie.service")
    check(p.returncode == 0 and not (p.stdout + p.stderr).strip(),
          "systemd-analyze verify on the installed unit (%s)" % (p.stdout + p.stderr).strip()[:400])
    p = inside("systemd-analyze security --no-pager vigie.service")
    m = re.search(r"Overall exposure level for vigie\.service: ([0-9.]+)", p.stdout)
    exposure = float(m.group(1)) if m else 99.0
    print("systemd-analyze security vigie.service: exposure %.1f (target <= %.1f)" % (exposure, EXPOSURE_MAX))
    for line in p.stdout.splitlines():
        if line.startswith("\u2717"):
            print("   " + " ".join(line.split()[:2]))
    check(m is not None and exposure <= EXPOSURE_MAX, "exposure %.1f <= %.1f" % (exposure, EXPOSURE_MAX))

    # --- a Samba-like share: the group bureau, folders 2770, files 0660 -----------------------
    setup = """set -e
groupadd bureau
useradd -m -G bureau marie
useradd -m -G vigie-admin paul
useradd -m eve
install -d -o root -g bureau -m 2770 /srv/partage /srv/partage/vers-ia
install -d -o root -g root -m 0755 /srv/ia
cp /etc/vigie/vigie.conf /root/vigie.conf.shipped
sed -i 's|^routes = ( );|routes = (\\n  { name = "vers-ia"; type = "folder"; mode = "gate";\\n    watch = "/srv/partage/vers-ia"; deliver = "/srv/ia/entree"; settle = 1; }\\n);|' /etc/vigie/vigie.conf
grep -q 'watch = "/srv/partage/vers-ia"' /etc/vigie/vigie.conf
vigied --check-config
systemctl reload vigie
cp /etc/vigie/vigie.conf /root/vigie.conf.good
"""
    p = inside(setup)
    check(p.returncode == 0, "a gate route added to the shipped config, checked and reloaded (%s)"
          % (p.stdout + p.stderr).strip()[-400:])

    # --- after a reboot, and after systemctl restart ---------------------------------------------
    poweroff()
    boot(2)
    check(inside("systemctl is-active vigie").stdout.strip() == "active", "the service runs after boot")
    st = ctl_json("status")
    check([r.get("active") for r in st.get("routes", [])] == [True], "its route is active after boot (%s)"
          % st.get("routes", st))
    before = main_pid()
    p = inside("systemctl restart vigie")
    after = main_pid()
    check(p.returncode == 0 and inside("systemctl is-active vigie").stdout.strip() == "active" and
          after not in ("", "0", before), "active after systemctl restart (MainPID %s -> %s)" % (before, after))

    # --- what each process keeps --------------------------------------------------------------------
    uid = inside("id -u vigie").stdout.strip()
    sup = status_of(after)
    want_caps = (1 << CAP_DAC_OVERRIDE) | (1 << CAP_FOWNER) | (1 << CAP_LEASE)
    check(sup.get("Uid", "").split()[:1] == [uid] and int(sup.get("CapEff", "0"), 16) == want_caps and
          int(sup.get("CapBnd", "0"), 16) == want_caps and sup.get("NoNewPrivs", "").strip() == "1" and
          sup.get("Seccomp", "").strip() == "2",
          "the supervisor runs as vigie with CAP_DAC_OVERRIDE, CAP_FOWNER and CAP_LEASE only (CapEff %s)"
          % sup.get("CapEff", "?").strip())
    workers = inside("for d in /proc/[0-9]*; do [ \"$(cat $d/comm 2>/dev/null)\" = vigie-worker ] && "
                     "echo ${d#/proc/}; done").stdout.split()
    wst = [status_of(w) for w in workers]
    bad = [(w, s.get("CapPrm", "").strip(), s.get("CapEff", "").strip(), s.get("CapAmb", "").strip())
           for w, s in zip(workers, wst)
           if any(int(s.get(k, "1"), 16) for k in ("CapInh", "CapPrm", "CapEff", "CapAmb")) or
           s.get("Uid", "").split()[:1] != [uid] or s.get("NoNewPrivs", "").strip() != "1" or
           s.get("Seccomp", "").strip() != "2"]
    check(workers and not bad, "the %d workers keep no capability (uid vigie, no new privileges, "
          "seccomp) %s" % (len(workers), bad))

    # --- an employee drops files -----------------------------------------------------------------------
    rng = vgfix.rng(8)
    iban, nir = vgfix.french_iban(rng), vgfix.nir(rng)
    body = "Virement sur %s pour le salarié %s\n" % (vgfix.spaced(iban), vgfix.nir_spaced(nir))
    drop = ("umask 007; mkdir -p /srv/partage/vers-ia/rh && "
            "printf '%%s' %s > /srv/partage/vers-ia/rh/paie.txt && "
            "printf 'Ordre du jour de lundi\\n' > /srv/partage/vers-ia/ordre-du-jour.txt && "
            "stat -c '%%a %%U:%%G' /srv/partage/vers-ia/rh/paie.txt" % shquote(body))
    p = inside(drop, user="marie")
    check(p.stdout.strip() == "660 marie:bureau", "marie drops a file only her group can read (%s)"
          % (p.stdout + p.stderr).strip())
    check(wait_until(lambda: inside("test -f /srv/ia/entree/ordre-du-jour.txt").returncode == 0, 30),
          "the clean file reaches the AI tool's folder")
    items = []

    def listed():
        got = ctl_json("list")
        items[:] = got if isinstance(got, list) else got.get("items", [])
        return any(i.get("name") == "paie.txt" for i in items)

    wait_until(listed, 30)
    held = [i for i in items if i.get("name") == "paie.txt"]
    check(len(held) == 1 and held[0].get("state") == "held" and held[0].get("route") == "vers-ia",
          "vigiectl list (as a member of vigie-admin) shows the held file (%s)" % items)
    left = inside("ls -A /srv/partage/vers-ia/rh; ls -A /srv/ia/entree").stdout.split()
    check("paie.txt" not in left and "paie.txt.vigie-retenu.txt" in left,
          "the flagged file left the share, a notice took its place (%s)" % left)
    p = inside("vigiectl list", user="eve")
    check(p.returncode != 0 and "vigie-admin" in p.stdout + p.stderr, "a non-admin is refused (%s)"
          % (p.stdout + p.stderr).strip()[:200])
    iid = held[0]["id"] if held else "none"
    show = ctl_json("show", iid)
    check(show.get("owner") == "marie" and show.get("origin") == "/srv/partage/vers-ia/rh/paie.txt",
          "show: owner and origin (%s, %s)" % (show.get("owner"), show.get("origin")))

    # --- release ------------------------------------------------------------------------------------------
    p = inside("vigiectl release %s --reason 'IBAN du fournisseur, vérifié'" % iid, user="paul")
    got = inside("cat /srv/ia/entree/rh/paie.txt").stdout
    check(p.returncode == 0 and got == body, "vigiectl release restores the file into the AI folder (%s)"
          % (p.stdout + p.stderr).strip()[:200])
    check(ctl_json("show", iid).get("state") == "released", "the item is released")

    # --- a reload with a broken file -------------------------------------------------------------------
    pid0 = main_pid()
    # A plausible slip: store_dir for store.dir.
    p = inside("echo 'store_dir = \"/srv/quarantaine\";' >> /etc/vigie/vigie.conf && systemctl reload vigie")
    said = re.compile(r"vigie\.conf:\d+: unknown key 'store_dir'")
    check(p.returncode != 0 and wait_until(lambda: said.search(inside(
        "journalctl -u vigie --no-pager -o cat").stdout), 10),
          "systemctl reload with a broken config fails (rc %d), and the journal names file, line "
          "and key" % p.returncode)
    check(inside("systemctl is-active vigie").stdout.strip() == "active" and main_pid() == pid0,
          "and the service keeps running (same MainPID)")
    inside("printf 'Menu de la cantine\\n' > /srv/partage/vers-ia/menu.txt", user="marie")
    check(wait_until(lambda: inside("test -f /srv/ia/entree/menu.txt").returncode == 0, 30),
          "on its running configuration: a new file is still decided")
    p = inside("cp /root/vigie.conf.good /etc/vigie/vigie.conf && systemctl reload vigie")
    check(p.returncode == 0, "the repaired config reloads")

    # --- mail: anyone may submit through vigie-sendmail, nobody may read the spool ----------------
    st = inside("stat -c '%U:%G %a' /usr/sbin/vigie-sendmail /var/spool/vigie").stdout.split()
    check(st == ["root:vigie-mail", "2755", "vigie:vigie-mail", "710"],
          "vigie-sendmail is setgid vigie-mail (not root), the spool belongs to vigie-mail (%s)" % st)
    p = inside("""set -e
sed -i 's|entree"; settle = 1; }|entree"; settle = 1; },\\n  { name = "mail-sortant"; type = "mail"; spool = "/var/spool/vigie/sortant";\\n    forward = "smtp://127.0.0.1:9"; internal_domains = [ "bureau.test" ]; }|' /etc/vigie/vigie.conf
grep -q 'name = "mail-sortant"' /etc/vigie/vigie.conf
vigied --check-config
systemctl reload vigie
""")
    check(p.returncode == 0, "a mail route added and reloaded (%s)" % (p.stdout + p.stderr).strip()[-400:])
    check(wait_until(lambda: inside("stat -c '%U:%G %a' /var/spool/vigie/sortant/new").stdout.strip()
                     == "vigie:vigie-mail 1730", 20), "vigied makes new/ 1730 vigie:vigie-mail (%s)"
          % inside("stat -c '%U:%G %a' /var/spool/vigie/sortant/new").stdout.strip())
    p = inside("printf 'From: eve@bureau.test\\nTo: bob@client.test\\nSubject: essai\\n\\nBonjour\\n' | "
               "/usr/sbin/vigie-sendmail -f eve@bureau.test bob@client.test; echo rc=$?; "
               "ls /var/spool/vigie/sortant/new; echo ls=$?", user="eve")
    check("rc=0" in p.stdout and "ls=0" not in p.stdout,
          "eve (in no vigie group) submits a mail, and cannot list the spool (%s)"
          % (p.stdout + p.stderr).strip()[-300:])
    stored = inside("stat -c '%U:%G %a' /var/spool/vigie/sortant/new/*").stdout.strip()
    check(stored == "eve:vigie-mail 640" and wait_until(lambda: "event=mail-deferred" in inside(
        "journalctl -u vigie --no-pager -o cat").stdout, 30),
          "the mail is stored 0640 eve:vigie-mail and waits while the relay is down (%s)" % stored)

    # --- nothing shown anywhere holds the identifiers -------------------------------------------------
    shown = inside("journalctl -u vigie --no-pager -o verbose; cat /srv/partage/vers-ia/rh/*.vigie-*; "
                   "vigiectl list; vigiectl show %s; vigiectl show %s --json" % (iid, iid)).stdout
    no_leak(shown, [iban, nir], "journal, notice, list and show")

    # --- remove keeps the quarantine, purge deletes it --------------------------------------------------
    p = inside("apt-get remove -y vigie")
    kept = inside("test -f /var/lib/vigie/vigie.db && test -f /var/lib/vigie/blobs/%s && echo kept" % iid)
    check(p.returncode == 0 and "quarantine is kept" in p.stdout and kept.stdout.strip() == "kept",
          "apt remove keeps the quarantine and says so")
    check(inside("systemctl is-active vigie").stdout.strip() != "active", "and the service is stopped")
    p = inside("apt-get purge -y vigie")
    gone = inside("test -e /var/lib/vigie || echo gone").stdout.strip()
    check(p.returncode == 0 and "deleting the quarantine" in p.stdout and gone == "gone",
          "apt purge says it deletes the quarantine, and does")
finally:
    cleanup()
phase("done")
finish(tmp)
