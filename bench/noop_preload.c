/* The floor for process start-up: a shared object that does nothing but
 * is linked against the same libraries as libredact (PCRE2, liburcu-bp,
 * libyaml, libpthread, libm, libdl), so preloading it costs what loading
 * those libraries costs. */
#include <pcre2.h>
#include <urcu-bp.h>
#include <yaml.h>

/* One reference into each library, so --as-needed keeps them all. */
void *redact_bench_noop_refs[] = {(void *)pcre2_compile_8, (void *)urcu_bp_read_lock,
				  (void *)yaml_parser_initialize};
