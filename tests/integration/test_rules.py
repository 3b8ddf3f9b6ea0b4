"""Custom rules and dictionaries from rules.d, end to end through `vigiectl scan`
and `vigied --check-config`: folders read in order, the admin's file overriding a
shipped rule by id, dictionaries matched without case or accents, policies naming
custom ids, masked samples, and a broken rules file reported as FILE:LINE with
exit status 2. Also the secret, password and marking detectors in the JSON."""

import json
import os
import random
import string

from common import args, check, finish, scratch, vgfix

a = args()
tmp = scratch("rules")
vigiectl = os.path.join(a.build, "vigiectl")
vigied = os.path.join(a.build, "vigied")
rng = random.Random(11)


def put(rel, text):
    p = os.path.join(tmp, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w", encoding="utf-8") as f:
        f.write(text)
    return p


def luhn_complete(body):
    """The digit that makes body + digit pass Luhn."""
    total = 0
    for i, c in enumerate(reversed(body)):
        d = int(c)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return body + str((10 - total % 10) % 10)


def token(alphabet, n):
    return "".join(rng.choice(alphabet) for _ in range(n))


b62 = string.ascii_letters + string.digits
shipped = os.path.join(tmp, "usr-share-rules.d")
admin = os.path.join(tmp, "etc-rules.d")
put("usr-share-rules.d/10-base.conf", """
rules = (
  { id = "matricule"; pattern = "MAT-[0-9]{6}"; context = [ "matricule" ]; },
  { id = "vieux_code"; pattern = "OLD-[0-9]{4}"; }
);
""")
put("etc-rules.d/50-bureau.conf", """
# the admin's: replaces the shipped matricule, drops vieux_code
rules = (
  { id = "matricule"; pattern = "EMP-[0-9]{5}"; validator = "luhn"; threshold = 2; },
  { id = "vieux_code"; enabled = false; },
  { id = "clients"; dictionary = "clients.txt"; },
  { id = "cle_interne"; pattern = "KEY-[A-Z]{8}"; show = "hidden"; }
);
markings = [ "Projet Orion - diffusion limitée" ];
""")
put("etc-rules.d/clients.txt", "# nos clients\nBoulangerie Ménard\nÉTS DUPONT & FILS\n")
put("etc-rules.d/README", "not a rules file")

conf = put("vigie.conf", """
rules = { dirs = [ "%s", "%s" ]; };
policies = {
  default = { detectors = { clients = { action = "alert"; }; }; };
};
""" % (shipped, admin))

emp1 = "EMP-" + luhn_complete("1234")
emp2 = "EMP-" + luhn_complete("5678")
bad_emp = "EMP-" + luhn_complete("1234")[:-1] + str((int(luhn_complete("1234")[-1]) + 1) % 10)
ghp = "ghp_" + token(b62, 36)
sk = "sk_live_" + token(b62, 24)
pw = "Xk9" + token(b62, 6) + "!"
files = {
    "one_emp.txt": "Salarié %s\n" % emp1,
    "two_emp.txt": "Salariés %s et %s, %s\n" % (emp1, emp2, bad_emp),
    "old.txt": "Code OLD-1234 et MAT-123456 du matricule\n",
    "client.txt": "Livraison pour la boulangerie MÉNARD et Éts Dupont & Fils.\n",
    "key.txt": "La clé KEY-ABCDEFGH du coffre.\n",
    "orion.txt": "PROJET ORION - DIFFUSION LIMITÉE\n\nCompte rendu.\n",
    "secrets.env": "GITHUB_TOKEN=%s\nSTRIPE=%s\nDB_PASSWORD=%s\n" % (ghp, sk, pw),
    "marking.txt": "Rapport T3 \u2014 Confidentiel \u2014 page 2\n",
    "clean.txt": "Le secret de la réussite : le mot de passe doit contenir 12 caractères.\n"
                 "Ce message et ses pièces jointes sont confidentiels.\n",
}
paths = {name: put(os.path.join("in", name), text) for name, text in files.items()}

p, lines = vgfix.scan_json(a.build, [os.path.join(tmp, "in")], conf)
check(p.returncode == 1, "scan with custom rules: exit 1 (%d) %s" % (p.returncode, p.stderr[:200]))
by = {os.path.basename(l["path"]): l for l in lines}
for secret in (emp1[4:], emp2[4:], ghp[4:-4], sk[8:-4], pw, "ABCDEFGH"):
    check(secret not in p.stdout, "no full value in the output: %s..." % secret[:4])


def det(name, d):
    return [f for f in by.get(name, {}).get("findings", []) if f["detector"] == d]


f = det("one_emp.txt", "matricule")
check(len(f) == 1 and f[0]["count"] == 1, "admin's matricule rule replaces the shipped one")
check(by.get("one_emp.txt", {}).get("verdict") == "clean",
      "matricule threshold 2 from the rules file: one is below it")
f = det("two_emp.txt", "matricule")
check(len(f) == 1 and f[0]["count"] == 2, "luhn validator drops the bad number (%s)" % f)
check(by.get("two_emp.txt", {}).get("verdict") == "flagged", "two matricules: flagged")
check(by.get("old.txt", {}).get("verdict") == "clean" and not by.get("old.txt", {}).get("findings"),
      "disabled and replaced rules find nothing")
f = det("client.txt", "clients")
check(len(f) == 1 and f[0]["count"] == 2, "dictionary: case and accents folded (%s)" % f)
check(f and sorted(f[0]["masked"]) == sorted(["boulangerie MÉNARD", "Éts Dupont & Fils"])
      if f else False, "dictionary terms shown as written: %s" % (f[0]["masked"] if f else None))
check(by.get("client.txt", {}).get("action") == "alert", "policy action for a custom id")
f = det("key.txt", "cle_interne")
check(len(f) == 1 and f[0]["masked"] == ["****"], "show = hidden")
check(by.get("key.txt", {}).get("action") == "quarantine", "custom ids default to quarantine")
f = det("orion.txt", "marking")
check(len(f) == 1, "a marking from the rules file")
f = det("secrets.env", "api_token")
check(len(f) == 1 and f[0]["count"] == 2, "two API tokens (%s)" % f)
check(f and ghp[:4] + "****" + ghp[-4:] in f[0]["masked"], "token masked as prefix + tail")
f = det("secrets.env", "password")
check(len(f) == 1 and f[0]["masked"] == ["DB_PASSWORD=********"], "password masked entirely")
f = det("marking.txt", "marking")
check(len(f) == 1 and f[0]["masked"] == ["Confidentiel"], "a marking in a header line")
check(by.get("clean.txt", {}).get("verdict") == "clean",
      "prose, documentation and a disclaimer are clean: %s" % by.get("clean.txt", {}).get("findings"))

# --- the configuration check and broken files ------------------------------------
p = vgfix.run([vigied, "--check-config", "-c", conf])
check(p.returncode == 0, "vigied --check-config accepts the rules (%s)" % p.stderr.strip())

broken = put("etc-rules.d/60-broken.conf",
             "rules = (\n  { id = \"x1\";\n    pattern = \"[0-9]+\"; }\n);\n")
for cmd in ([vigiectl, "scan", "-c", conf, paths["clean.txt"]], [vigied, "--check-config", "-c", conf]):
    p = vgfix.run(cmd)
    check(p.returncode == 2, "%s: broken rules file exits 2 (%d)" % (os.path.basename(cmd[0]), p.returncode))
    check("%s:3: " % broken in p.stderr, "%s: FILE:LINE of the broken rule: %s"
          % (os.path.basename(cmd[0]), p.stderr.strip()))
    check(p.stdout == "", "%s: nothing scanned with a broken rules file" % os.path.basename(cmd[0]))
os.unlink(broken)

broken = put("etc-rules.d/60-broken.conf", "rules = ( { id = ; } );\n")
p = vgfix.run([vigiectl, "scan", "-c", conf, paths["clean.txt"]])
check(p.returncode == 2 and "%s:1: " % broken in p.stderr, "syntax error: FILE:LINE (%s)" % p.stderr.strip())
os.unlink(broken)

put("etc-rules.d/clients.txt", "Boulangerie Ménard\nX\n")
p = vgfix.run([vigiectl, "scan", "-c", conf, paths["clean.txt"]])
check(p.returncode == 2 and "clients.txt:2: " in p.stderr,
      "a bad dictionary term: its FILE:LINE (%s)" % p.stderr.strip())
put("etc-rules.d/clients.txt", "Boulangerie Ménard\n")

bad_policy = put("bad-policy.conf", """
rules = { dirs = [ "%s" ]; };
policies = { default = { detectors = {
  clientz = { threshold = 2; }; }; }; };
""" % admin)
p = vgfix.run([vigiectl, "scan", "-c", bad_policy, paths["clean.txt"]])
check(p.returncode == 2 and "bad-policy.conf:4: unknown detector 'clientz'" in p.stderr,
      "a policy naming an unknown custom id: %s" % p.stderr.strip())

finish(tmp)
