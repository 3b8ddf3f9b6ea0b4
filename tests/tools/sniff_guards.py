#!/usr/bin/env python3
"""Derives scanners/sniff_guards.h from the compiled magic database (magic.mgc).

sniff.c names a head "text/plain" without asking libmagic only when no rule of
the database that can lead to a MIME type could match it. This script reads
every top-level rule of the database (both passes: the binary rules run on the
raw head, the text rules on its UTF-8 re-encoding), follows each rule chain
that ends in a MIME type (through `use` and `indirect` too), and keeps for each
one a guard: one test of the chain that must hold for the chain to match,
rewritten as something cheap and conservative:

  - a fixed guard: bytes (with a mask) at a fixed offset of the raw head, for
    binary string and numeric `=` tests at absolute offsets;
  - a needle: a literal (compared case-folded) that must occur in the head's
    first `hi` bytes (or anywhere), optionally at a line start, for search,
    string and regex tests (regex: the longest literal the regex cannot match
    without).

A guard that cannot hold on a head of text bytes (tab, LF, CR, 0x20-0x7e,
0x80-0xff; past the end libmagic reads zeros) drops its chain. What has no
usable test is an error: the script stops and says which rule.

Usage: sniff_guards.py [/usr/lib/file/magic.mgc] > scanners/sniff_guards.h
Standard library only. Written for magic.mgc format 18 (file 5.4x)."""
import re
import struct
import sys

S = 376  # sizeof(struct magic), format 18
BINTEST, TEXTTEST, INDIR, OFFADD, UNSIGNED, OFFNEGATIVE = 0x20, 0x40, 0x01, 0x02, 0x08, 0x80
TYPES = {1: 'byte', 2: 'short', 3: 'default', 4: 'long', 5: 'string', 6: 'date', 7: 'beshort',
         8: 'belong', 9: 'bedate', 10: 'leshort', 11: 'lelong', 12: 'ledate', 13: 'pstring',
         14: 'ldate', 15: 'beldate', 16: 'leldate', 17: 'regex', 18: 'bestring16',
         19: 'lestring16', 20: 'search', 21: 'medate', 22: 'meldate', 23: 'melong', 24: 'quad',
         25: 'lequad', 26: 'bequad', 27: 'qdate', 28: 'leqdate', 29: 'beqdate', 30: 'qldate',
         31: 'leqldate', 32: 'beqldate', 33: 'float', 34: 'befloat', 35: 'lefloat', 36: 'double',
         37: 'bedouble', 38: 'ledouble', 39: 'beid3', 40: 'leid3', 41: 'indirect', 42: 'qwdate',
         43: 'leqwdate', 44: 'beqwdate', 45: 'name', 46: 'use', 47: 'clear', 48: 'der',
         49: 'guid', 50: 'offset'}
STRINGS = ('string', 'pstring', 'regex', 'bestring16', 'lestring16', 'search', 'name', 'use')
SIZE = {'byte': 1, 'short': 2, 'beshort': 2, 'leshort': 2, 'long': 4, 'belong': 4, 'lelong': 4,
        'date': 4, 'bedate': 4, 'ledate': 4, 'ldate': 4, 'beldate': 4, 'leldate': 4,
        'quad': 8, 'bequad': 8, 'lequad': 8, 'qdate': 8, 'beqdate': 8, 'leqdate': 8,
        'qldate': 8, 'beqldate': 8, 'leqldate': 8, 'qwdate': 8, 'beqwdate': 8, 'leqwdate': 8,
        'float': 4, 'befloat': 4, 'lefloat': 4, 'double': 8, 'bedouble': 8, 'ledouble': 8}
# string flags (file.h): W w c C, and T (trim) make a compare loose
LOOSE = 0x1 | 0x2 | 0x4 | 0x8 | 0x2000
REGEX_LINE_COUNT = 0x800
TEXT = set([9, 10, 13]) | set(range(0x20, 0x7f)) | set(range(0x80, 0x100))


def load(path):
    d = open(path, 'rb').read()
    magic, version, n0, n1 = struct.unpack('<4I', d[:16])
    if magic != 0xF11E041C or version != 18 or len(d) != S * (1 + n0 + n1):
        sys.exit('sniff_guards: %s is not a format 18 magic.mgc' % path)
    ents = []
    for i in range(n0 + n1):
        b = d[S * (1 + i):S * (2 + i)]
        (cl, flag, _f, reln, vallen, typ, _it, _io, mask_op, _c, _fo, off, _io2, lineno, cnt,
         fl) = struct.unpack('<HBBBBBBBBBBiiIII', b[:32])
        t = TYPES.get(typ, 'type%d' % typ)
        ents.append(dict(i=i, cl=cl, flag=flag, reln=chr(reln) if reln else '=', type=t,
                         off=off, cnt=cnt, fl=fl, mask=struct.unpack('<Q', b[24:32])[0],
                         mask_op=mask_op, val=b[32:32 + vallen] if t in STRINGS else b[32:40],
                         mime=b[224:304].split(b'\0')[0], lineno=lineno, raw=b))
    return d, n0, n1, ents


def regex_needle(rx):
    """(literal, at_line_start) the regex cannot match without, or None."""
    best, run, start_run, i = (b'', 0), b'', 0, 0
    anchored = rx.startswith(b'^')
    items = []  # (literal byte or None, required)
    if anchored:
        i = 1
        for blanks in (b'[[:space:]]*', b'[ \t]*', b'[ \t]{0,50}'):
            if rx.startswith(blanks, 1):
                anchored, i = 2, 1 + len(blanks)
                break
    while i < len(rx):
        c = rx[i:i + 1]
        if c == b'(':
            # a group: skip it whole (alternatives inside), it breaks the run
            lvl, j = 0, i
            while j < len(rx):
                if rx[j:j + 1] == b'\\':
                    j += 2
                    continue
                if rx[j:j + 1] == b'(':
                    lvl += 1
                elif rx[j:j + 1] == b')':
                    lvl -= 1
                    if lvl == 0:
                        break
                j += 1
            items.append((None, True))
            i = j + 1
        elif c == b'[':
            j = i + 1
            if rx[j:j + 1] == b'^':
                j += 1
            if rx[j:j + 1] == b']':
                j += 1
            while j < len(rx) and rx[j:j + 1] != b']':
                if rx[j:j + 2] == b'[:':
                    j = rx.index(b':]', j + 2) + 2
                    continue
                j += 1
            items.append((None, True))
            i = j + 1
        elif c == b'|':
            return None  # alternatives at the top: no single literal
        elif c == b'\\':
            items.append((rx[i + 1:i + 2], True))
            i += 2
        elif c in (b'.', b'$', b'^', b'\x08'):
            items.append((None, True))
            i += 1
        elif c in (b'*', b'?'):
            if items:
                items[-1] = (None, False)
            i += 1
        elif c == b'+':
            if items:
                items[-1] = (None, True)
            i += 1
        elif c == b'{':
            j = rx.index(b'}', i)
            if items:
                items[-1] = (None, not rx[i + 1:j].startswith(b'0'))
            i = j + 1
        else:
            items.append((c, True))
            i += 1
    def worth(c):  # as score() ranks needles: a line start is worth 4 bytes
        return 2 * len(c[0]) + (8 if c[1] == 1 else 6 if c[1] else 0)

    for k, (lit, _req) in enumerate(items):
        if lit is None:
            if worth((run, start_run)) > worth(best):
                best = (run, start_run)
            run = b''
            continue
        if not run:
            start_run = anchored if k == 0 else False
        run += lit
    if worth((run, start_run)) > worth(best):
        best = (run, start_run)
    # ^(a|b|c)...: one needle per alternative when they are all literals
    m = re.match(rb'^(\^?)\(([A-Za-z0-9_:.\\|-]+)\)', rx)
    if m:
        alts = [a.replace(b'\\', b'') for a in m.group(2).split(b'|')]
        if all(len(a) >= max(2, len(best[0]) + 1) for a in alts):
            return [(a, 1 if m.group(1) else 0) for a in alts]
    return [best] if len(best[0]) >= 2 or (best[0] and best[1]) else None


def num_bytes(e):
    n = SIZE[e['type']]
    v = struct.unpack('<Q', e['val'][:8])[0] & ((1 << 8 * n) - 1)
    m = (1 << 8 * n) - 1
    if e['mask']:
        if e['mask_op'] & 0x7f:  # only a plain AND mask is a byte mask
            return None
        m &= e['mask']
    order = 'big' if e['type'].startswith('be') else 'little'
    return v.to_bytes(n, order), m.to_bytes(n, order)


def fixed_possible(val, mask):
    need_zero = False
    for v, m in zip(val, mask):
        ok_text = any((c & m) == v for c in TEXT)
        if need_zero and v != 0:
            return False
        if not ok_text:
            if v != 0:
                return False
            need_zero = True
    return True


# Regexes whose needles the small parser above cannot find (magic lines in comments).
HAND_REGEX = {
    # ^\.[A-Za-z][A-Za-z0-9]$ and ^\.[A-Za-z][A-Za-z0-9][ \t] (troff requests)
    b'^\\.[A-Za-z][A-Za-z0-9]$': [(b'.', True)],
    b'^\\.[A-Za-z][A-Za-z0-9][ \t]': [(b'.', True)],
    b'^\\.(BEGIN|endif|include)': [(b'.BEGIN', True), (b'.endif', True), (b'.include', True)],
    # SubRip: a line "1" then the first time
    b'^1[\r\n]+0[01]:[0-9]{2}:[0-9]{2},[0-9]{3} -->': [(b'1\r', 1), (b'1\n', 1)],
    # Forth: a line starting with a colon and a blank
    (b'^:[[:space:]].*[[:space:]]\\(([[:space:]].*)? -- (.*[[:space:]])?\\)[[:space:]].*'
     b'[[:space:]];$'): [(b': ', 1), (b':\t', 1), (b':\r', 1), (b':\n', 1)],
    # Fortran: a line starting with C or c then a blank
    b'^[Cc][ \t]': [(b'c ', True), (b'c\t', True), (b'C ', True), (b'C\t', True)],
    # Ruby, C++: class or module after blanks (which may span lines)
    b'^[[:space:]]*(class|module)[[:space:]][A-Z]': [(b'class', 2), (b'module', 2)],
}


def needle_of(val, loose):
    """The literal a string/search value needs, folded; None if impossible."""
    val = val.rstrip(b'\0')
    if b'\0' in val:
        return None
    if loose:
        segs = val.replace(b'\t', b' ').replace(b'\n', b' ').replace(b'\r', b' ').split(b' ')
        val = max(segs, key=len)
    if any(c not in TEXT for c in val):
        return None
    return val


IMPOSSIBLE = 'impossible'


def guard_of(e, top, text_pass):
    """A guard for entry e of a chain whose top-level entry is top: ('fixed',
    off, val, mask), ('needle', needle, hi, line_start), IMPOSSIBLE or None."""
    t, r = e['type'], e['reln']
    absolute = not (e['flag'] & (INDIR | OFFADD | OFFNEGATIVE)) and e['off'] >= 0
    is_top = e is top
    icase = bool(e['fl'] & 0xc) if t in STRINGS else False
    if t in ('string', 'search', 'bestring16', 'lestring16') and r == '=':
        loose = bool(e['fl'] & LOOSE)
        if t in ('bestring16', 'lestring16'):
            if not absolute or text_pass or loose:
                return None
            val, mask = b'', b''
            for c in e['val']:
                pair = (bytes([0, c]), b'\x00\xff') if t == 'bestring16' else (
                    bytes([c, 0]), b'\xff\x00')
                val, mask = val + pair[0], mask + pair[1]
            return ('fixed', e['off'], val, mask) if fixed_possible(val, mask) else IMPOSSIBLE
        v = e['val']
        if (t == 'string' and absolute and loose and not (e['fl'] & 0x2000) and v and
                v[0] not in b' \t\r\n' and (not text_pass or e['off'] == 0)):
            # W/w only stretch blanks: the first word sits at the offset; c/C
            # fold letters (compared under a mask that ignores case)
            seg = v.replace(b'\t', b' ').replace(b'\n', b' ').replace(b'\r', b' ').split(b' ')[0]
            if not text_pass or all(c < 0x80 for c in seg):
                ic = e['fl'] & 0xc
                val = bytes(c & 0xdf if ic and chr(c).isalpha() and c < 0x80 else c for c in seg)
                mask = bytes(0xdf if ic and chr(c).isalpha() and c < 0x80 else 0xff for c in seg)
                return ('fixed', e['off'], val, mask) if fixed_possible(val, mask) else IMPOSSIBLE
        if t == 'string' and absolute and not loose and not text_pass and e['val']:
            val = e['val']
            mask = bytes([0xff] * len(val))
            return ('fixed', e['off'], val, mask) if fixed_possible(val, mask) else IMPOSSIBLE
        if (t == 'string' and absolute and not loose and text_pass and e['off'] == 0 and
                e['val'] and all(c < 0x80 for c in e['val'])):
            # offset 0 of the UTF-8 re-encoding is offset 0 of the raw head for
            # an ASCII value (a byte >= 0x80 there fails both)
            val = e['val']
            return ('fixed', 0, val, bytes([0xff] * len(val))) if fixed_possible(
                val, bytes([0xff] * len(val))) else IMPOSSIBLE
        n = needle_of(e['val'], loose)
        if n is None:
            return IMPOSSIBLE
        if not n:
            return None
        hi = 0
        if is_top and absolute and t == 'search' and e['cnt'] and not loose:
            hi = e['off'] + e['cnt'] + len(e['val'])  # raw positions <= re-encoded ones
        if is_top and absolute and t == 'string' and not loose and text_pass:
            hi = e['off'] + len(e['val'])
        return ('needles', ((n, hi, False, icase),))
    if t == 'regex' and r == '=':
        rn = HAND_REGEX.get(e['val']) or regex_needle(e['val'])
        if rn is None:
            return None
        out = []
        if not (absolute and e['off'] == 0):
            rn = [(lit, 0) for lit, _ls in rn]  # ^ is then the offset, not a line start
        for lit, ls in rn:
            n = needle_of(lit, False)
            if n is not None:
                out.append((n, 0, ls, icase))
        return ('needles', tuple(out)) if out else IMPOSSIBLE
    if (t in SIZE and r == '=' and absolute and not text_pass and
            not t.endswith(('float', 'double'))):
        # (floats compare as numbers: -0.0 equals 0.0, so not by their bytes)
        vb = num_bytes(e)
        if vb is None:
            return None
        return ('fixed', e['off'], vb[0], vb[1]) if fixed_possible(*vb) else IMPOSSIBLE
    if (t in SIZE and r == '<' and absolute and not text_pass and (e['flag'] & UNSIGNED) and
            not e['mask'] and SIZE[t] > 1 and not t.endswith(('float', 'double'))):
        n = SIZE[t]
        v = struct.unpack('<Q', e['val'][:8])[0] & ((1 << 8 * n) - 1)
        if v <= 1 << 8 * (n - 1):  # the most significant byte must be zero
            msb = e['off'] if t.startswith('be') else e['off'] + n - 1
            return ('fixed', msb, b'\0', b'\xff') if fixed_possible(b'\0', b'\xff') else IMPOSSIBLE
    if t == 'guid' and r == '=' and absolute and not text_pass:
        val = e['raw'][32:48]  # contains zero bytes between others: never text
        mask = b'\xff' * 16
        return ('fixed', e['off'], val, mask) if fixed_possible(val, mask) else IMPOSSIBLE
    return None


def merge_fixed(gs):
    """The fixed guards of one chain all hold at once: one guard, or IMPOSSIBLE."""
    pos = {}
    for _k, off, val, mask in gs:
        for k, (v, m) in enumerate(zip(val, mask)):
            v0, m0 = pos.get(off + k, (0, 0))
            if (v0 & m) != (v & m0):
                return IMPOSSIBLE
            pos[off + k] = (v0 | (v & m), m0 | m)
    lo, hi = min(pos), max(pos) + 1
    val = bytes(pos.get(p, (0, 0))[0] for p in range(lo, hi))
    mask = bytes(pos.get(p, (0, 0))[1] for p in range(lo, hi))
    while mask and mask[0] == 0:
        lo, val, mask = lo + 1, val[1:], mask[1:]
    return ('fixed', lo, val, mask) if fixed_possible(val, mask) else IMPOSSIBLE


def score(g):
    if g is IMPOSSIBLE:
        return 1 << 30
    if g[0] == 'fixed':
        return 6 * sum(bin(m).count('1') for m in g[3]) // 8 + 1
    return min(len(n) * (2 if not ic else 1) + (8 if ls == 1 else 6 if ls else 0) + (2 if hi else 0)
               for n, hi, ls, ic in g[1])


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else '/usr/lib/file/magic.mgc'
    d, n0, n1, E = load(path)
    names = {}
    for i in range(n0, n0 + n1):
        if E[i]['cl'] == 0 and E[i]['type'] == 'name':
            names[E[i]['val'].rstrip(b'\0')] = i

    def subtree(i, end):
        j = i + 1
        while j < end and E[j]['cl'] > 0:
            j += 1
        return range(i, j)

    memo = {}

    def leads_to_mime(i, end, stack=()):
        """Entries of the subtree at i that end a chain in a MIME type."""
        key = (i, end)
        if key in memo:
            return memo[key]
        out = []
        for j in subtree(i, end):
            e = E[j]
            if e['mime'] or e['type'] == 'indirect':
                out.append(j)
            elif e['type'] == 'use':
                n = e['val'].rstrip(b'\0').lstrip(b'^')
                k = names.get(n)
                if k is None or (k not in stack and leads_to_mime(k, n0 + n1, stack + (i,))):
                    out.append(j)
        memo[key] = out
        return out

    fixed, needles, unguarded = set(), set(), []
    nchains = ndropped = 0
    for i in range(n0):
        top = E[i]
        if top['cl'] != 0 or not (top['flag'] & (BINTEST | TEXTTEST)):
            continue
        for j in leads_to_mime(i, n0):
            chain, lvl = [E[j]], E[j]['cl']
            for k in range(j - 1, i - 1, -1):
                if E[k]['cl'] < lvl:
                    chain.append(E[k])
                    lvl = E[k]['cl']
            for text_pass in (False, True):
                if not (top['flag'] & (TEXTTEST if text_pass else BINTEST)):
                    continue
                nchains += 1
                gs = [g for g in (guard_of(e, top, text_pass) for e in chain) if g is not None]
                fx = [g for g in gs if g is not IMPOSSIBLE and g[0] == 'fixed']
                if fx:
                    gs = [g for g in gs if g is IMPOSSIBLE or g[0] != 'fixed'] + [merge_fixed(fx)]
                if not gs:
                    unguarded.append((top, E[j], text_pass))
                    continue
                g = max(gs, key=score)
                if g is IMPOSSIBLE:
                    ndropped += 1
                elif g[0] == 'fixed':
                    fixed.add(g[1:])
                else:
                    needles.update(g[1])
    if unguarded:
        for top, e, tp in unguarded:
            sys.stderr.write('no guard: line %u %s %r -> %s (%s pass)\n' % (
                top['lineno'], top['type'], top['val'][:40], e['mime'].decode(),
                'text' if tp else 'binary'))
    w = sys.stdout.write
    w('/* Generated by tests/tools/sniff_guards.py from %s: do not edit.\n' % path)
    w(' * %d rule chains lead to a MIME type; %d cannot match text bytes; the\n'
      ' * others need one of %d fixed guards or %d needles below. */\n' % (
          nchains, ndropped, len(fixed), len(needles)))
    w('#define SNIFF_DB_NMAGIC0 %du\n#define SNIFF_DB_NMAGIC1 %du\n' % (n0, n1))
    w('#define SNIFF_DB_SIZE %du\n' % len(d))
    w('#define SNIFF_DB_UNGUARDED %d\n\n' % len(unguarded))
    w('#include <stdint.h>\n\n'
      '/* A head equal to val under mask at off */\n'
      'struct sniff_fixed {\n'
      '        uint32_t off;\n'
      '        uint32_t len;\n'
      '        const char *val;\n'
      '        const char *mask;\n'
      '};\n'
      '/* A head holding s */\n'
      'struct sniff_needle {\n'
      '        uint32_t hi;  /* the needle must end within the first hi bytes; 0: anywhere */\n'
      '        uint8_t line; /* 1: at a line start (a regex\'s ^); 2: there after blanks */\n'
      '        uint8_t icase;\n'
      '        uint8_t len;\n'
      '        const char *s;\n'
      '};\n\n')

    def cstr(b):
        return '"' + ''.join('\\%03o' % c if c < 0x20 or c > 0x7e or c in b'"\\?' else chr(c)
                             for c in b) + '"'
    w('static const struct sniff_fixed sniff_fixed[] = {\n')
    for off, val, mask in sorted(fixed):
        w('    {%d, %d, %s, %s},\n' % (off, len(val), cstr(val), cstr(mask)))
    w('};\n\nstatic const struct sniff_needle sniff_needles[] = {\n')
    for n, hi, ls, ic in sorted(needles):
        w('    {%d, %d, %d, %d, %s},\n' % (hi, int(ls), 1 if ic else 0, len(n), cstr(n)))
    w('};\n')
    # For tests/unit/test_sniff.c: the text-like values of top-level string and
    # search rules, with or without a MIME type, to build heads from.
    probes = sorted({E[i]['val'].rstrip(b'\0') for i in range(n0)
                     if E[i]['cl'] == 0 and E[i]['type'] in ('string', 'search') and
                     E[i]['reln'] == '=' and E[i]['val'].rstrip(b'\0') and
                     all(c in TEXT for c in E[i]['val'].rstrip(b'\0'))})
    w('\n#ifdef SNIFF_GUARDS_PROBES\nstatic const char *const sniff_probes[] = {\n')
    for v in probes:
        w('    %s,\n' % cstr(v))
    w('};\n#endif\n')
    return 1 if unguarded else 0


if __name__ == '__main__':
    sys.exit(main())
