/* For the differential tests of the prefilter (test_detect_prefilter.c,
 * test_detect_gates.c): a seeded generator and a bounded text buffer to build
 * texts with, the text pushed through the real text sink in pieces of random
 * sizes, and two reports compared finding by finding. Include after cmocka.h,
 * string.h, detect.h, report.h and text.h. */
#ifndef VIGIE_TEST_DETECT_SAME_H
#define VIGIE_TEST_DETECT_SAME_H

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t rng;

static uint32_t rnd(uint32_t n)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return (uint32_t)((rng >> 11) % n);
}

struct out {
        char *p;
        size_t n;
        size_t cap;
};

static void put(struct out *o, const char *s, size_t n)
{
        if (o->n + n > o->cap)
                n = o->cap - o->n;
        memcpy(o->p + o->n, s, n);
        o->n += n;
}

static void puts_(struct out *o, const char *s)
{
        put(o, s, strlen(s));
}

/* The report of `text` pushed in pieces of 1 to `piece` bytes, their sizes
 * drawn from `seed` (a xorshift of its own: the caller's generator is not
 * disturbed). */
static struct vg_report *scan_pieces(struct vg_rules *rs, const char *text, size_t len,
                                     size_t chunk, size_t piece, uint64_t seed)
{
        struct vg_detect *d;
        struct vg_text *t;
        assert_int_equal(vg_detect_new(rs, &d), 0);
        assert_int_equal(vg_text_new(d, chunk, &t), 0);
        uint64_t s = seed;
        for (size_t i = 0; i < len;) {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                size_t n = 1 + (size_t)((s >> 11) % piece);
                if (n > len - i)
                        n = len - i;
                assert_int_equal(vg_text_push(t, text + i, n), 0);
                i += n;
        }
        assert_int_equal(vg_text_end(t), 0);
        struct vg_report *r = vg_report_new("t");
        assert_non_null(r);
        assert_int_equal(vg_detect_report(d, r, "t"), 0);
        vg_text_free(t);
        vg_detect_free(d);
        return r;
}

static void same(const struct vg_report *a, const struct vg_report *b)
{
        assert_int_equal(a->nfindings, b->nfindings);
        for (size_t i = 0; i < a->nfindings; i++) {
                const struct vg_finding *x = &a->findings[i], *y = &b->findings[i];
                assert_string_equal(x->detector, y->detector);
                assert_int_equal(x->count, y->count);
                assert_int_equal(x->distinct, y->distinct);
                assert_int_equal(x->nsamples, y->nsamples);
                for (size_t k = 0; k < x->nsamples; k++)
                        assert_string_equal(x->samples[k], y->samples[k]);
        }
}

#endif
