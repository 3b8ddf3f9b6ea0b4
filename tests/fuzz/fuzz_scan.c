/* The whole scan engine on one in-memory object: sniffing, the extractor the
 * type picks, every nested member, detection, the report. Built once per entry
 * format (FUZZ_NAME is the file name the object gets, so the corpus and the
 * name agree); the seed corpus decides which extractor the fuzzer starts from. */
#include <string.h>

#include "fuzz.h"

#ifndef FUZZ_NAME
#define FUZZ_NAME "object"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        /* poppler-glib 22.12 crashes on an EmbeddedFiles entry that refers to a
         * string (tests/fuzz/known/README.md): in the daemon the worker dies and
         * the file is held; here it would stop the fuzzer at the same bug again
         * and again. */
        if (memmem(data, size, "EmbeddedFiles", 13))
                return 0;
        fuzz_scan(data, size, FUZZ_NAME);
        return 0;
}
