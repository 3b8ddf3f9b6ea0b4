/* Secrets: private key blocks, API tokens, passwords written with their value.
 *
 * A secret has no checksum; what tells a real one from the examples that fill
 * documentation is its shape: a known prefix with a random-looking body, or a
 * value with high entropy assigned to a name such as token or secret. Documented
 * example keys, placeholders (xxxx, <your-token>, ${TOKEN}, changeme), references
 * to the environment and words are not secrets. Masks keep the prefix and the
 * last two to four characters at most. */
#include "detect.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static bool is_digit(unsigned char c)
{
        return c >= '0' && c <= '9';
}

static bool is_upper(unsigned char c)
{
        return c >= 'A' && c <= 'Z';
}

static bool is_lower(unsigned char c)
{
        return c >= 'a' && c <= 'z';
}

static bool is_alnum(unsigned char c)
{
        return is_digit(c) || is_upper(c) || is_lower(c);
}

static unsigned char lower(unsigned char c)
{
        return is_upper(c) ? (unsigned char)(c - 'A' + 'a') : c;
}

static bool is_space(unsigned char c)
{
        return c == ' ' || c == '\t';
}

static bool starts_with(const char *s, size_t n, const char *p)
{
        size_t k = strlen(p);
        return n >= k && memcmp(s, p, k) == 0;
}

/* Case-insensitive search of an ASCII word inside s[0,n). */
static bool contains_ci(const char *s, size_t n, const char *w)
{
        size_t k = strlen(w);
        for (size_t i = 0; i + k <= n; i++) {
                size_t j = 0;
                while (j < k && lower((unsigned char)s[i + j]) == (unsigned char)w[j])
                        j++;
                if (j == k)
                        return true;
        }
        return false;
}

static bool equals_ci(const char *s, size_t n, const char *w)
{
        return strlen(w) == n && contains_ci(s, n, w);
}

/* Shannon entropy in bits per character. */
static double entropy(const char *s, size_t n)
{
        unsigned cnt[256] = {0};
        for (size_t i = 0; i < n; i++)
                cnt[(unsigned char)s[i]]++;
        double h = 0;
        for (int c = 0; c < 256; c++)
                if (cnt[c]) {
                        double p = (double)cnt[c] / (double)n;
                        h -= p * log2(p);
                }
        return h;
}

/* Words that mark a value as an example or a placeholder, never a secret. */
static const char *const placeholder_words[] = {
    "example", "exemple", "xxxx",     "your",   "votre",   "placeholder", "changeme", "change_me",
    "dummy",   "sample",  "redacted", "insert", "replace", "fake",        "secret",   "password",
    "token",   "test",    "****",     "....",   "0000",    "1111",        "abcdef",   NULL,
};

/* The same character over and over, or a run such as 0123456789 / abcdef. */
static bool monotonous(const char *s, size_t n)
{
        unsigned cnt[256] = {0}, max = 0, steps = 0;
        for (size_t i = 0; i < n; i++) {
                unsigned c = ++cnt[(unsigned char)s[i]];
                if (c > max)
                        max = c;
                if (i && (unsigned char)s[i] == (unsigned char)s[i - 1] + 1)
                        steps++;
        }
        return max * 10 > n * 4 || steps * 2 > n;
}

static bool placeholder(const char *s, size_t n)
{
        for (const char *const *w = placeholder_words; *w; w++)
                if (contains_ci(s, n, *w))
                        return true;
        return monotonous(s, n);
}

/* Identifiers and words (getAccessToken, my_app_secret_2, AutoTokenizer.x):
 * the share of characters in pronounceable letter runs, and snake/kebab-case. */
static bool wordy(const char *s, size_t n)
{
        size_t in_words = 0;
        for (size_t i = 0; i < n;) {
                size_t j = i;
                if (is_upper((unsigned char)s[j]) && j + 1 < n && is_lower((unsigned char)s[j + 1]))
                        j++;
                bool low = j < n && is_lower((unsigned char)s[j]);
                size_t k = j;
                while (k < n &&
                       (low ? is_lower((unsigned char)s[k]) : is_upper((unsigned char)s[k])))
                        k++;
                size_t len = k - i, vowels = 0;
                for (size_t x = i; x < k; x++)
                        vowels += strchr("aeiouyAEIOUY", s[x]) != NULL;
                if (k - j >= 3 && vowels * 4 >= len)
                        in_words += len;
                i = k > i ? k : i + 1;
        }
        if (in_words * 10 >= n * (n < 24 ? 7 : 6))
                return true;
        /* snake_case, kebab-case, dotted: every segment all letters or all digits */
        size_t segs = 0, plain = 0;
        for (size_t i = 0; i <= n;) {
                size_t j = i;
                bool letters = true, digits = true;
                while (j < n && s[j] != '_' && s[j] != '-' && s[j] != '.') {
                        letters &= is_upper((unsigned char)s[j]) || is_lower((unsigned char)s[j]);
                        digits &= is_digit((unsigned char)s[j]);
                        j++;
                }
                if (j > i) {
                        segs++;
                        plain += letters || digits;
                }
                i = j + 1;
        }
        return segs >= 2 && plain == segs;
}

/* A random-looking body: entropy above what words and identifiers reach for its
 * length (calibrated on random base62 and hex strings: below the 0.1% quantile). */
static bool random_looking(const char *s, size_t n)
{
        if (n < 8 || placeholder(s, n))
                return false;
        bool hex = true;
        for (size_t i = 0; i < n; i++)
                hex &= is_digit((unsigned char)s[i]) || (s[i] >= 'a' && s[i] <= 'f') ||
                       (s[i] >= 'A' && s[i] <= 'F');
        double f = n >= 64 ? 1.0 : n <= 16 ? 0.0 : (double)(n - 16) / 48.0;
        double min = hex ? 2.5 + 0.5 * f : 2.9 + 1.3 * f;
        if (n < 16)
                min = hex ? 2.4 : 2.7;
        return entropy(s, n) >= min && (hex || !wordy(s, n));
}

/* prefix + "****" + the last 2 to 4 characters: enough to recognise a key in
 * a vault, far too little to use it. */
static bool mask_tail(struct vg_hit *h, const char *prefix, const char *body, size_t n)
{
        size_t tail = n >= 32 ? 4 : n >= 20 ? 3 : 2;
        int w = snprintf(h->masked, sizeof(h->masked), "%s****%.*s", prefix, (int)tail,
                         body + n - tail);
        return w > 0 && (size_t)w < sizeof(h->masked);
}

static void set_canon(struct vg_hit *h, const char *s, size_t n)
{
        if (n > sizeof(h->canon) - 1) {
                /* keep the end: prefixes are shared, bodies are not */
                s += n - (sizeof(h->canon) - 1);
                n = sizeof(h->canon) - 1;
        }
        memcpy(h->canon, s, n);
        h->canon[n] = '\0';
        h->canon_len = n;
}

/* ---- secret_key ---------------------------------------------------------------- */

static bool is_b64(unsigned char c)
{
        return is_alnum(c) || c == '+' || c == '/' || c == '=';
}

/* A key block has a body: at least 64 base64 characters after the BEGIN line,
 * past optional headers ("Proc-Type: 4,ENCRYPTED", "Version: ..."), with line
 * breaks written as they are or as "\n" inside JSON. Documentation shows the BEGIN
 * line with "..." or "<key>" after it. */
static bool key_body(const struct vg_match *m, struct vg_hit *h, const char *header, size_t hlen)
{
        size_t i = m->end, lim = m->end + VG_MAX_WINDOW < m->len ? m->end + VG_MAX_WINDOW : m->len;
        size_t b64 = 0, start = 0;
        char body[64];
        while (i < lim) {
                unsigned char c = (unsigned char)m->buf[i];
                if (c == '\\' && i + 1 < lim && (m->buf[i + 1] == 'n' || m->buf[i + 1] == 'r')) {
                        i += 2;
                        continue;
                }
                /* line breaks, and the decoration of a table or a string literal */
                if (c == '\n' || c == '\r' || is_space(c) || c == '|' || c == '"' || c == '\'' ||
                    c == ',') {
                        i++;
                        continue;
                }
                if (b64 == 0) {
                        /* a header line ("Version: ..."): skip to its end */
                        size_t e = i;
                        while (e < lim && m->buf[e] != '\n' && m->buf[e] != '\\' &&
                               m->buf[e] != ':')
                                e++;
                        if (e < lim && m->buf[e] == ':') {
                                while (e < lim && m->buf[e] != '\n' && m->buf[e] != '\\')
                                        e++;
                                i = e;
                                continue;
                        }
                }
                if (!is_b64(c))
                        break;
                if (b64 < sizeof(body))
                        body[b64] = (char)c;
                if (!start)
                        start = i;
                b64++;
                i++;
        }
        size_t k = b64 < sizeof(body) ? b64 : sizeof(body);
        if (b64 < 64 || monotonous(body, k) || entropy(body, k) < 4.0)
                return false;
        /* canon: the header and the start of the body tell two keys apart */
        char canon[128];
        int w = snprintf(canon, sizeof(canon), "%.*s|%.*s", (int)(hlen < 60 ? hlen : 60), header,
                         (int)k, body);
        if (w < 0)
                return false;
        set_canon(h, canon, (size_t)w < sizeof(canon) ? (size_t)w : sizeof(canon) - 1);
        return true;
}

static bool secret_key_check(const struct vg_match *m, struct vg_hit *h)
{
        const char *s = m->buf + m->start;
        size_t n = m->end - m->start;
        if (!key_body(m, h, s, n))
                return false;
        int w = snprintf(h->masked, sizeof(h->masked), "%.*s [...]", (int)(n < 100 ? n : 100), s);
        return w > 0;
}

/* ---- api_token ----------------------------------------------------------------- */

struct prefix {
        const char *p;
        const char *show; /* masked prefix; NULL: the prefix itself */
        bool digit;       /* the body always holds a digit */
};

/* Longest first where one is a prefix of another (sk-ant- before sk-). */
static const struct prefix prefixes[] = {
    {"AKIA", NULL, false},
    {"ASIA", NULL, false},
    {"github_pat_", NULL, false},
    {"ghp_", NULL, false},
    {"gho_", NULL, false},
    {"ghs_", NULL, false},
    {"ghu_", NULL, false},
    {"ghr_", NULL, false},
    {"glpat-", NULL, false},
    {"xoxa-", NULL, true},
    {"xoxb-", NULL, true},
    {"xoxp-", NULL, true},
    {"xoxr-", NULL, true},
    {"xoxs-", NULL, true},
    {"sk-ant-", NULL, false},
    {"sk-proj-", NULL, false},
    {"sk-svcacct-", NULL, false},
    {"sk-admin-", NULL, false},
    {"sk-", NULL, false},
    {"AIza", NULL, false},
    {"sk_live_", NULL, false},
    {"rk_live_", NULL, false},
    {"hooks.slack.com/services/", "hooks.slack.com/services/", false},
};

static const struct prefix *known_prefix(const char *s, size_t n)
{
        for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
                if (starts_with(s, n, prefixes[i].p))
                        return &prefixes[i];
        return NULL;
}

static bool has_digit(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (is_digit((unsigned char)s[i]))
                        return true;
        return false;
}

static bool has_letter(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (is_upper((unsigned char)s[i]) || is_lower((unsigned char)s[i]))
                        return true;
        return false;
}

/* A token with a known prefix: the body must look random. */
static bool prefixed_token(struct vg_hit *h, const struct prefix *p, const char *s, size_t n)
{
        size_t pl = strlen(p->p);
        const char *body = s + pl;
        size_t bn = n - pl;
        /* the documented AWS examples end in EXAMPLE / EXAMPLEKEY */
        if (bn < 16 || contains_ci(s, n, "example") || (p->digit && !has_digit(body, bn)))
                return false;
        /* Slack bodies are dash-separated digit groups then a random part;
         * webhooks are path segments: judge the random part. */
        const char *judge = body;
        size_t jn = bn;
        for (size_t i = bn; i-- > 0;)
                if (body[i] == '-' || body[i] == '/') {
                        if (bn - i - 1 >= 16 && (p->p[0] == 'x' || p->p[0] == 'h')) {
                                judge = body + i + 1;
                                jn = bn - i - 1;
                        }
                        break;
                }
        if (placeholder(body, bn) || entropy(judge, jn) < 3.0 || monotonous(judge, jn))
                return false;
        set_canon(h, s, n);
        return mask_tail(h, p->show ? p->show : p->p, body, bn);
}

/* The name of an assignment, from the keyword the pattern found back to the start
 * of the identifier (DB_PASSWORD, aws_secret_access_key). */
static size_t name_start(const struct vg_match *m)
{
        size_t b = m->start, lo = m->start > 40 ? m->start - 40 : 0;
        while (b > lo && (is_alnum((unsigned char)m->buf[b - 1]) || m->buf[b - 1] == '_' ||
                          m->buf[b - 1] == '-' || m->buf[b - 1] == '.'))
                b--;
        return b;
}

/* The name before an operator at `op`: an identifier, or a label of up to four
 * words ("AWS Secret Access Key"), after an optional quote. Returns its length
 * and sets *start; 0 when there is none. */
static size_t name_before(const char *buf, size_t op, size_t *start)
{
        size_t i = op, lo = op > 64 ? op - 64 : 0;
        while (i > lo && is_space((unsigned char)buf[i - 1]))
                i--;
        if (i > lo && (buf[i - 1] == ':' || buf[i - 1] == '=')) /* := and => */
                i--;
        while (i > lo && is_space((unsigned char)buf[i - 1]))
                i--;
        if (i > lo && (buf[i - 1] == '"' || buf[i - 1] == '\'' || buf[i - 1] == '<'))
                i--;
        size_t end = i;
        int words = 1;
        while (i > lo) {
                unsigned char c = (unsigned char)buf[i - 1];
                if (c == ' ') {
                        if (words == 4 || i - 1 == lo || !is_alnum((unsigned char)buf[i - 2]))
                                break;
                        words++;
                } else if (!(is_alnum(c) || c == '_' || c == '-' || c == '.')) {
                        break;
                }
                i--;
        }
        while (i < end && buf[i] == ' ')
                i++;
        *start = i;
        return end - i;
}

static const char *const token_names[] = {
    "token",       "secret",     "api_key",     "api-key",        "apikey",   "api key",
    "access_key",  "access-key", "accesskey",   "access key",     "auth_key", "authkey",
    "private_key", "privatekey", "signing_key", "encryption_key", NULL,
};

/* A value assigned to a name such as token, secret or api_key. The match starts
 * on the operator: names are looked for behind it, which lets the pattern start on
 * one character instead of a dozen keywords in any case. */
static bool generic_token(const struct vg_match *m, struct vg_hit *h)
{
        const char *buf = m->buf;
        size_t nstart, nlen = name_before(buf, m->start, &nstart);
        if (nlen == 0)
                return false;
        const char *name = buf + nstart;
        bool named = false;
        for (const char *const *w = token_names; *w && !named; w++)
                named = contains_ci(name, nlen, *w);
        /* a password is the password detector's; pagination cursors, CSRF tokens,
         * types, lengths, hashes and nonces are not credentials */
        static const char *const not_secret[] = {
            "pass",  "pwd", "page",  "next", "cursor",   "csrf", "xsrf", "type", "count", "len",
            "expir", "ttl", "nonce", "hash", "checksum", "sha",  "md5",  "size", NULL,
        };
        for (const char *const *w = not_secret; *w && named; w++)
                named = !contains_ci(name, nlen, *w);
        if (!named)
                return false;
        size_t v = m->start + 1;
        while (v < m->end && (is_space((unsigned char)buf[v]) || buf[v] == '"' || buf[v] == '\''))
                v++;
        size_t e = m->end;
        while (e > v && buf[e - 1] == '.')
                e--;
        const char *val = buf + v;
        size_t vlen = e - v;
        /* a call, an index or a template right after: code, not a literal */
        if (m->end < m->len && (buf[m->end] == '(' || buf[m->end] == '[' || buf[m->end] == '{'))
                return false;
        /* a token with a known prefix is counted by its own row, once */
        if (known_prefix(val, vlen) || vlen < 16 || !has_digit(val, vlen) || !has_letter(val, vlen))
                return false;
        /* paths: /run/secrets/db2 */
        if (val[0] == '/') {
                bool path = true;
                for (size_t i = 0; i < vlen; i++)
                        path &= !is_upper((unsigned char)val[i]) && val[i] != '+' && val[i] != '=';
                if (path)
                        return false;
        }
        /* the signature of the example token on jwt.io */
        if (contains_ci(val, vlen, "sflkxwrjsmekkf2qt4fwpmejf36pok6yjv_adqssw5c"))
                return false;
        h->used = e - m->start;
        if (!random_looking(val, vlen))
                return false;
        set_canon(h, val, vlen);
        char shown[48];
        snprintf(shown, sizeof(shown), "%.*s=", (int)(nlen < 40 ? nlen : 40), name);
        return mask_tail(h, shown, val, vlen);
}

static bool bearer_token(const struct vg_match *m, struct vg_hit *h)
{
        const char *s = m->buf + m->start;
        size_t n = m->end - m->start, i = 6;
        while (i < n && is_space((unsigned char)s[i]))
                i++;
        const char *val = s + i;
        size_t vlen = n - i;
        while (vlen > 0 && val[vlen - 1] == '.')
                vlen--;
        h->used = i + vlen;
        if (known_prefix(val, vlen) || vlen < 20 || !has_digit(val, vlen) ||
            contains_ci(val, vlen, "sflkxwrjsmekkf2qt4fwpmejf36pok6yjv_adqssw5c") ||
            !random_looking(val, vlen))
                return false;
        set_canon(h, val, vlen);
        return mask_tail(h, "Bearer ", val, vlen);
}

static bool token_check(const struct vg_match *m, struct vg_hit *h)
{
        const char *s = m->buf + m->start;
        size_t n = m->end - m->start;
        if (s[0] == '=' || s[0] == ':' || s[0] == '>')
                return generic_token(m, h);
        if (lower((unsigned char)s[0]) == 'b')
                return bearer_token(m, h);
        /* a known prefix, at the start of a word */
        unsigned char before = m->start > 0 ? (unsigned char)m->buf[m->start - 1] : ' ';
        if (is_alnum(before) || before == '_' || before == '-')
                return false;
        const struct prefix *p = known_prefix(s, n);
        if (!p)
                return false;
        while (n > 0 && s[n - 1] == '.')
                n--;
        h->used = n;
        return prefixed_token(h, p, s, n);
}

/* ---- password ------------------------------------------------------------------ */

/* Values that stand for a password in documentation and templates. */
static const char *const password_placeholders[] = {
    "password",  "passwd",    "pwd",      "pass",     "motdepasse", "mot de passe", "mdp",
    "changeme",  "change_me", "changeit", "secret",   "none",       "null",         "nil",
    "undefined", "empty",     "required", "optional", "string",     "str",          "text",
    "hidden",    "redacted",  "masked",   "true",     "false",      "yes",          "no",
    "n/a",       "tbd",       "todo",     "fixme",    "default",    "files",        "compat",
    "systemd",   "ldap",      "sss",      "winbind",  NULL,
};

static bool password_value_ok(const char *v, size_t n, bool quoted)
{
        if (n < 4 || n > 128)
                return false;
        for (const char *const *w = password_placeholders; *w; w++)
                if (equals_ci(v, n, *w))
                        return false;
        static const char *const refs[] = {
            "${",          "{{",       "$(",   "%(",      "os.environ", "getenv", "environ",
            "process.env", "env(",     "env[", "example", "exemple",    "your",   "votre",
            "placeholder", "changeme", "xxx",  "***",     "...",        NULL,
        };
        for (const char *const *w = refs; *w; w++)
                if (contains_ci(v, n, *w))
                        return false;
        unsigned char c0 = (unsigned char)v[0];
        if (c0 == '$' || c0 == '%' || c0 == '<' || c0 == '[' || c0 == '{' || c0 == '(')
                return false;
        /* a YAML tag: password: !vault, password: !secret db_password */
        if (c0 == '!') {
                size_t i = 1;
                while (i < n && (is_lower((unsigned char)v[i]) || is_upper((unsigned char)v[i]) ||
                                 v[i] == '_'))
                        i++;
                if (i == n)
                        return false;
        }
        if (monotonous(v, n) && n < 16)
                return false;
        if (!quoted) {
                /* code: a call, an index, a member (self.password, config.get) */
                bool ident = is_lower(c0) || is_upper(c0) || c0 == '_';
                bool dotted = false;
                for (size_t i = 0; i < n; i++) {
                        unsigned char c = (unsigned char)v[i];
                        if (c == '(' || c == '[' || c == ')' || c == ']')
                                return false;
                        if (c == '.' && i + 1 < n &&
                            (is_lower((unsigned char)v[i + 1]) || v[i + 1] == '_'))
                                dotted = true;
                        else if (!(is_alnum(c) || c == '_' || c == '.'))
                                ident = false;
                }
                if (ident && dotted)
                        return false;
                /* a path ($PWD=/home/x) */
                if (c0 == '/' || c0 == '~')
                        return false;
        }
        return true;
}

/* Strong enough to be a real password rather than a word of a sentence: two
 * classes of characters (letters and digits or symbols). */
static bool password_like(const char *v, size_t n)
{
        bool l = false, d = false, o = false;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)v[i];
                if (is_digit(c))
                        d = true;
                else if (is_lower(c) || is_upper(c) || c >= 0x80)
                        l = true;
                else
                        o = true;
        }
        return (l + d + o) >= 2;
}

static bool url_password(const struct vg_match *m, struct vg_hit *h)
{
        const char *s = m->buf + m->start;
        size_t n = m->end - m->start;
        /* the scheme, before "://": postgres, mysql+pymysql, https */
        size_t b = m->start, lo = m->start > 20 ? m->start - 20 : 0;
        while (b > lo && (is_alnum((unsigned char)m->buf[b - 1]) || m->buf[b - 1] == '+' ||
                          m->buf[b - 1] == '.' || m->buf[b - 1] == '-'))
                b--;
        if (b == m->start ||
            !(is_upper((unsigned char)m->buf[b]) || is_lower((unsigned char)m->buf[b])))
                return false;
        const char *scheme = m->buf + b;
        size_t scheme_len = m->start - b;
        const char *user = s + 3;
        const char *at = memchr(user, '@', n - (size_t)(user - s));
        const char *colon = memchr(user, ':', at ? (size_t)(at - user) : 0);
        if (!at || !colon)
                return false;
        const char *pw = colon + 1;
        size_t pn = (size_t)(at - pw);
        if (pn < 3 || !password_value_ok(pw, pn, true))
                return false;
        /* user:password@ in the pattern of a tutorial */
        if (equals_ci(user, (size_t)(colon - user), "user") ||
            equals_ci(user, (size_t)(colon - user), "username") ||
            equals_ci(user, (size_t)(colon - user), "utilisateur"))
                return false;
        set_canon(h, pw, pn);
        const char *host = at + 1;
        size_t hn = n - (size_t)(host - s);
        int w = snprintf(h->masked, sizeof(h->masked), "%.*s://****:********@%.*s", (int)scheme_len,
                         scheme, (int)(hn < 60 ? hn : 60), host);
        return w > 0;
}

static bool password_check(const struct vg_match *m, struct vg_hit *h)
{
        const char *s = m->buf + m->start;
        size_t n = m->end - m->start;
        if (starts_with(s, n, "://"))
                return url_password(m, h);
        /* name, then the operator */
        size_t i = 0;
        while (i < n && s[i] != '"' && s[i] != '\'' && s[i] != ':' && s[i] != '=' && s[i] != '>' &&
               s[i] != '\t')
                i++;
        size_t kw = i;
        while (kw > 0 && is_space((unsigned char)s[kw - 1]))
                kw--;
        /* a table: the name cell, a tab, the value cell */
        bool tab = i < n && s[i] == '\t' && i + 1 == n;
        if (i < n && (s[i] == '"' || s[i] == '\''))
                i++;
        while (i < n && is_space((unsigned char)s[i]) && !tab)
                i++;
        bool colon = false, tag = false;
        if (tab) {
                colon = true;
                i++;
        } else if (i + 1 < n &&
                   ((s[i] == ':' && s[i + 1] == '=') || (s[i] == '=' && s[i + 1] == '>'))) {
                i += 2;
        } else if (i < n && (s[i] == ':' || s[i] == '=')) {
                colon = s[i] == ':';
                i++;
        } else if (i < n && s[i] == '>') {
                /* <password>value</password> */
                if (m->start == 0 || m->buf[m->start - 1] != '<')
                        return false;
                tag = true;
                i++;
        } else {
                return false;
        }
        /* the value: quoted, or up to a space or a separator */
        size_t end = m->len, v, vn;
        bool quoted = false;
        const char *b = m->buf;
        size_t p = m->start + i, lim = p + 200 < end ? p + 200 : end;
        while (p < lim && (b[p] == ' ' || b[p] == '\t'))
                p++;
        if (p < lim && (b[p] == '"' || b[p] == '\'')) {
                char q = b[p];
                v = ++p;
                while (p < lim && b[p] != q && b[p] != '\n')
                        p++;
                if (p >= lim || b[p] != q)
                        return false;
                vn = p - v;
                p++;
                quoted = true;
        } else {
                v = p;
                while (p < lim && !strchr(" \t\r\n;,&\"'<>", b[p]))
                        p++;
                vn = p - v;
                if (tag && !(p < lim && b[p] == '<'))
                        return false;
        }
        if (!password_value_ok(b + v, vn, quoted))
                return false;
        /* a word followed by more words is a sentence ("Password: must be ...") */
        if (!quoted && !password_like(b + v, vn)) {
                size_t q = p;
                while (q < lim && (b[q] == ' ' || b[q] == '\t'))
                        q++;
                if (q > p && q < lim && b[q] != '\n' && b[q] != '\r' && b[q] != '#')
                        return false;
                if (colon && vn < 6)
                        return false;
        }
        h->used = p - m->start;
        set_canon(h, b + v, vn);
        size_t nb = name_start(m);
        size_t name_len = m->start - nb + kw;
        int w = snprintf(h->masked, sizeof(h->masked), "%s%.*s%s********", tag ? "<" : "",
                         (int)(name_len < 40 ? name_len : 40), b + nb,
                         tag     ? ">"
                         : colon ? ": "
                                 : "=");
        return w > 0;
}

/* ---- Gates (see detect.c): promises about the patterns, read from the
 * offsets of the operator bytes ':' '=' '>' and tab. */

static bool gate_blank(unsigned char c)
{
        return c == ' ' || c == '\t';
}

static bool gate_quote(unsigned char c)
{
        return c == '"' || c == '\'';
}

/* "name = value": an operator, at most four blanks, a quote, then sixteen
 * bytes of the value's class at least. */
static int assign_find(const struct vg_prescan *p, struct vg_cand *c)
{
        static const char value[] = "+/=_.~-";
        for (size_t k = 0; k < p->nops; k++) {
                size_t o = p->ops[k], q = o + 1;
                if (p->b[o] == '\t')
                        continue;
                while (q < p->len && q - o <= 4 && gate_blank(p->b[q]))
                        q++;
                if (q < p->len && gate_quote(p->b[q]))
                        q++;
                size_t n = 0;
                while (n < 16 && q + n < p->len &&
                       (vg_is_alnum(p->b[q + n]) || (p->b[q + n] && strchr(value, p->b[q + n]))))
                        n++;
                if (n < 16)
                        continue;
                int e = vg_cand_add(c, o, o + 1);
                if (e < 0)
                        return e;
        }
        return 0;
}

/* Whether b[0,j) ends with the end of a password name, any case: passWORD,
 * passWD, pWD, passphraSE, passWORT, mot de passE, mDP. */
static bool pass_name_end(const unsigned char *b, size_t j)
{
        if (j < 2)
                return false;
        unsigned x = (unsigned)(b[j - 2] | 0x20) << 8 | (b[j - 1] | 0x20);
        return x == ('r' << 8 | 'd') || x == ('w' << 8 | 'd') || x == ('s' << 8 | 'e') ||
               x == ('r' << 8 | 't') || x == ('d' << 8 | 'p');
}

/* password: the operator after the end of a name, an optional quote and at
 * most four blanks; the name is 12 bytes at most ("mot de passe"), so the match
 * starts at most 17 bytes before the operator. Or "://" where it starts. */
static int password_find(const struct vg_prescan *p, struct vg_cand *c)
{
        for (size_t k = 0; k < p->nops; k++) {
                size_t o = p->ops[k], lo = o, hi = o;
                const unsigned char *b = p->b;
                if (b[o] == ':' && o + 2 < p->len && b[o + 1] == '/' && b[o + 2] == '/')
                        hi = o + 1;
                for (size_t j = o, n = 0;; j--, n++) {
                        if (pass_name_end(b, j) ||
                            (j > 0 && gate_quote(b[j - 1]) && pass_name_end(b, j - 1))) {
                                lo = o > 17 ? o - 17 : 0;
                                hi = o + 1;
                                break;
                        }
                        if (n == 4 || j == 0 || !gate_blank(b[j - 1]))
                                break;
                }
                if (lo == hi)
                        continue;
                int e = vg_cand_add(c, lo, hi);
                if (e < 0)
                        return e;
        }
        return 0;
}

const struct vg_detector vg_detectors_secret[] = {
    {
        .id = "secret_key",
        /* PEM (PKCS#1, PKCS#8, SEC1, encrypted), OpenSSH, PGP private key blocks and
         * PuTTY key files; public keys and certificates are not secrets. */
        .pattern = "-----BEGIN (?:RSA |DSA |EC |OPENSSH |ENCRYPTED |ED25519 |SSH2 ENCRYPTED )?"
                   "PRIVATE KEY-----|-----BEGIN PGP PRIVATE KEY BLOCK-----"
                   "|PuTTY-User-Key-File-[23]: [a-z0-9-]{3,40}",
        .check = secret_key_check,
    },
    /* api_token: one row per literal prefix (each is searched for on its own, far
     * faster than one alternation), then names with a value, then Bearer. */
    {.id = "api_token", .pattern = "A(?:KIA|SIA)[A-Z0-9]{16}(?![A-Za-z0-9])", .check = token_check},
    {
        .id = "api_token",
        .pattern = "g(?:h[pousr]_[A-Za-z0-9]{36,251}|ithub_pat_[A-Za-z0-9_]{40,255})"
                   "(?![A-Za-z0-9_])",
        .check = token_check,
    },
    {
        .id = "api_token",
        .pattern = "glpat-[A-Za-z0-9_.-]{20,300}(?![A-Za-z0-9_-])",
        .check = token_check,
    },
    {
        .id = "api_token",
        .pattern = "xox[abprs]-[A-Za-z0-9-]{10,250}(?![A-Za-z0-9-])",
        .check = token_check,
    },
    {
        .id = "api_token",
        .pattern = "[sr]k(?:_live_[0-9A-Za-z]{20,247}(?![A-Za-z0-9])"
                   "|-(?:ant-|proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,250}(?![A-Za-z0-9_-]))",
        .check = token_check,
    },
    {
        .id = "api_token",
        .pattern = "AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])",
        .check = token_check,
    },
    {
        .id = "api_token",
        .pattern =
            "hooks\\.slack\\.com/services/T[A-Z0-9]{6,12}/B[A-Z0-9]{6,12}/[A-Za-z0-9]{20,32}",
        .check = token_check,
    },
    {
        .id = "api_token",
        /* =, :, := , => or a tag, then a value; the name is looked for behind */
        .pattern = "[=:>][ \\t]{0,4}[\"']?[A-Za-z0-9+/=_.~-]{16,512}",
        .check = token_check,
        .gate = {.find = assign_find},
    },
    {
        .id = "api_token",
        .pattern = "(?i:bearer)[ \\t]{1,4}[A-Za-z0-9._~+/-]{20,512}",
        .check = token_check,
    },
    {
        .id = "password",
        .pattern =
            /* name, operator (=, :, =>, :=, a tag, a table cell), value */
        "(?i:p(?:ass(?:word|wd|phrase|wort)|wd)|m(?:ot[ _-]?de[ _-]?passe|otdepasse|dp))"
        "[\"']?[ \\t]{0,4}(?::=|=>|[:=>]|\\t)"
        /* user:password@host in a URL or a connection string; the scheme is
         * looked for by the check, so the pattern starts on a rare "://" */
        "|://[^\\s/:@\"'<>]{1,64}:[^\\s/@\"'<>]{1,128}@[A-Za-z0-9.-]{1,253}",
        .check = password_check,
        .gate = {.find = password_find},
    },
    {.id = NULL},
};
