"""The demo: vigied in the foreground on demo/, the sample files dropped into
the watched folder, what was delivered and what was held, then the daemon keeps
running (on a terminal) until Ctrl-C."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

build, root = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
conf = os.path.join(root, "vigie.conf")
watch = os.path.join(root, "partage", "vers-ia")
deliver = os.path.join(root, "ia", "entree")
vigiectl = [os.path.join(build, "vigiectl"), "-c", conf]

npath = os.path.join(root, "notify.sock")
notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
notify.bind(npath)
ready = threading.Event()


def reader():
    while True:
        try:
            m = notify.recv(4096).decode()
        except OSError:
            return
        if "READY=1" in m:
            ready.set()


threading.Thread(target=reader, daemon=True).start()
print("== vigied -c %s (foreground; its log follows) ==" % conf, flush=True)
daemon = subprocess.Popen([os.path.join(build, "vigied"), "-c", conf],
                          env=dict(os.environ, NOTIFY_SOCKET=npath))
if not ready.wait(30):
    print("vigied did not start")
    daemon.kill()
    sys.exit(1)
time.sleep(0.3)
print("\n== an employee drops the samples into %s ==" % watch, flush=True)
for dp, dn, fn in os.walk(os.path.join(root, "samples")):
    for f in fn:
        src = os.path.join(dp, f)
        dst = os.path.join(watch, os.path.relpath(src, os.path.join(root, "samples")))
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy(src, dst + ".part")
        os.rename(dst + ".part", dst)
end = time.time() + 30
while time.time() < end:
    left = [f for dp, dn, fn in os.walk(watch) if ".vigie-staging" not in dp
            for f in fn if ".vigie-" not in f]
    if not left:
        break
    time.sleep(0.2)
time.sleep(0.5)


def tree(path):
    for dp, dn, fn in sorted(os.walk(path)):
        if ".vigie-staging" in dp:
            continue
        for f in sorted(fn):
            print("   ", os.path.relpath(os.path.join(dp, f), path))


print("\n== delivered to the AI tool's folder %s ==" % deliver)
tree(deliver)
print("\n== left in the shared folder for the employee (notices of held files) ==")
tree(watch)
print("\n== vigiectl list ==", flush=True)
subprocess.run(vigiectl + ["list"])
items = subprocess.run(vigiectl + ["list", "--json"], capture_output=True, text=True).stdout
import json
held = json.loads(items) if items.strip() else []
if held:
    print("\n== vigiectl show %s ==" % held[0]["id"], flush=True)
    subprocess.run(vigiectl + ["show", held[0]["id"]])
notices = [os.path.join(dp, f) for dp, dn, fn in os.walk(watch) for f in fn if ".vigie-retenu" in f]
if notices:
    print("\n== the notice the employee finds: %s ==" % os.path.relpath(notices[0], root))
    with open(notices[0]) as fh:
        print(fh.read())
if sys.stdin.isatty():
    print("vigied keeps running: drop files into %s, try\n  %s status\n"
          "Ctrl-C to stop." % (watch, " ".join(vigiectl)), flush=True)
    try:
        daemon.wait()
    except KeyboardInterrupt:
        pass
daemon.send_signal(signal.SIGTERM)
daemon.wait(20)
notify.close()
