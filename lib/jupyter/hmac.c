/* HMAC for re-signing Jupyter messages, computed by OpenSSL's libcrypto.
 *
 * libcrypto is not a link dependency of libredact (every process would load
 * it): it is looked up only in a kernel process, when the first output
 * message needs signing.  A Python kernel already has it (hashlib and hmac
 * load _hashlib, which links libcrypto), so dlopen with RTLD_NOLOAD finds
 * it without loading anything; otherwise it is loaded RTLD_LOCAL.
 *
 * The HMAC_CTX functions exist in OpenSSL 1.1 and 3 (deprecated in 3, still
 * exported), so one set of symbols serves both. */
#include "jr.h"
#include "rd_hooks.h"

#include <dlfcn.h>
#include <string.h>

static const void *(*p_get_digestbyname)(const char *);
static void *(*p_ctx_new)(void);
static void (*p_ctx_free)(void *);
static int (*p_init_ex)(void *, const void *, int, const void *, void *);
static int (*p_update)(void *, const unsigned char *, size_t);
static int (*p_final)(void *, unsigned char *, unsigned int *);
static int loaded; /* 1 ok, -1 failed; set under the caller's lock (connection.c) */

static const char *const libnames[] = {"libcrypto.so.3", "libcrypto.so.1.1", "libcrypto.so", NULL};

static int load(void)
{
	if (loaded)
		return loaded > 0 ? 0 : -1;
	void *h = NULL;
	for (int i = 0; !h && libnames[i]; i++)
		h = dlopen(libnames[i], RTLD_LAZY | RTLD_LOCAL | RTLD_NOLOAD);
	for (int i = 0; !h && libnames[i]; i++)
		h = dlopen(libnames[i], RTLD_LAZY | RTLD_LOCAL);
	if (h) {
		*(void **)&p_get_digestbyname = dlsym(h, "EVP_get_digestbyname");
		*(void **)&p_ctx_new = dlsym(h, "HMAC_CTX_new");
		*(void **)&p_ctx_free = dlsym(h, "HMAC_CTX_free");
		*(void **)&p_init_ex = dlsym(h, "HMAC_Init_ex");
		*(void **)&p_update = dlsym(h, "HMAC_Update");
		*(void **)&p_final = dlsym(h, "HMAC_Final");
	}
	loaded = (h && p_get_digestbyname && p_ctx_new && p_ctx_free && p_init_ex && p_update && p_final) ? 1 : -1;
	return loaded > 0 ? 0 : -1;
}

/* Python hashlib name (what signature_scheme says after "hmac-") to the
 * OpenSSL digest name. */
static const void *digest_of(const char *name)
{
	char n[64];
	if (!strcmp(name, "blake2b"))
		name = "blake2b512";
	else if (!strcmp(name, "blake2s"))
		name = "blake2s256";
	size_t l = strlen(name);
	if (l >= sizeof(n))
		return NULL;
	for (size_t i = 0; i <= l; i++)
		n[i] = name[i] == '_' ? '-' : name[i]; /* sha3_256 -> sha3-256 */
	return p_get_digestbyname(n);
}

int jr_hmac_setup(const char *digest, const char **why)
{
	if (load()) {
		*why = "libcrypto (OpenSSL) could not be loaded";
		return -1;
	}
	if (!digest_of(digest)) {
		*why = "the signature_scheme's digest is not supported by libcrypto";
		return -1;
	}
	return 0;
}

int jr_hmac_hex(const char *digest, const uint8_t *key, size_t key_len, const struct iovec *parts, int nparts,
		char *hex, size_t hex_size)
{
	static const char digits[] = "0123456789abcdef";
	if (loaded <= 0 || key_len > 0x7fffffff)
		return -1;
	const void *md = digest_of(digest);
	void *ctx = md ? p_ctx_new() : NULL;
	if (!ctx)
		return -1;
	unsigned char mac[128];
	unsigned int len = 0;
	int ok = p_init_ex(ctx, key, (int)key_len, md, NULL) == 1;
	for (int i = 0; ok && i < nparts; i++)
		ok = p_update(ctx, parts[i].iov_base, parts[i].iov_len) == 1;
	ok = ok && p_final(ctx, mac, &len) == 1 && len <= sizeof(mac) && 2 * (size_t)len < hex_size;
	p_ctx_free(ctx);
	if (!ok)
		return -1;
	for (unsigned int i = 0; i < len; i++) {
		hex[2 * i] = digits[mac[i] >> 4];
		hex[2 * i + 1] = digits[mac[i] & 15];
	}
	hex[2 * len] = 0;
	return (int)(2 * len);
}
