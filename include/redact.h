/*
 * libredact: keep secrets out of what a process prints.
 *
 * This is the library's only public header.  Every name starts with
 * `redact_` or `REDACT_`; all types are opaque; every object has a
 * create/free pair; functions return 0 or a negative REDACT_ERROR_* code,
 * which redact_strerror() turns into text.  All functions are thread-safe
 * unless stated otherwise.
 *
 * The same library, loaded with LD_PRELOAD, redacts a whole process without
 * any call to this API; see README.md.  Linking it directly gives C and C++
 * programs the engine itself: redact a buffer, or drive a stream that
 * carries state across writes so that a secret split between two writes is
 * still found.
 *
 * Settings are named after the environment variables that also set them
 * (REDACT_MODE, REDACT_MASK, REDACT_PATTERNS, PATTERN_UPDATE_INTERVAL, ...);
 * README.md lists them all.
 */
#ifndef REDACT_H
#define REDACT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define REDACT_VERSION_MAJOR 1
#define REDACT_VERSION_MINOR 0
#define REDACT_VERSION_PATCH 0

/* Return codes.  0 is success; errors are negative. */
#define REDACT_OK 0
#define REDACT_ERROR_NOMEM (-1)      /* out of memory */
#define REDACT_ERROR_INVALID (-2)    /* invalid argument */
#define REDACT_ERROR_RULES (-3)      /* a rule source is malformed or does not compile */
#define REDACT_ERROR_IO (-4)         /* a file or directory could not be read */
#define REDACT_ERROR_CONFIG (-5)     /* unknown setting or invalid value */
#define REDACT_ERROR_NOT_FOUND (-6)  /* no such rule or index */
#define REDACT_ERROR_OUTPUT (-7)     /* a stream's output callback failed */
#define REDACT_ERROR_MAX_ (-7)

/* Text for a return code; never NULL, never to be freed. */
const char *redact_strerror(int code);

/* "1.0.0" */
const char *redact_version(void);

typedef struct redact_config redact_config;
typedef struct redact_context redact_context;
typedef struct redact_stream redact_stream;

/* ---- Configuration ----
 * A configuration is a set of settings; a context is created from one and
 * copies it.  Keys are the environment variable names. */

/* A configuration holding the built-in defaults. */
int redact_config_create(redact_config **out);
void redact_config_free(redact_config *cfg);

/* Sets one key, e.g. ("REDACT_MODE", "block").  Returns REDACT_ERROR_CONFIG
 * for an unknown key or an invalid value (the setting is then unchanged). */
int redact_config_set(redact_config *cfg, const char *key, const char *value);

/* Applies the settings found in the environment (path settings are read
 * with secure_getenv).  Invalid values are skipped; the number of skipped
 * values is returned (0: all applied) and each is described by
 * redact_config_error(). */
int redact_config_load_env(redact_config *cfg);

/* Applies a config file: lines of KEY=VALUE, '#' comments, blank lines.
 * Returns REDACT_ERROR_IO if the file cannot be read, otherwise the number
 * of skipped invalid lines, as for redact_config_load_env(). */
int redact_config_load_file(redact_config *cfg, const char *path);

/* Copies the description of the last invalid setting into buf (snprintf
 * semantics); returns the length of the full message, 0 if none. */
size_t redact_config_error(const redact_config *cfg, char *buf, size_t size);

/* ---- Context ----
 * A context owns the compiled rule set and publishes it to every thread that
 * redacts through it.  Rule sources named by REDACT_PATTERNS are checked for
 * changes every PATTERN_UPDATE_INTERVAL seconds and reloaded without
 * stopping writers. */

/* cfg NULL means: built-in defaults, then the config file (REDACT_CONFIG or
 * /etc/libredact.conf if present), then the environment -- exactly what the
 * preloaded library uses.  Fails with REDACT_ERROR_RULES or REDACT_ERROR_IO
 * when the configured rule sources cannot be loaded; the message is
 * available from redact_context_error() only if *out was set, so pass a
 * context pointer and check it. */
int redact_context_create(redact_context **out, const redact_config *cfg);
void redact_context_free(redact_context *ctx);

/* Copies the last error or reload message into buf (snprintf semantics),
 * e.g. "rules/x.yaml:12: rule 'foo': regex does not compile at offset 3: ...".
 * May be called with a NULL ctx after a failed create, to read the reason. */
size_t redact_context_error(const redact_context *ctx, char *buf, size_t size);

/* Loads the rule sources again now.  On failure the current rule set stays
 * in use and the error is returned (and written to the audit log). */
int redact_reload(redact_context *ctx);

/* ---- One buffer ---- */

/* Redacts in[0..in_len) as one complete text.  *out receives a new buffer
 * (free it with redact_free) of *out_len bytes, NUL-terminated for
 * convenience.  In the default mask style (REDACT_MASK=stars) the output has
 * the same length as the input.  Returns the number of secrets found (>= 0)
 * or an error. */
int redact_buffer(redact_context *ctx, const void *in, size_t in_len, char **out, size_t *out_len);

/* Length-preserving redaction in place: every byte of a secret becomes '*'
 * (whatever REDACT_MASK says; REDACT_MODE still applies, and in block mode
 * the whole buffer is starred).  Returns the number of secrets (>= 0). */
int redact_buffer_inplace(redact_context *ctx, void *buf, size_t len);

void redact_free(void *p);

/* ---- Streams ----
 * A stream redacts a sequence of writes as one text.  It holds back only the
 * tail of the data that could still become part of a secret (at most
 * REDACT_HOLDBACK_MAX bytes) and releases it when a later write or
 * redact_stream_flush() decides it.  Output goes to the callback, in order;
 * a non-zero callback result aborts the write with REDACT_ERROR_OUTPUT.
 * A stream must not be used by two threads at once. */
typedef int (*redact_output_fn)(void *userdata, const char *data, size_t len);

int redact_stream_create(redact_context *ctx, redact_output_fn output, void *userdata, redact_stream **out);
/* Returns the number of secrets completed by this write (>= 0), or an error. */
int redact_stream_write(redact_stream *s, const void *data, size_t len);
/* Declares the end of the text so far: decides and releases everything
 * held back.  The stream can be written again afterwards. */
int redact_stream_flush(redact_stream *s);
/* Bytes currently held back. */
size_t redact_stream_pending(const redact_stream *s);
/* Frees the stream without flushing (call redact_stream_flush first to keep
 * the held-back bytes). */
void redact_stream_free(redact_stream *s);

/* ---- Rules and counters ---- */

typedef struct redact_rule_info {
	char id[64];           /* rule id, e.g. "aws-access-key-id" */
	char family[32];       /* rule file family, e.g. "cloud" */
	uint64_t matches;      /* secrets found by this rule since the context was created */
} redact_rule_info;

/* Number of rules in the current rule set. */
int redact_rule_count(redact_context *ctx);
/* Information about rule number index (0 <= index < redact_rule_count). */
int redact_rule_get(redact_context *ctx, size_t index, redact_rule_info *info);
/* Match counter of one rule by id. */
int redact_rule_matches(redact_context *ctx, const char *rule_id, uint64_t *count);

#ifdef __cplusplus
}
#endif

#endif /* REDACT_H */
