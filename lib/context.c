/* Contexts: rule sources -> rule set, publication with userspace RCU,
 * hot reload, and fork handling.
 *
 * Publication (field notes section 5): the rule set is one immutable object
 * behind `current`.  Readers (every redacting thread, possibly inside a
 * signal handler) take urcu-bp's read lock -- a per-thread nesting counter,
 * no lock, no wait -- and dereference `current`.  A reload builds and fully
 * compiles the new set first, swaps the pointer with rcu_xchg_pointer, waits
 * for pre-existing readers with urcu_bp_synchronize_rcu and frees the old
 * set itself.  No call_rcu: its worker thread and free() from atfork paths
 * hang glibc malloc.
 *
 * Fork: urcu-bp installs no fork handlers, so we call urcu_bp_before_fork /
 * after_fork_* ourselves, holding every context's reload lock across fork so
 * a child never inherits a half-finished reload.  The child has no reloader
 * thread; rd_context_ensure_reloader starts one on its next use. */

#include "rd_context.h"
#include "rd_startup.h"
#include "redact.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <urcu-bp.h>

/* ---- all contexts, for fork ---- */

static pthread_mutex_t contexts_lock = PTHREAD_MUTEX_INITIALIZER;
static struct redact_context *contexts;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static _Atomic unsigned fork_gen;

static void atfork_prepare(void)
{
	pthread_mutex_lock(&contexts_lock);
	for (struct redact_context *cx = contexts; cx; cx = cx->next)
		pthread_mutex_lock(&cx->reload_lock);
	/* Rule counters are created on a rule's first match, under this lock,
	 * from any thread (a linear search): a child forked meanwhile hung in
	 * its first match (tests/interpose fork-threads, fork-compile).  A
	 * leaf lock: nothing else is taken while it is held. */
	for (struct redact_context *cx = contexts; cx; cx = cx->next)
		pthread_mutex_lock(&cx->counters.lock);
	rd_jit_fork_prepare();
	urcu_bp_before_fork();
}

static void atfork_parent(void)
{
	urcu_bp_after_fork_parent();
	rd_jit_fork_parent();
	for (struct redact_context *cx = contexts; cx; cx = cx->next) {
		pthread_mutex_unlock(&cx->counters.lock);
		pthread_mutex_unlock(&cx->reload_lock);
	}
	pthread_mutex_unlock(&contexts_lock);
}

static void atfork_child(void)
{
	urcu_bp_after_fork_child();
	rd_jit_fork_child();
	atomic_fetch_add(&fork_gen, 1);
	for (struct redact_context *cx = contexts; cx; cx = cx->next) {
		pthread_mutex_init(&cx->counters.lock, NULL);
		pthread_mutex_unlock(&cx->reload_lock);
		/* The reloader thread does not exist here; its lock and condition
		 * may have been held by it at fork time. */
		pthread_mutex_init(&cx->wake_lock, NULL);
		pthread_condattr_t ca;
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&cx->wake, &ca);
		pthread_condattr_destroy(&ca);
		pthread_mutex_init(&cx->error_lock, NULL);
		cx->reloader_running = 0;
	}
	pthread_mutex_unlock(&contexts_lock);
}

RD_STARTUP static void install_atfork(void)
{
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

/* ---- read side ---- */

void rd_context_read_lock(void)
{
	urcu_bp_read_lock();
}

void rd_context_read_unlock(void)
{
	urcu_bp_read_unlock();
}

struct rd_ruleset *rd_context_rules(struct redact_context *cx)
{
	return rcu_dereference(cx->current);
}

/* ---- messages ---- */

void rd_context_set_error(struct redact_context *cx, const char *msg)
{
	pthread_mutex_lock(&cx->error_lock);
	snprintf(cx->last_error, sizeof(cx->last_error), "%s", msg);
	pthread_mutex_unlock(&cx->error_lock);
}

static void report_rule_event(void *arg, const char *rule_id, const char *event, const char *detail)
{
	struct redact_context *cx = arg;
	struct rd_audit_event ev = {.event = event, .rule = rule_id, .action = "skipped", .offset = -1, .length = -1,
				    .detail = detail};
	rd_audit(&cx->cfg, &ev);
}

/* ---- rule sources ---- */

/* REDACT_PATTERNS: colon-separated files or directories.  Entries starting
 * with '+' add to the built-in set; any entry without '+' replaces it. */
struct source_list {
	size_t n;
	char path[16][RD_PATH_MAX];
};

static void parse_sources(const struct rd_config *cfg, struct source_list *sl, int *builtin)
{
	sl->n = 0;
	*builtin = 1;
	const char *p = cfg->patterns;
	while (*p && sl->n < 16) {
		const char *e = strchr(p, ':');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len) {
			int add = p[0] == '+';
			if (!add)
				*builtin = 0;
			size_t off = add ? 1 : 0;
			if (len - off > 0 && len - off < RD_PATH_MAX) {
				memcpy(sl->path[sl->n], p + off, len - off);
				sl->path[sl->n][len - off] = 0;
				sl->n++;
			}
		}
		p += len + (e ? 1 : 0);
	}
}

/* Rule selection: REDACT_RULES_DISABLE / REDACT_RULES_ENABLE hold rule ids
 * or family names, comma-separated.  An id beats its family; enable beats
 * disable at the same level; opt-in families (private-ip) are off unless
 * enabled. */
static int in_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; *p;) {
		while (*p == ',' || *p == ' ')
			p++;
		const char *e = p;
		while (*e && *e != ',' && *e != ' ')
			e++;
		if ((size_t)(e - p) == n && !strncmp(p, name, n))
			return 1;
		p = e;
	}
	return 0;
}

/* lists: REDACT_RULES_DISABLE or _ENABLE is set (worked out once per build).  Neither
 * (most processes): ~1,900 lookups saved on the first write, and the lists'
 * pages never read. */
static int rule_enabled(const struct rd_config *cfg, int lists, const struct rd_rule_def *d)
{
	if (!lists)
		return !(d->flags & RD_RULE_OPT_IN);
	if (in_list(cfg->rules_disable, d->id))
		return 0;
	if (in_list(cfg->rules_enable, d->id))
		return 1;
	const char *fam = d->family ? d->family : "";
	if (in_list(cfg->rules_enable, fam))
		return 1;
	if (in_list(cfg->rules_disable, fam))
		return 0;
	return !(d->flags & RD_RULE_OPT_IN);
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
	return h;
}

static uint64_t stat_sig(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return mix(0xdead, (uint64_t)errno);
	uint64_t h = mix((uint64_t)st.st_dev, (uint64_t)st.st_ino);
	h = mix(h, (uint64_t)st.st_size);
	h = mix(h, (uint64_t)st.st_mtim.tv_sec * 1000000000ull + (uint64_t)st.st_mtim.tv_nsec);
	h = mix(h, (uint64_t)st.st_ctim.tv_sec * 1000000000ull + (uint64_t)st.st_ctim.tv_nsec);
	return h;
}

static uint64_t str_sig(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

/* A signature of everything a reload would read.  stat() follows symlinks,
 * so an atomic rename over a file (new inode) and a Kubernetes ConfigMap
 * update (the ..data symlink switched to a new timestamped directory, each
 * file a symlink through it) both change it. */
static uint64_t sources_signature(const struct source_list *sl)
{
	uint64_t h = 7;
	for (size_t i = 0; i < sl->n; i++) {
		h = mix(h, str_sig(sl->path[i]));
		h = mix(h, stat_sig(sl->path[i]));
		DIR *d = opendir(sl->path[i]);
		if (!d)
			continue;
		char link[RD_PATH_MAX + 16], target[RD_PATH_MAX];
		snprintf(link, sizeof(link), "%s/..data", sl->path[i]);
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = 0;
			h = mix(h, str_sig(target));
		}
		uint64_t files = 0; /* order-independent: readdir order varies */
		struct dirent *e;
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			char full[RD_PATH_MAX + 256];
			snprintf(full, sizeof(full), "%s/%s", sl->path[i], e->d_name);
			files += mix(str_sig(e->d_name), stat_sig(full));
		}
		closedir(d);
		h = mix(h, files);
	}
	return h;
}

/* An empty definition list, appended to loaded[]; NULL: out of memory. */
static struct rd_rule_defs *new_defs(struct rd_rule_defs **loaded, size_t *nloaded)
{
	struct rd_rule_defs *d = rd_mem_calloc(sizeof(*d));
	if (d) {
		rd_rule_defs_init(d);
		loaded[(*nloaded)++] = d;
	}
	return d;
}

/* Loads the configured sources (sl NULL: none) and builds a rule set.
 * compile_all: compile every regex now (reloads, API contexts); otherwise
 * rules compile lazily. */
static int build_ruleset(struct redact_context *cx, const struct source_list *sl, int builtin, int compile_all,
			 struct rd_ruleset **out, char *err, size_t errsize)
{
	struct rd_ruleset_input in = {0};
	in.counters = &cx->counters;
	in.match_limit = (uint32_t)cx->cfg.match_limit;
	in.no_jit = !cx->cfg.jit;
	in.report = report_rule_event;
	in.report_arg = cx;
	int rc = 0;
	size_t cap = 0, gcap = 0;
	struct rd_rule_defs *loaded[RD_OWNED_MAX] = {0};
	size_t nloaded = 0;
	/* The built-in rules first: the prebuilt keyword index refers to them
	 * by position. */
	if (builtin) {
		struct rd_rule_defs *d = new_defs(loaded, &nloaded);
		if (!d) {
			rc = REDACT_ERROR_NOMEM;
			goto fail;
		}
		rc = rd_builtin_defs(d);
		if (rc)
			goto fail;
		cap += d->nrules;
		gcap += d->nglobal;
	}
	for (size_t i = 0; sl && i < sl->n; i++) {
		struct rd_rule_defs *d = new_defs(loaded, &nloaded);
		if (!d) {
			rc = REDACT_ERROR_NOMEM;
			goto fail;
		}
		rc = rd_rules_load_path(d, sl->path[i], err, errsize);
		if (!rc)
			rc = rd_rules_validate(d, err, errsize);
		if (rc)
			goto fail;
		cap += d->nrules;
		gcap += d->nglobal;
	}
	/* Values of secret environment variables, as literal rules. */
	{
		struct rd_rule_defs *d = new_defs(loaded, &nloaded);
		if (!d) {
			rc = REDACT_ERROR_NOMEM;
			goto fail;
		}
		rc = rd_env_secret_rules(d, &cx->cfg);
		if (rc)
			goto fail;
		cap += d->nrules;
	}
	const struct rd_rule_def **rules = rd_mem_alloc((cap + 1) * sizeof(*rules));
	const struct rd_allowlist_def **globals = rd_mem_alloc((gcap + 1) * sizeof(*globals));
	if (!rules || !globals) {
		rd_mem_free(rules);
		rd_mem_free(globals);
		rc = REDACT_ERROR_NOMEM;
		goto fail;
	}
	/* All built-in rules, in their order (the prebuilt keyword index
	 * refers to them by position), disabled ones flagged. */
	uint8_t *disabled = rd_mem_calloc(cap + 1);
	if (!disabled) {
		rd_mem_free(rules);
		rd_mem_free(globals);
		rc = REDACT_ERROR_NOMEM;
		goto fail;
	}
	size_t n = 0, g = 0;
	const int lists = rd_config_text_set(&cx->cfg, cx->cfg.rules_disable) ||
			  rd_config_text_set(&cx->cfg, cx->cfg.rules_enable);
	const struct rd_kwindex *base_leads[RD_LEAD_GROUPS] = {NULL};
	if (builtin) {
		/* The prebuilt index leaves out the opt-in rules (redact-rulec):
		 * usable unless one of them is enabled. */
		int base_usable = 1;
		for (size_t i = 0; i < loaded[0]->nrules; i++)
			if ((loaded[0]->rules[i].flags & RD_RULE_OPT_IN) && rule_enabled(&cx->cfg, lists, &loaded[0]->rules[i]))
				base_usable = 0;
		for (int lg = 0; lg < RD_LEAD_GROUPS; lg++)
			base_leads[lg] = rd_builtin_index(1 + lg);
		in.base = base_usable ? rd_builtin_index(0) : NULL;
		in.nbase = in.base ? rd_builtin_nrules : 0;
		in.base_leads = base_leads;
		in.base_leads_known = in.base && rd_builtin_leadix_known;
		in.base_first = rd_builtin_first;
		in.nbase_first = rd_builtin_nfirst;
		in.nunique = rd_builtin_nrules; /* redact-rulec checked them */
		in.base_progress = rd_builtin_progress;
		in.nbase_progress = rd_builtin_nprogress;
	}
	for (size_t s = 0; s < nloaded; s++) {
		for (size_t i = 0; i < loaded[s]->nrules; i++) {
			disabled[n] = !rule_enabled(&cx->cfg, lists, &loaded[s]->rules[i]);
			rules[n++] = &loaded[s]->rules[i];
		}
		for (size_t i = 0; i < loaded[s]->nglobal; i++)
			globals[g++] = &loaded[s]->global_allowlists[i];
	}
	in.disabled = disabled;
	in.rules = rules;
	in.nrules = n;
	in.global = globals;
	in.nglobal = g;
	for (size_t i = 0; i < nloaded; i++)
		in.owned[i] = loaded[i];
	in.nowned = nloaded;
	rc = rd_ruleset_build(out, &in, err, errsize);
	rd_mem_free(rules);
	rd_mem_free(globals);
	rd_mem_free(disabled);
	if (rc)
		goto fail;
	nloaded = 0; /* owned by the set now */
	if (compile_all) {
		rc = rd_ruleset_compile_all(*out, err, errsize);
		if (rc) {
			rd_ruleset_free(*out);
			*out = NULL;
			return rc;
		}
	}
	return 0;
fail:
	for (size_t i = 0; i < nloaded; i++) {
		rd_rule_defs_destroy(loaded[i]);
		rd_mem_free(loaded[i]);
	}
	return rc;
}

static __thread int building_here;

static int build_first(struct redact_context *cx)
{
	/* Without REDACT_PATTERNS: the built-in rules, no 16 KiB list to fill. */
	int custom = rd_config_text_set(&cx->cfg, cx->cfg.patterns);
	struct source_list *sl = custom ? rd_mem_alloc(sizeof(*sl)) : NULL;
	if (custom && !sl)
		return REDACT_ERROR_NOMEM;
	int builtin = 1;
	if (custom)
		parse_sources(&cx->cfg, sl, &builtin);
	char err[1024] = "";
	struct rd_ruleset *rs = NULL;
	int rc = build_ruleset(cx, sl, builtin, 0, &rs, err, sizeof(err));
	if (rc) {
		/* The preloaded library must keep redacting: fall back to the
		 * built-in rules and say why. */
		rd_diag(&cx->cfg, "rules", err);
		rd_context_set_error(cx, err);
		struct source_list none = {0};
		char err2[256];
		rc = build_ruleset(cx, &none, 1, 0, &rs, err2, sizeof(err2));
	}
	if (custom)
		rd_mem_free(sl);
	if (!rc)
		atomic_store_explicit(&cx->current, rs, memory_order_release);
	return rc;
}

int rd_context_ensure_rules(struct redact_context *cx)
{
	if (__builtin_expect(atomic_load_explicit(&cx->current, memory_order_acquire) != NULL, 1))
		return 0;
	/* A write from a signal handler that interrupted the first build on this
	 * thread could not wait for it, and would have no rules: its data would
	 * be lost.  So the asynchronous signals are blocked on this thread
	 * while it builds (a few milliseconds, once per process); they are
	 * delivered when it is done, with the rules in place.  Faults stay
	 * unblocked (a blocked SIGSEGV kills).  The check below remains for a
	 * handler of one of those. */
	if (building_here)
		return REDACT_ERROR_RULES;
	sigset_t all, old;
	sigfillset(&all);
	static const int faults[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGSYS};
	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
		sigdelset(&all, faults[i]);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	building_here = 1;
	pthread_mutex_lock(&cx->reload_lock);
	int rc = 0;
	if (!atomic_load(&cx->current))
		rc = build_first(cx);
	pthread_mutex_unlock(&cx->reload_lock);
	building_here = 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

int rd_context_reload(struct redact_context *cx, int only_if_changed)
{
	struct source_list *sl = rd_mem_alloc(sizeof(*sl));
	if (!sl)
		return REDACT_ERROR_NOMEM;
	int builtin;
	parse_sources(&cx->cfg, sl, &builtin);
	pthread_mutex_lock(&cx->reload_lock);
	uint64_t sig = sources_signature(sl);
	int rc = 0;
	if (only_if_changed && sig == cx->sources_signature)
		goto out;
	char err[1024] = "";
	struct rd_ruleset *rs = NULL;
	rc = build_ruleset(cx, sl, builtin, 1, &rs, err, sizeof(err));
	/* Remember the version even when it failed: the same broken files are
	 * not reported again every interval, the next change is tried. */
	cx->sources_signature = sig;
	if (rc) {
		rd_context_set_error(cx, err);
		struct rd_audit_event ev = {.event = "reload", .action = "failed", .offset = -1, .length = -1,
					    .detail = err};
		rd_audit(&cx->cfg, &ev);
		goto out;
	}
	struct rd_ruleset *old = rcu_xchg_pointer(&cx->current, rs);
	urcu_bp_synchronize_rcu();
	rd_ruleset_free(old);
	char detail[64];
	snprintf(detail, sizeof(detail), "%zu rules", rs->nrules);
	struct rd_audit_event ev = {.event = "reload", .action = "ok", .offset = -1, .length = -1, .detail = detail};
	rd_audit(&cx->cfg, &ev);
out:
	pthread_mutex_unlock(&cx->reload_lock);
	rd_mem_free(sl);
	return rc;
}

/* ---- reloader thread ---- */

static void *reloader_main(void *arg)
{
	struct redact_context *cx = arg;
	pthread_mutex_lock(&cx->wake_lock);
	while (!cx->stopping) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (time_t)cx->cfg.update_interval;
		int w = 0;
		while (!cx->stopping && w != ETIMEDOUT)
			w = pthread_cond_timedwait(&cx->wake, &cx->wake_lock, &ts);
		if (cx->stopping)
			break;
		pthread_mutex_unlock(&cx->wake_lock);
		rd_context_reload(cx, 1);
		pthread_mutex_lock(&cx->wake_lock);
	}
	pthread_mutex_unlock(&cx->wake_lock);
	return NULL;
}

void rd_context_ensure_reloader(struct redact_context *cx)
{
	if (!cx->has_external || !cx->cfg.update_interval)
		return;
	unsigned gen = atomic_load_explicit(&fork_gen, memory_order_relaxed);
	if (__builtin_expect(cx->reloader_running && cx->reloader_fork_gen == gen, 1))
		return;
	pthread_mutex_lock(&cx->wake_lock);
	if (!cx->reloader_running || cx->reloader_fork_gen != gen) {
		/* The reloader must not take signals meant for the program. */
		sigset_t all, old;
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, 512 * 1024);
		if (pthread_create(&cx->reloader, &attr, reloader_main, cx) == 0) {
			pthread_setname_np(cx->reloader, "redact-reload");
			cx->reloader_running = 1;
			cx->reloader_fork_gen = gen;
		}
		pthread_attr_destroy(&attr);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	pthread_mutex_unlock(&cx->wake_lock);
}

/* ---- create / destroy ---- */

RD_STARTUP int rd_context_init(struct redact_context *cx, int lazy_reloader, char *err, size_t errsize)
{
	pthread_once(&atfork_once, install_atfork);
	pthread_mutex_init(&cx->reload_lock, NULL);
	pthread_mutex_init(&cx->wake_lock, NULL);
	pthread_mutex_init(&cx->error_lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cx->wake, &ca);
	pthread_condattr_destroy(&ca);
	rd_counters_init(&cx->counters);
	cx->lazy_reloader = lazy_reloader;

	/* Invalid settings are reported once, never into the program's output. */
	for (int i = 0; i < cx->cfg.nerrors && i < 4; i++)
		rd_diag(&cx->cfg, "config", cx->cfg.errors[i]);

	struct rd_ruleset *rs = NULL;
	int rc = 0;
	cx->builtin_included = 1;
	/* Without REDACT_PATTERNS a lazy context has nothing to read now: the
	 * source list (16 KiB) would only be pages written at process start. */
	if (!lazy_reloader || rd_config_text_set(&cx->cfg, cx->cfg.patterns)) {
		struct source_list *sl = rd_mem_alloc(sizeof(*sl));
		if (!sl)
			return REDACT_ERROR_NOMEM;
		int builtin;
		parse_sources(&cx->cfg, sl, &builtin);
		cx->builtin_included = builtin;
		cx->has_external = sl->n > 0;
		cx->sources_signature = sl->n ? sources_signature(sl) : 0;
		if (!lazy_reloader)
			rc = build_ruleset(cx, sl, builtin, sl->n > 0, &rs, err, errsize);
		rd_mem_free(sl);
	}
	if (rc)
		return rc;
	/* The preloaded library builds its rule set on first use (most
	 * processes of a container never print to a sink). */
	atomic_store(&cx->current, rs);
	pthread_mutex_lock(&contexts_lock);
	cx->next = contexts;
	contexts = cx;
	pthread_mutex_unlock(&contexts_lock);
	if (!lazy_reloader)
		rd_context_ensure_reloader(cx);
	return 0;
}

int rd_context_create(struct redact_context **out, const struct rd_config *cfg, int lazy_reloader, char *err,
		      size_t errsize)
{
	*out = NULL;
	struct redact_context *cx = rd_mem_calloc(sizeof(*cx));
	if (!cx)
		return REDACT_ERROR_NOMEM;
	rd_config_copy(&cx->cfg, cfg); /* cx is fresh: zero */
	int rc = rd_context_init(cx, lazy_reloader, err, errsize);
	if (rc) {
		rd_context_destroy(cx);
		return rc;
	}
	*out = cx;
	return 0;
}

int rd_context_create_with(struct redact_context **out, const struct rd_config *cfg, struct rd_ruleset *rs)
{
	*out = NULL;
	pthread_once(&atfork_once, install_atfork);
	struct redact_context *cx = rd_mem_calloc(sizeof(*cx));
	if (!cx)
		return REDACT_ERROR_NOMEM;
	rd_config_copy(&cx->cfg, cfg); /* cx is fresh: zero */
	rd_config_set(&cx->cfg, "REDACT_PATTERNS", "", "context"); /* no sources: clears text and bit */
	pthread_mutex_init(&cx->reload_lock, NULL);
	pthread_mutex_init(&cx->wake_lock, NULL);
	pthread_mutex_init(&cx->error_lock, NULL);
	pthread_cond_init(&cx->wake, NULL);
	rd_counters_init(&cx->counters);
	atomic_store(&cx->current, rs);
	pthread_mutex_lock(&contexts_lock);
	cx->next = contexts;
	contexts = cx;
	pthread_mutex_unlock(&contexts_lock);
	*out = cx;
	return 0;
}

void rd_context_destroy(struct redact_context *cx)
{
	if (!cx)
		return;
	pthread_mutex_lock(&contexts_lock);
	for (struct redact_context **p = &contexts; *p; p = &(*p)->next) {
		if (*p == cx) {
			*p = cx->next;
			break;
		}
	}
	pthread_mutex_unlock(&contexts_lock);
	pthread_mutex_lock(&cx->wake_lock);
	int join = cx->reloader_running && cx->reloader_fork_gen == atomic_load(&fork_gen);
	cx->stopping = 1;
	pthread_cond_broadcast(&cx->wake);
	pthread_mutex_unlock(&cx->wake_lock);
	if (join)
		pthread_join(cx->reloader, NULL);
	struct rd_ruleset *rs = atomic_exchange(&cx->current, NULL);
	if (rs) {
		urcu_bp_synchronize_rcu();
		rd_ruleset_free(rs);
	}
	rd_counters_destroy(&cx->counters);
	pthread_cond_destroy(&cx->wake);
	pthread_mutex_destroy(&cx->wake_lock);
	pthread_mutex_destroy(&cx->reload_lock);
	pthread_mutex_destroy(&cx->error_lock);
	rd_mem_free(cx);
}
