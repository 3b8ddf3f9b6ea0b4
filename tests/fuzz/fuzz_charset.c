/* Text decoding: the charset sniffer and the UTF-8, UTF-16 and CP1252 decoders
 * into the text sink, fed in pieces of fuzzer-chosen sizes (a piece may end in
 * the middle of a sequence or of a surrogate pair), then detection. */
#include <stdlib.h>
#include <string.h>

#include "charset.h"
#include "detect.h"
#include "fuzz.h"
#include "report.h"
#include "text.h"

static struct vg_rules *rules;

static void rules_free(void)
{
        vg_rules_free(rules);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 2)
                return 0;
        if (!rules) {
                if (vg_rules_new(NULL, &rules) < 0)
                        abort();
                atexit(rules_free);
        }
        /* byte 0: the charset (or sniff it); byte 1: the piece size; then a label
         * up to the first NUL (looked up as a MIME or XML charset name). */
        unsigned sel = data[0] % 5;
        size_t piece = (size_t)data[1] % 17 + 1;
        data += 2;
        size -= 2;
        const uint8_t *nul = memchr(data, 0, size < 40 ? size : 40);
        if (nul) {
                char label[41];
                memcpy(label, data, (size_t)(nul - data));
                label[nul - data] = '\0';
                (void)vg_charset_from_name(label);
        }
        size_t bom = 0;
        enum vg_charset cs = sel < 4 ? (enum vg_charset)sel : vg_charset_sniff(data, size, &bom);
        if (bom > size)
                abort(); /* the sniffer must never skip more than it was given */
        struct vg_detect *d = NULL;
        struct vg_text *t = NULL;
        struct vg_report *r = vg_report_new("fuzz");
        if (!r || vg_detect_new(rules, &d) < 0 || vg_text_new(d, 0, &t) < 0)
                goto out;
        struct vg_decoder dec;
        vg_decoder_init(&dec, cs);
        int e = 0;
        for (size_t off = bom; e == 0 && off < size; off += piece) {
                size_t n = size - off < piece ? size - off : piece;
                e = vg_decoder_push(&dec, t, data + off, n);
        }
        if (e == 0)
                e = vg_decoder_end(&dec, t);
        if (e == 0)
                e = vg_text_end(t);
        if (e == 0)
                (void)vg_detect_report(d, r, "fuzz");
out:
        vg_text_free(t);
        vg_detect_free(d);
        vg_report_free(r);
        return 0;
}
