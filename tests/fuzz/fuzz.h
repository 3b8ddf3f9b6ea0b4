/* Shared by the libFuzzer targets of tests/fuzz. Each target is one file that
 * defines LLVMFuzzerTestOneInput(); linked with -fsanitize=fuzzer it is a
 * fuzzer, linked with replay.c (any compiler) it replays files through the same
 * code in the normal test builds. */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct vg_engine;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The process-wide engine, built on first use with limits small enough for the
 * fuzzer's memory and time bounds (a limit reached is a finding, not a crash). */
struct vg_engine *fuzz_engine(void);
/* A memfd holding data, offset 0; -1 on failure. The caller closes it. */
int fuzz_memfd(const uint8_t *data, size_t size);
/* Scans data as a top-level object called name; aborts on an engine error other
 * than ENOMEM (the engine must report every object, however broken). */
void fuzz_scan(const uint8_t *data, size_t size, const char *name);
