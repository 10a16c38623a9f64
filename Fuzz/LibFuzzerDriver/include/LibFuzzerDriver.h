#ifndef LIBFUZZER_DRIVER_H
#define LIBFUZZER_DRIVER_H

#include <stddef.h>
#include <stdint.h>

/// libFuzzer's own driver (from the runtime that `-sanitize=fuzzer` links): parses the command
/// line and runs `callback` on every input. SwiftPM gives each executable its own `<Target>_main`
/// entry point, so the fuzz targets start libFuzzer through this instead of libFuzzer's `main`.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
