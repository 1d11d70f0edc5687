#include <redact.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
	redact_context *ctx;
	if (redact_context_create(&ctx, NULL))
		return 1;
	const char *in = "key=AKIAQYLPMN5HFIQR7XPA\n";
	char *out;
	size_t n;
	int rc = redact_buffer(ctx, in, strlen(in), &out, &n);
	fputs(out, stdout);
	redact_free(out);
	redact_context_free(ctx);
	return rc == 1 ? 0 : 1;
}
