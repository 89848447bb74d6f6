/* The one entry point every fuzz target defines: libFuzzer calls it when
 * built with --enable-fuzzing, replay.c calls it from make check. A target
 * aborts when an invariant of its module breaks. */
#ifndef AE_FUZZ_H
#define AE_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
