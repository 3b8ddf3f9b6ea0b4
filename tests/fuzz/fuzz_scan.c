/* The whole scan engine on one in-memory object: sniffing, the extractor the
 * type picks, every nested member, detection, the report. Built once per entry
 * format (FUZZ_NAME is the file name the object gets, so the corpus and the
 * name agree); the seed corpus decides which extractor the fuzzer starts from. */
#include "fuzz.h"

#ifndef FUZZ_NAME
#define FUZZ_NAME "object"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        fuzz_scan(data, size, FUZZ_NAME);
        return 0;
}
