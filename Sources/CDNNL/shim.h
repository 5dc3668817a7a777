// oneDNN 2.6 (Debian's libdnnl-dev ships no pkg-config file: headers in /usr/include, libdnnl.so).
#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>
