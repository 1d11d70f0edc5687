/* Settings.  One table (RD_SETTINGS) names every setting once; it drives
 * parsing from the environment and from the config file, the defaults and
 * `redact_config_set`.  The struct has no pointers, so the preloaded library
 * keeps its copy in static storage and never allocates for it. */
#ifndef RD_CONFIG_H
#define RD_CONFIG_H

#include <stddef.h>

enum rd_mode { RD_MODE_MASK = 0, RD_MODE_BLOCK, RD_MODE_LOG_ONLY };
enum rd_mask_style { RD_MASK_STARS = 0, RD_MASK_LABEL };
enum rd_scope { RD_SCOPE_SINKS = 0, RD_SCOPE_STDIO };

#define RD_PATH_MAX 1024
#define RD_LIST_MAX 2048

/*  X(env name, field, kind, default, min, max, secure)
 *  kind: BOOL, UINT (min..max), MODE, MASK, SCOPE, STR (string).  The
 *  default is a C value of the field's type (a string for STR): the
 *  constructor stores it without parsing anything. */
#define RD_SETTINGS(X)                                                                    \
	X("REDACT_MODE", mode, MODE, RD_MODE_MASK, 0, 0, 0)                               \
	X("REDACT_MASK", mask, MASK, RD_MASK_STARS, 0, 0, 0)                              \
	X("PATTERN_UPDATE_INTERVAL", update_interval, UINT, 3600, 0, 31536000, 0)         \
	X("REDACT_PATTERNS", patterns, STR, "", 0, 0, 1)                                  \
	X("REDACT_RULES_DISABLE", rules_disable, STR, "", 0, 0, 0)                        \
	X("REDACT_RULES_ENABLE", rules_enable, STR, "", 0, 0, 0)                          \
	X("REDACT_AUDIT_LOG", audit_log, STR, "", 0, 0, 1)                                \
	X("REDACT_DEBUG", debug, BOOL, 0, 0, 0, 0)                                        \
	X("SCAN_INPUT", scan_input, BOOL, 0, 0, 0, 0)                                     \
	X("ALLOWLIST_PATHS", allowlist_paths, STR, "", 0, 0, 1)                           \
	X("REDACT_SCOPE", scope, SCOPE, RD_SCOPE_SINKS, 0, 0, 0)                          \
	X("REDACT_SOCKETS", sockets, STR, "log", 0, 0, 1)                                 \
	X("REDACT_HOLDBACK_MAX", holdback_max, UINT, 16384, 256, 1048576, 0)             \
	X("REDACT_HOLDBACK_MS", holdback_ms, UINT, 100, 1, 60000, 0)                      \
	X("REDACT_MATCH_LIMIT", match_limit, UINT, 200000, 1000, 100000000, 0)           \
	X("REDACT_JIT", jit, BOOL, 1, 0, 0, 0)                                            \
	X("REDACT_ENV_NAMES", env_names, STR, RD_DEFAULT_ENV_NAMES, 0, 0, 0)              \
	X("REDACT_ENV_MIN_LEN", env_min_len, UINT, 6, 1, 4096, 0)

/* Environment variables whose values are masked wherever they appear
 * (issue: secrets from the environment).  Shell-style patterns. */
#define RD_DEFAULT_ENV_NAMES                                                                        \
	"*_PASSWORD,*_PASSWD,*_PASS,*_SECRET,*_TOKEN,*_API_KEY,*_APIKEY,*_ACCESS_KEY,*_SECRET_KEY,"  \
	"*_PRIVATE_KEY,*_SSH_KEY,*_CONNECTION_STRING,*_CREDENTIALS,*_AUTH,PASSWORD,HF_TOKEN,"        \
	"HUGGING_FACE_HUB_TOKEN,WANDB_API_KEY,OPENAI_API_KEY,ANTHROPIC_API_KEY,GITHUB_TOKEN,"        \
	"GH_TOKEN,NPM_TOKEN,PYPI_TOKEN,AWS_SECRET_ACCESS_KEY,AWS_SESSION_TOKEN,DATABASE_URL"

/* Scalars first, then the text fields, those with a non-empty default
 * first: a process touches only the pages of the fields it uses (a page
 * written at start-up is a page fault, ~10 us in this VM: see
 * rd_config_defaults_zeroed and rd_config_copy). */
struct rd_config {
	int mode;
	int mask;
	unsigned long update_interval;
	int debug;
	int scan_input;
	int scope;
	int jit;
	unsigned long holdback_max;
	unsigned long holdback_ms;
	unsigned long match_limit;
	unsigned long env_min_len;
	unsigned text_set; /* bit i: text setting i of RD_SETTINGS is not empty */
	/* The first invalid settings seen, reported once by the context. */
	int nerrors;
	char sockets[RD_LIST_MAX];
	char env_names[RD_LIST_MAX];
	char patterns[RD_LIST_MAX];
	char rules_disable[RD_LIST_MAX];
	char rules_enable[RD_LIST_MAX];
	char audit_log[RD_PATH_MAX];
	char allowlist_paths[RD_LIST_MAX];
	char errors[4][512];
};

void rd_config_defaults(struct rd_config *c);
/* The same for a struct known to be all zero (static storage, fresh
 * calloc): writes only the fields whose default is not zero or empty. */
void rd_config_defaults_zeroed(struct rd_config *c);
/* *dst = *src for a dst known to be all zero, copying only the text that
 * is set. */
void rd_config_copy(struct rd_config *dst, const struct rd_config *src);
/* Is the text setting at this field set (not empty)?  Reads no text. */
int rd_config_text_set(const struct rd_config *c, const char *field);
/* Returns 0, or REDACT_ERROR_CONFIG (and records a message). */
int rd_config_set(struct rd_config *c, const char *key, const char *value, const char *origin);
int rd_config_load_env(struct rd_config *c);
int rd_config_load_file(struct rd_config *c, const char *path);
/* The config file that applies: $REDACT_CONFIG, else /etc/libredact.conf. */
const char *rd_config_file_path(void);

#endif
