"""vigied as systemd runs it: readiness over NOTIFY_SOCKET, reload on SIGHUP (a
broken config is refused and the old one kept), clean exit on SIGTERM."""

import os
import signal
import socket
import subprocess
import time

from common import args, check, finish, scratch, vgfix

a = args()
tmp = scratch("vigied")
vigied = os.path.join(a.build, "vigied")
conf = os.path.join(tmp, "vigie.conf")
with open(conf, "w") as f:
    f.write('alerts = { language = "fr"; };\n')

p = vgfix.run([vigied, "--check-config", "-c", conf])
check(p.returncode == 0 and "valid" in p.stdout, "--check-config accepts a good file")
p = vgfix.run([vigied, "--check-config", "-c", os.path.join(a.source, "etc", "vigie.conf")])
check(p.returncode == 0, "--check-config accepts the shipped etc/vigie.conf")
bad = os.path.join(tmp, "bad.conf")
with open(bad, "w") as f:
    f.write("store = { retention_days = -3; };\n")
p = vgfix.run([vigied, "--check-config", "-c", bad])
check(p.returncode == 2 and "bad.conf:1:" in p.stderr and "store.retention_days" in p.stderr,
      "--check-config refuses a bad file with FILE:LINE and key")

sock_path = os.path.join(tmp, "notify.sock")
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sock_path)
s.settimeout(30)
env = dict(os.environ, NOTIFY_SOCKET=sock_path, WATCHDOG_USEC="2000000")
proc = subprocess.Popen([vigied, "-c", conf], env=env, stderr=subprocess.PIPE, text=True)
env["WATCHDOG_PID"] = str(proc.pid)


def messages(until, timeout=30):
    got = []
    end = time.time() + timeout
    while time.time() < end:
        try:
            m = s.recv(4096).decode()
        except socket.timeout:
            break
        got.append(m)
        if until in m:
            break
    return "\n".join(got)


t0 = time.time()
m = messages("READY=1")
check("READY=1" in m, "READY=1 sent (%.2fs)" % (time.time() - t0))
check("STATUS=" in messages("STATUS=", 5) or "STATUS=" in m, "STATUS= sent")

# reload with a broken config: refused, old one kept, still running
with open(conf, "w") as f:
    f.write("limits = { max_depth = ; };\n")
proc.send_signal(signal.SIGHUP)
m = messages("READY=1", 10)
check(proc.poll() is None, "still running after a reload with a broken config")
with open(conf, "w") as f:
    f.write('alerts = { language = "en"; };\n')
proc.send_signal(signal.SIGHUP)
m = messages("READY=1", 10)
check("RELOADING=1" in m and proc.poll() is None, "reload with a good config")
proc.send_signal(signal.SIGTERM)
try:
    rc = proc.wait(10)
except subprocess.TimeoutExpired:
    proc.kill()
    rc = -1
err = proc.stderr.read()
check(rc == 0, "clean exit on SIGTERM (rc=%d)" % rc)
check("event=reload-refused" in err and "config-error" in err, "the refused reload is logged with the reason")
check("event=reloaded" in err, "the good reload is logged")
s.close()
finish(tmp)
