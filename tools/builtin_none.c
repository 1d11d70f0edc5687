/* An empty built-in rule set, for redact-rulec itself (which generates the
 * real one) and for unit tests that bring their own rules. */
#include "rd_context.h"

const struct rd_rule_def rd_builtin_rules[] = {{.id = NULL}};
const size_t rd_builtin_nrules = 0;
const struct rd_allowlist_def rd_builtin_global[] = {{0}};
const size_t rd_builtin_nglobal = 0;
const struct rd_kwindex *const rd_builtin_kwindex = NULL;
const struct rd_kwindex *const rd_builtin_leadix[RD_LEAD_GROUPS] = {NULL};
const int rd_builtin_leadix_known = 0;
const struct rd_first_bytes rd_builtin_first[] = {{0, {0, 0, 0, 0}}};
const size_t rd_builtin_nfirst = 0;
