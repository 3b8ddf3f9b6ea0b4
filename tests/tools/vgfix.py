"""Fixture helpers for vigie's tests and demo: identifiers with correct check
digits (computed here, independently of the C validators), and small helpers to
run the binaries."""

import json
import os
import random
import subprocess

_IBAN_LEN = {"FR": 27, "DE": 22, "GB": 22, "BE": 16, "NL": 18, "ES": 24, "IT": 27,
             "CH": 21, "LU": 20, "PT": 25, "MC": 27}


def _mod97(digits):
    return int(digits) % 97


def _letters_to_digits(s):
    return "".join(str(int(c, 36)) for c in s)


def rib_key(bank, branch, account):
    table = {}
    for i, c in enumerate("ABCDEFGHI"):
        table[c] = i + 1
    for i, c in enumerate("JKLMNOPQR"):
        table[c] = i + 1
    for i, c in enumerate("STUVWXYZ"):
        table[c] = i + 2
    acc = "".join(str(table.get(c, c)) for c in account)
    return 97 - ((89 * int(bank) + 15 * int(branch) + 3 * int(acc)) % 97)


def iban_from_bban(cc, bban):
    check = 98 - _mod97(_letters_to_digits(bban + cc + "00"))
    return "%s%02d%s" % (cc, check, bban)


def iban_valid(iban):
    s = iban.replace(" ", "").upper()
    if _IBAN_LEN.get(s[:2]) not in (None, len(s)):
        return False
    return _mod97(_letters_to_digits(s[4:] + s[:4])) == 1


def french_iban(rng):
    bank = "%05d" % rng.randrange(10000, 99999)
    branch = "%05d" % rng.randrange(0, 99999)
    account = "%011d" % rng.randrange(0, 10 ** 11)
    key = "%02d" % rib_key(bank, branch, account)
    return iban_from_bban("FR", bank + branch + account + key)


def spaced(iban):
    return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))


def nir_key(body13):
    n = body13.replace("2A", "19").replace("2B", "18")
    return 97 - int(n) % 97


def nir(rng):
    sex = rng.choice("12")
    year = "%02d" % rng.randrange(0, 100)
    month = "%02d" % rng.randrange(1, 13)
    dep = "%02d" % rng.choice([d for d in range(1, 96) if d != 20])
    commune = "%03d" % rng.randrange(1, 990)
    order = "%03d" % rng.randrange(1, 999)
    body = sex + year + month + dep + commune + order
    return body + "%02d" % nir_key(body)


def nir_spaced(n):
    return " ".join([n[0], n[1:3], n[3:5], n[5:7], n[7:10], n[10:13], n[13:15]])


def spellings(value):
    """The usual ways one identifier is written, for leak checks."""
    compact = value.replace(" ", "")
    out = {compact, compact.lower(), spaced(compact)}
    if compact[:1].isdigit() and len(compact) == 15:
        out.add(nir_spaced(compact))
    return out


def digit_runs(value, n=8):
    d = "".join(c for c in value if c.isdigit())
    return {d[i:i + n] for i in range(0, len(d) - n + 1)}


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def scan_json(build, paths, config=None, extra=()):
    cmd = [os.path.join(build, "vigiectl"), "scan", "--json"]
    if config:
        cmd += ["-c", config]
    cmd += list(extra) + list(paths)
    p = run(cmd)
    lines = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
    return p, lines


def rng(seed=1234):
    return random.Random(seed)
