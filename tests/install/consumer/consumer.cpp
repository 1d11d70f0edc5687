#include <redact.h>
#include <string>

int main()
{
	redact_context *ctx = nullptr;
	if (redact_context_create(&ctx, nullptr) != REDACT_OK)
		return 1;
	std::string in = "key=AKIAQYLPMN5HFIQR7XPA\n";
	char *out = nullptr;
	size_t n = 0;
	int rc = redact_buffer(ctx, in.data(), in.size(), &out, &n);
	bool ok = rc == 1 && std::string(out, n) == "key=********************\n";
	redact_free(out);
	redact_context_free(ctx);
	return ok ? 0 : 1;
}
