"""No flood: 500 flagged files dropped at once. Past alerts.rate_limit alerts a
minute a channel sends digests, not 500 mails; every held file is still named
exactly once per channel (alone or in a digest); nothing leaks."""

import json
import math
import os
import re
import time

from common import args, check, finish, no_leak, scratch, vgfix
from daemon_harness import Daemon
from test_alerts import HTTPSink, SMTPSink, drained, mail_text, parse_mail, write

N = 500
RATE = 5


def main():
    a = args()
    tmp = scratch("alerts-burst")
    rng = vgfix.rng(23)
    smtp = SMTPSink().start()
    web = HTTPSink().start()
    conf = ('alerts = { admins = [ "admin@exemple.fr" ];\n'
            '  mail = { relay = "smtp://127.0.0.1:%d"; from = "vigie@exemple.fr"; };\n'
            '  webhooks = ( { url = "http://127.0.0.1:%d/hook"; format = "json"; } );\n'
            '  templates = "/nonexistent"; rate_limit = %d; digest_interval = 3;\n'
            '  retry_min = 1; retry_max = 2; };\n' % (smtp.port, web.port, RATE))
    d = Daemon(a.build, os.path.join(tmp, "d"), extra=conf).start()
    planted = []
    t0 = time.time()
    for i in range(N):
        iban = vgfix.french_iban(rng)
        planted.append(iban)
        write(os.path.join(d.watch, "lot%d" % (i % 10), "facture-%03d.txt" % i),
              "Facture %d, IBAN %s\n" % (i, vgfix.spaced(iban)))
    check(d.settled(timeout=300), "%d flagged files decided" % N)
    check(drained(d, 120), "the outbox is empty: every alert went out")
    took = time.time() - t0
    held = {it["id"] for it in d.items() if it["state"] == "held"}
    check(len(held) == N, "%d items held (%d)" % (N, len(held)))

    singles, digests = {}, []
    text = d.read_log()
    for m in smtp.messages:
        subj, body, msg = mail_text(m)
        text += m["data"].decode("utf-8", "replace") + subj + body
        aid = str(msg["X-Vigie-Alert-Id"])
        if aid.startswith("dg-"):
            digests.append((subj, body))
        else:
            singles[aid] = singles.get(aid, 0) + 1
    minutes = math.ceil(took / 60) + 1
    print("burst: %d files in %.1fs -> %d mails (%d alone, %d digests)" %
          (N, took, len(smtp.messages), len(singles), len(digests)))
    check(len(smtp.messages) < 60, "digests, not %d mails (%d)" % (N, len(smtp.messages)))
    check(len(singles) <= RATE * minutes, "at most rate_limit=%d alerts alone a minute (%d)" % (RATE, len(singles)))
    check(digests and all(re.match(r"\[vigie\] \d+ alertes regroupées \(vers-ia\)$", s) for s, _ in digests),
          "digest subjects say how many (%s)" % (digests[0][0] if digests else None))
    named = dict(singles)
    total_in_digests = 0
    for subj, body in digests:
        total_in_digests += int(subj.split()[1])
        for i in re.findall(r"^  - (vg-[a-z0-9]{10})  ", body, re.M):
            named[i] = named.get(i, 0) + 1
    check(set(named) == held and all(v == 1 for v in named.values()),
          "mail: every held file named exactly once, alone or in a digest (%d named, %d twice)" %
          (len(named), sum(1 for v in named.values() if v > 1)))
    check(total_in_digests + len(singles) == N, "digest counts add up (%d + %d)" % (total_in_digests, len(singles)))

    hook = {}
    ndig = 0
    bad_digest = None
    for x in web.posts:
        doc = json.loads(x["body"])
        text += x["body"].decode("utf-8", "replace")
        if doc["type"] == "digest":
            ndig += 1
            if x["headers"]["X-Vigie-Alert-Id"] != doc["id"] or doc["count"] != len(doc["alerts"]):
                bad_digest = doc["id"]
            ids = [al["id"] for al in doc["alerts"]]
        else:
            ids = [doc["id"]]
        for i in ids:
            hook[i] = hook.get(i, 0) + 1
    check(ndig > 0 and bad_digest is None, "webhook digests carry their id and list all their alerts")
    check(len(web.posts) < 60, "webhook: digests too (%d posts)" % len(web.posts))
    check(set(hook) == held and all(v == 1 for v in hook.values()),
          "webhook: every held file named exactly once")
    d.stop()
    smtp.stop()
    web.stop()
    no_leak(text, planted, "burst: mails, webhook payloads and log")
    finish(tmp)


if __name__ == "__main__":
    main()
