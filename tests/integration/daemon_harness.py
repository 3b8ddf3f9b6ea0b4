"""Runs the real vigied in a temporary root, as systemd would (NOTIFY_SOCKET),
with vigiectl talking to it over its control socket."""

import json
import os
import signal
import socket
import subprocess
import threading
import time

import vgfix


class Daemon:
    def __init__(self, build, root, mode="gate", extra="", settle=0.2, workers=2, route_extra="",
                 workers_extra=""):
        self.build = build
        self.root = root
        self.watch = os.path.join(root, "watch")
        self.deliver = os.path.join(root, "deliver")
        self.store = os.path.join(root, "store")
        self.sock = os.path.join(root, "control.sock")
        self.conf = os.path.join(root, "vigie.conf")
        self.log_path = os.path.join(root, "vigied.log")
        self.proc = None
        self.notify = None
        os.makedirs(self.watch, exist_ok=True)
        # Workers started by root run as vigie (or nobody): their spool folder
        # must be theirs to write, as /tmp is.
        self.tmpdir = os.path.join(root, "tmp")
        os.makedirs(self.tmpdir, exist_ok=True)
        os.chmod(self.tmpdir, 0o1777)
        os.chmod(root, 0o755)
        deliver = 'deliver = "%s";' % self.deliver if mode == "gate" else ""
        with open(self.conf, "w") as f:
            f.write('store = { dir = "%s"; };\n' % self.store)
            f.write('control = { socket = "%s"; };\n' % self.sock)
            f.write('workers = { count = %d; tmpdir = "%s"; %s };\n' % (workers, self.tmpdir, workers_extra))
            f.write('routes = ( { name = "vers-ia"; type = "folder"; mode = "%s"; watch = "%s"; %s'
                    ' settle = %s; %s } );\n' % (mode, self.watch, deliver, settle, route_extra))
            f.write(extra)

    def start(self, env_extra=None, wait=True):
        npath = os.path.join(self.root, "notify.sock")
        if os.path.exists(npath):
            os.unlink(npath)
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(npath)
        self.notify.settimeout(0.5)
        env = dict(os.environ, NOTIFY_SOCKET=npath, WATCHDOG_USEC="2000000")
        env.update(env_extra or {})
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen([os.path.join(self.build, "vigied"), "-c", self.conf],
                                     env=env, stderr=self.log, stdout=self.log)
        self.messages = []
        self.ready_after = None
        # Read the notifications all along, as systemd does: a full datagram
        # queue would block the daemon's sd_notify().
        sock = self.notify

        def reader():
            while True:
                try:
                    m = sock.recv(4096).decode()
                except socket.timeout:
                    continue
                except OSError:
                    return
                self.messages.append(m)

        threading.Thread(target=reader, daemon=True).start()
        if wait:
            t0 = time.time()
            if not self.wait_message("READY=1", 30):
                raise RuntimeError("vigied did not report READY=1: " + self.read_log()[-2000:])
            self.ready_after = time.time() - t0
        return self

    def wait_message(self, what, timeout):
        end = time.time() + timeout
        while time.time() < end:
            if any(what in m for m in list(self.messages)):
                return True
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        return any(what in m for m in list(self.messages))

    def ctl(self, *args, user=None):
        cmd = [os.path.join(self.build, "vigiectl"), "-c", self.conf] + list(args)
        if user:
            cmd = ["setpriv", "--reuid=%d" % user, "--regid=%d" % user, "--clear-groups"] + cmd
        return vgfix.run(cmd)

    def ctl_json(self, *args):
        p = self.ctl(*args, "--json")
        if p.returncode != 0:
            raise RuntimeError("vigiectl %s: %s" % (" ".join(args), p.stderr))
        return json.loads(p.stdout)

    def items(self):
        return self.ctl_json("list")

    def status(self):
        return self.ctl_json("status")

    def staged(self):
        out = []
        st = os.path.join(self.watch, ".vigie-staging")
        for dp, dn, fn in os.walk(st):
            out += [os.path.join(dp, f) for f in fn]
        return out

    def waiting(self):
        """Files in the watched tree still to decide (not notices, not specials)."""
        out = []
        for dp, dn, fn in os.walk(self.watch):
            if ".vigie-staging" in dp:
                continue
            for f in fn:
                p = os.path.join(dp, f)
                if ".vigie-" in f or os.path.islink(p) or not os.path.isfile(p):
                    continue
                out.append(p)
        return out

    def settled(self, timeout=60, expect_left=0):
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                return False
            try:
                s = self.status()
            except RuntimeError:
                time.sleep(0.1)
                continue
            pending = sum(r["pending"] for r in s["routes"])
            if s["workers"]["queue"] == 0 and pending == 0 and not self.staged() and \
                    len(self.waiting()) <= expect_left:
                return True
            time.sleep(0.1)
        return False

    def delivered(self):
        out = []
        for dp, dn, fn in os.walk(self.deliver):
            out += [os.path.relpath(os.path.join(dp, f), self.deliver) for f in fn]
        return sorted(out)

    def read_log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def worker_pids(self):
        pids = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % pid) as f:
                    st = f.read()
            except OSError:
                continue
            comm = st[st.index("(") + 1:st.rindex(")")]
            ppid = int(st[st.rindex(")") + 2:].split()[1])
            if comm == "vigie-worker" and self.proc and ppid == self.proc.pid:
                pids.append(int(pid))
        return pids

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.notify:
            self.notify.close()
            self.notify = None
        return self.proc.returncode if self.proc else None

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.notify:
            self.notify.close()
            self.notify = None
