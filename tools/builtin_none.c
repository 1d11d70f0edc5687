/* An empty built-in rule set, for redact-rulec itself (which generates the
 * real one) and for unit tests that bring their own rules. */
#include "rd_context.h"

const char rd_builtin_text[] = "";
const uint32_t rd_builtin_lists[] = {0};
const size_t rd_builtin_nlists = 0;
const struct rd_builtin_allow rd_builtin_allows[] = {{0}};
const struct rd_builtin_rule rd_builtin_rules[] = {{0}};
const size_t rd_builtin_nrules = 0;
const size_t rd_builtin_nglobal = 0;
const int rd_builtin_leadix_known = 0;
const struct rd_first_bytes rd_builtin_first[] = {{0, {0, 0, 0, 0}}};
const size_t rd_builtin_nfirst = 0;
const struct rd_first_bytes rd_builtin_progress[] = {{0, {0, 0, 0, 0}}};
const size_t rd_builtin_nprogress = 0;

const struct rd_kwindex *rd_builtin_index(int which)
{
	(void)which;
	return NULL;
}
