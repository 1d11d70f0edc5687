/* A program that links libredact directly: redacts one buffer, then a
 * stream into which a secret arrives split over two writes.
 *
 *   cc redact_api_demo.c $(pkg-config --cflags --libs libredact) */
#include <redact.h>
#include <stdio.h>
#include <string.h>

static int to_stdout(void *userdata, const char *data, size_t len)
{
	(void)userdata;
	return fwrite(data, 1, len, stdout) == len ? 0 : -1;
}

int main(void)
{
	redact_context *ctx;
	int rc = redact_context_create(&ctx, NULL); /* defaults, config file, environment */
	if (rc) {
		char msg[512];
		redact_context_error(NULL, msg, sizeof(msg));
		fprintf(stderr, "redact_context_create: %s (%s)\n", redact_strerror(rc), msg);
		return 1;
	}

	const char *line = "connecting with GITHUB_TOKEN=ghp_R1f3kP0aXb9cZ8Lm2Qw7Er5Ty6Ui4Op3As1D\n";
	char *out;
	size_t out_len;
	rc = redact_buffer(ctx, line, strlen(line), &out, &out_len);
	if (rc < 0) {
		fprintf(stderr, "redact_buffer: %s\n", redact_strerror(rc));
		return 1;
	}
	printf("buffer (%d secret): %s", rc, out);
	redact_free(out);

	redact_stream *s;
	if (redact_stream_create(ctx, to_stdout, NULL, &s) == 0) {
		fputs("stream: ", stdout);
		redact_stream_write(s, "aws key AKIAQYLPMN5H", 20); /* the key is cut here */
		redact_stream_write(s, "FIQR7XPA in use\n", 16);
		redact_stream_flush(s);
		redact_stream_free(s);
	}

	uint64_t n = 0;
	redact_rule_matches(ctx, "aws-access-key-id", &n);
	printf("aws-access-key-id matched %llu time(s)\n", (unsigned long long)n);
	redact_context_free(ctx);
	return 0;
}
