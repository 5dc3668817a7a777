// oneDNN 2.6 (Debian's libdnnl-dev ships no pkg-config file: headers in /usr/include, libdnnl.so).
#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>

// Debian builds oneDNN on GNU OpenMP, so a primitive runs on as many threads as the calling
// thread's OpenMP setting allows: libgomp's two calls that read and set it (declared here because
// omp.h belongs to GCC and is not on the include path of Swift's clang).
int omp_get_max_threads(void);
void omp_set_num_threads(int num_threads);
