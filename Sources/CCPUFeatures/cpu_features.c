#include "cpu_features.h"

#if defined(__x86_64__)
int hz_cpu_has_avx2(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") ? 1 : 0;
}

int hz_cpu_has_fma(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("fma") ? 1 : 0;
}
#else
int hz_cpu_has_avx2(void) { return 1; }
int hz_cpu_has_fma(void) { return 1; }
#endif
