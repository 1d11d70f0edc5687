// The same snippets compiled as C++ (hooks.def promises they build as C++).
#include "snippets.c"
