"""The service as shipped, without booting anything: the staged install puts
every file where the unit and Debian expect it; `systemd-analyze verify` and the
offline security review pass on the unit; sysusers.d and tmpfiles.d create the
user, the admin group and the private folders; the man pages agree with each
binary's --help; and vigied started exactly as the unit starts it (the
ExecStartPre check, NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID, ExecReload,
SIGTERM) reports READY, pings the watchdog in time, reloads and stops."""

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import threading
import time

from common import args, check, finish, scratch

EXPOSURE_MAX = 2.5

a = args()
tmp = scratch("service-units")
stage = os.path.join(tmp, "stage")
unit_built = os.path.join(a.build, "systemd", "vigie.service")


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def unit_entries(path):
    """[(section, key, value)] of a unit file, in order."""
    out, section = [], None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line.strip("[]")
                continue
            k, _, v = line.partition("=")
            out.append((section, k.strip(), v.strip()))
    return out


# --- the staged install -----------------------------------------------------------
p = run(["cmake", "--install", a.build], env=dict(os.environ, DESTDIR=stage))
check(p.returncode == 0, "cmake --install into a staging folder (%s)" % p.stderr.strip()[-300:])
entries = unit_entries(unit_built)
svc = {}
for sec, k, v in entries:
    if sec == "Service":
        svc.setdefault(k, []).append(v)
exec_start = shlex.split(svc["ExecStart"][0])[0]
sbindir = os.path.dirname(exec_start)
prefix = os.path.dirname(sbindir)
staged = {
    "unit": "/lib/systemd/system/vigie.service",
    "sysusers": "/usr/lib/sysusers.d/vigie.conf",
    "tmpfiles": "/usr/lib/tmpfiles.d/vigie.conf",
    "config": "/etc/vigie/vigie.conf",
    "vigied": exec_start,
    "vigiectl": os.path.join(sbindir, "vigiectl"),
    "readme": os.path.join(prefix, "share/doc/vigie/README.md"),
    "vigied.8": os.path.join(prefix, "share/man/man8/vigied.8.gz"),
    "vigiectl.8": os.path.join(prefix, "share/man/man8/vigiectl.8.gz"),
    "vigie.conf.5": os.path.join(prefix, "share/man/man5/vigie.conf.5.gz"),
}
missing = [k for k, v in staged.items() if not os.path.isfile(stage + v)]
check(not missing, "installed in the standard places: %s (missing: %s)" %
      (", ".join(sorted(set(os.path.dirname(v) for v in staged.values()))), missing))
print("the unit runs %s (install prefix %s)" % (exec_start, prefix))
sbin_staged = sorted(os.listdir(stage + sbindir)) if os.path.isdir(stage + sbindir) else []
man_pages = sorted(os.listdir(stage + prefix + "/share/man/man8")) if os.path.isdir(
    stage + prefix + "/share/man/man8") else []
check(all(b + ".8.gz" in man_pages for b in sbin_staged),
      "every installed program has its man page (%s / %s)" % (sbin_staged, man_pages))

# --- the unit: what the issue asks for, then systemd's own verdicts -----------------
want = {
    "Type": "notify", "Restart": "on-failure", "User": "vigie", "ProtectSystem": "strict",
    "ProtectHome": "yes", "PrivateTmp": "yes", "PrivateDevices": "yes", "NoNewPrivileges": "yes",
    "ProtectKernelTunables": "yes", "ProtectKernelModules": "yes", "ProtectKernelLogs": "yes",
    "ProtectControlGroups": "yes", "RestrictNamespaces": "yes", "LockPersonality": "yes",
    "SystemCallFilter": "@system-service", "SystemCallArchitectures": "native",
    "RuntimeDirectory": "vigie", "MemoryDenyWriteExecute": "no",
}
wrong = {k: svc.get(k) for k, v in want.items() if svc.get(k) != [v]}
check(not wrong, "unit: notify, restart, user and hardening as the issue lists (wrong: %s)" % wrong)
check(svc.get("WatchdogSec") and svc["WatchdogSec"][0] not in ("0", "infinity"), "unit: WatchdogSec set")
check(any("--check-config" in v for v in svc.get("ExecStartPre", [])), "unit: ExecStartPre checks the config")
check(any(re.search(r"kill -HUP \$MAINPID$", v) for v in svc.get("ExecReload", [])),
      "unit: ExecReload sends SIGHUP (%s)" % svc.get("ExecReload"))
rw = " ".join(svc.get("ReadWritePaths", [])).split()
check(all(d in rw for d in ("/srv", "/var/lib/vigie", "/var/spool/vigie")),
      "unit: /srv, the store and the spool are writable (%s)" % rw)
check("AF_UNIX" in " ".join(svc.get("RestrictAddressFamilies", [])), "unit: address families restricted")
caps = set(" ".join(svc.get("CapabilityBoundingSet", [])).split())
check(caps == {"CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_LEASE"} and
      set(" ".join(svc.get("AmbientCapabilities", [])).split()) == caps,
      "unit: only CAP_DAC_OVERRIDE, CAP_FOWNER and CAP_LEASE, bounding and ambient (%s)"
      % sorted(caps))
with open(unit_built) as f:
    text = f.read()
check(re.search(r"#[^\n]*PCRE2[^\n]*JIT|#[^\n]*JIT[^\n]*PCRE2", text) is not None,
      "unit: a comment says MemoryDenyWriteExecute is off for PCRE2's JIT")
p = run([os.path.join(a.build, "vigied"), "--check-config", "-c", os.path.join(a.source, "etc", "vigie.conf")])
check(p.returncode == 0, "the shipped config is valid")
conf = open(os.path.join(a.source, "etc", "vigie.conf")).read()
sock = re.search(r'socket\s*=\s*"([^"]+)"', conf).group(1)
store = re.search(r'dir\s*=\s*"(/var/[^"]+)"', conf).group(1)
check(sock.startswith("/run/%s/" % svc["RuntimeDirectory"][0]) and store in rw,
      "the default socket is in RuntimeDirectory and the default store is writable (%s, %s)"
      % (sock, store))

# systemd-analyze verify: on a copy whose programs point into the staged tree
# (verify checks that they exist); man pages are checked just above.
vunit = os.path.join(tmp, "vigie.service")
with open(vunit, "w") as f:
    f.write(text.replace(sbindir + "/", stage + sbindir + "/"))
t0 = time.time()
p = run(["systemd-analyze", "verify", "--man=no", vunit])
out = (p.stdout + p.stderr).strip()
check(p.returncode == 0 and not out, "systemd-analyze verify: no complaint (%s)" % out[:500])
p = run(["systemd-analyze", "security", "--offline=true", "--no-pager", vunit])
m = re.search(r"Overall exposure level for vigie\.service: ([0-9.]+)", p.stdout)
exposure = float(m.group(1)) if m else 99.0
print("systemd-analyze security (offline): exposure %.1f (target <= %.1f)" % (exposure, EXPOSURE_MAX))
check(m is not None and exposure <= EXPOSURE_MAX, "offline security review: exposure %.1f <= %.1f"
      % (exposure, EXPOSURE_MAX))

# sysusers.d and tmpfiles.d, applied to the staged root
os.makedirs(os.path.join(stage, "etc"), exist_ok=True)
for f in ("passwd", "group", "shadow", "gshadow"):
    open(os.path.join(stage, "etc", f), "a").close()
p = run(["systemd-sysusers", "--root=" + stage, "vigie.conf"])
check(p.returncode == 0, "systemd-sysusers applies vigie.conf (%s)" % p.stderr.strip())
users = {l.split(":")[0]: l.split(":") for l in open(os.path.join(stage, "etc", "passwd"))}
groups = {l.split(":")[0]: l.split(":") for l in open(os.path.join(stage, "etc", "group"))}
check("vigie" in users and int(users["vigie"][2]) < 1000 and users["vigie"][6].strip().endswith("nologin"),
      "sysusers: a system user vigie without a shell")
check("vigie-admin" in groups, "sysusers: the group vigie-admin")
check("vigie-mail" in groups and groups["vigie-mail"][3].strip() == "vigie",
      "sysusers: the group vigie-mail of the mail spool, with vigie as its only member")
p = run(["systemd-tmpfiles", "--root=" + stage, "--create", "vigie.conf"])
check(p.returncode == 0, "systemd-tmpfiles creates the folders (%s)" % p.stderr.strip())
for d, mode, group in (("/var/lib/vigie", 0o700, "vigie"), ("/var/spool/vigie", 0o710, "vigie-mail")):
    st = os.stat(stage + d) if os.path.isdir(stage + d) else None
    check(st is not None and st.st_uid == int(users.get("vigie", [0, 0, -1])[2]) and
          st.st_gid == int(groups.get(group, [0, 0, -1])[2]) and (st.st_mode & 0o7777) == mode,
          "tmpfiles: %s is vigie:%s, mode %o" % (d, group, mode))

# --- man pages: roff without warnings, and the options of --help ----------------------
OPT = re.compile(r"(?<![\w-])(--?[a-zA-Z][a-zA-Z-]*)")
# Options the man page documents on purpose although --help does not list them.
EXTRA = {"vigie-sendmail": {"-oi", "-o", "-B", "-F", "-h", "--help"}}


def roff_text(path, sections=None):
    """The page's text without comments and font changes; only the named
    sections (.SH NAME) when given."""
    with open(path) as f:
        s = f.read()
    s = "\n".join(l for l in s.splitlines() if not l.startswith('.\\"'))
    if sections:
        parts = re.split(r"^\.SH ", s, flags=re.M)
        s = "\n".join(p for p in parts if p.split("\n", 1)[0].strip() in sections)
    return re.sub(r"\\f[BIRP]", "", s).replace("\\-", "-").replace("\\(dq", '"')


mandir = os.path.join(a.source, "daemon", "man")
for page in sorted(os.listdir(mandir)):
    p = run(["groff", "-man", "-Tutf8", "-ww", "-z", os.path.join(mandir, page)])
    check(p.returncode == 0 and not p.stderr.strip(), "%s: groff -ww has no warning %s" % (page, p.stderr[:200]))
programs = [b for b in ("vigied", "vigiectl", "vigie-sendmail") if os.path.exists(os.path.join(a.build, b))]
for prog in programs:
    page = os.path.join(mandir, prog + ".8")
    if not os.path.exists(page):
        check(False, "%s has a man page" % prog)
        continue
    helps = [run([os.path.join(a.build, prog), "--help"])]
    if prog == "vigiectl":
        verbs = re.findall(r"^  ([a-z][a-z-]*) ", helps[0].stdout, re.M)
        check(len(verbs) >= 8 and "release" in verbs, "vigiectl --help lists the verbs (%s)" % verbs)
        helps += [run([os.path.join(a.build, prog), v, "--help"]) for v in verbs]
    htext = "".join(h.stdout + h.stderr for h in helps)
    hopts = set(OPT.findall(htext))
    mtext = roff_text(page, ("SYNOPSIS", "OPTIONS", "VERBS"))
    mopts = set(OPT.findall(mtext))
    check(hopts and hopts <= mopts, "%s(8) documents every option of --help (missing %s)"
          % (prog, sorted(hopts - mopts)))
    check(mopts <= hopts | EXTRA.get(prog, set()), "%s(8) documents no option that --help lacks (%s)"
          % (prog, sorted(mopts - hopts - EXTRA.get(prog, set()))))
    if prog == "vigiectl":
        missing = [v for v in verbs if not re.search(r"^\.B %s\b" % v, mtext, re.M)]
        check(not missing, "vigiectl(8) has an entry for every verb (missing %s)" % missing)
p = run([os.path.join(a.build, "vigie-sendmail"), "-oi", "-h"]) if "vigie-sendmail" in programs else None
check(p is None or p.returncode == 0, "vigie-sendmail accepts the compatibility options its page lists")
cfg_page = roff_text(os.path.join(mandir, "vigie.conf.5"))
keys = re.findall(r"^\s*([a-z_]+) = ", conf, re.M)
check(all(k in cfg_page for k in keys), "vigie.conf(5) names every key of the shipped file (missing %s)"
      % [k for k in keys if k not in cfg_page])

# --- vigied started as the unit starts it ------------------------------------------------
root = os.path.join(tmp, "run")
os.makedirs(os.path.join(root, "watch"))
conf_path = os.path.join(root, "vigie.conf")
good = ('store = { dir = "%s/store"; };\ncontrol = { socket = "%s/control.sock"; };\n'
        'workers = { count = 2; tmpdir = "%s"; };\n'
        'routes = ( { name = "vers-ia"; type = "folder"; mode = "gate"; watch = "%s/watch"; '
        'deliver = "%s/deliver"; settle = 0.2; } );\n' % (root, root, root, root, root))
with open(conf_path, "w") as f:
    f.write(good)


def unit_cmd(line):
    """A unit's command line, with vigied from the build and our config."""
    argv = shlex.split(line)
    argv[0] = os.path.join(a.build, os.path.basename(argv[0]))
    return argv + ["-c", conf_path]


pre = run(unit_cmd(svc["ExecStartPre"][0]))
check(pre.returncode == 0 and "valid" in pre.stdout, "ExecStartPre: the configuration is valid")
npath = os.path.join(root, "notify.sock")
nsock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
nsock.bind(npath)
nsock.settimeout(0.2)
messages = []  # (time, datagram)


def reader():
    while True:
        try:
            m = nsock.recv(4096).decode()
            messages.append((time.time(), m))  # stamped once received
        except socket.timeout:
            continue
        except OSError:
            return


threading.Thread(target=reader, daemon=True).start()
WATCHDOG_USEC = 1000000
env = dict(os.environ, NOTIFY_SOCKET=npath, WATCHDOG_USEC=str(WATCHDOG_USEC))
# systemd sets WATCHDOG_PID to the main process: a shell that execs vigied keeps its pid.
argv = unit_cmd(svc["ExecStart"][0])
log = open(os.path.join(root, "vigied.log"), "w")
t0 = time.time()
proc = subprocess.Popen(["sh", "-c", 'WATCHDOG_PID=$$ exec "$@"', "sh"] + argv, env=env,
                        stdout=log, stderr=log)


def wait_for(what, since, timeout):
    end = time.time() + timeout
    while time.time() < end:
        for t, m in list(messages):
            if t >= since and what in m.split("\n"):
                return t
        if proc.poll() is not None:
            return None
        time.sleep(0.02)
    return None


ready = wait_for("READY=1", t0, 30)
print("READY=1 after %.2f s (WatchdogSec=%s in the unit)" % ((ready or 0) - t0, svc["WatchdogSec"][0]))
check(ready is not None and ready - t0 < 30, "started as systemd starts it: READY=1 within 30 s")
time.sleep(3.2)
pings = sorted(t for t, m in messages if "WATCHDOG=1" in m.split("\n") and t >= ready)
gaps = [b - a_ for a_, b in zip([ready] + pings, pings)]
print("watchdog: %d pings in %.1f s, longest gap %.2f s (WATCHDOG_USEC=%d)" %
      (len(pings), time.time() - ready, max(gaps or [0]), WATCHDOG_USEC))
check(len(pings) >= 4 and max(gaps) < WATCHDOG_USEC / 1e6,
      "watchdog pinged well within WATCHDOG_USEC, with WATCHDOG_PID set")
check(any(m.startswith("STATUS=") for _, m in messages), "STATUS= sent")

# ExecReload: the check, then SIGHUP to $MAINPID


def reload_cmd(line):
    """ExecReload= lines: vigied from the build with our config; kill as written."""
    if os.path.basename(shlex.split(line)[0]) == "vigied":
        return unit_cmd(line)
    return shlex.split(line.replace("$MAINPID", str(proc.pid)))


t1 = time.time()
ok = all(run(reload_cmd(line)).returncode == 0 for line in svc["ExecReload"])
check(ok and wait_for("RELOADING=1", t1, 10) and wait_for("READY=1", t1, 10),
      "ExecReload: checked, SIGHUP, RELOADING=1 then READY=1")
with open(conf_path, "w") as f:
    f.write(good + "limits = { max_dept = 3; };\n")
p = run(reload_cmd(svc["ExecReload"][0]))
check(p.returncode == 2 and re.search(r"vigie\.conf:\d+: unknown key 'limits\.max_dept'", p.stderr),
      "ExecReload with a broken file fails first, naming file, line and key")
check(proc.poll() is None, "and vigied keeps running")
with open(conf_path, "w") as f:
    f.write(good)
with open(os.path.join(root, "watch", "note.txt"), "w") as f:
    f.write("Ordre du jour de la réunion\n")
end = time.time() + 20
while time.time() < end and not os.path.exists(os.path.join(root, "deliver", "note.txt")):
    time.sleep(0.1)
check(os.path.exists(os.path.join(root, "deliver", "note.txt")), "the route still works after the refused reload")

# SIGTERM (systemctl stop): STOPPING=1, exit 0 well within TimeoutStopSec
t2 = time.time()
proc.send_signal(signal.SIGTERM)
try:
    rc = proc.wait(30)
except subprocess.TimeoutExpired:
    proc.kill()
    rc = proc.wait()
print("stopped in %.2f s" % (time.time() - t2))
time.sleep(0.5)  # the reader thread takes the last datagrams
check(rc == 0 and any(t >= t2 and "STOPPING=1" in m.split("\n") for t, m in messages),
      "SIGTERM: STOPPING=1 and exit 0 (rc %s)" % rc)
nsock.close()
log.close()
shutil.rmtree(stage, ignore_errors=True)
finish(tmp)
