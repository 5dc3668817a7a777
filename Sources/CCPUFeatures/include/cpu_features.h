#ifndef HZSR_CPU_FEATURES_H
#define HZSR_CPU_FEATURES_H

/// 1 when the CPU (and the kernel, which must save the wide registers) supports the
/// instruction set, 0 when not. Asks the CPU itself (CPUID): no file in /proc is needed, so it
/// works where the daemon's unit hides /proc's system files (ProcSubset=pid).
int hz_cpu_has_avx2(void);
int hz_cpu_has_fma(void);

#endif
