// The public header compiles as C++ and the API is usable from C++.
#include <redact.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

namespace {
struct ContextDeleter {
	void operator()(redact_context *c) const { redact_context_free(c); }
};
using Context = std::unique_ptr<redact_context, ContextDeleter>;

std::string redact(redact_context *ctx, const std::string &in)
{
	char *out = nullptr;
	size_t len = 0;
	if (redact_buffer(ctx, in.data(), in.size(), &out, &len) < 0)
		return "<error>";
	std::string s(out, len);
	redact_free(out);
	return s;
}
} // namespace

int main()
{
	redact_config *cfg = nullptr;
	if (redact_config_create(&cfg) != REDACT_OK)
		return 1;
	redact_context *raw = nullptr;
	int rc = redact_context_create(&raw, cfg);
	redact_config_free(cfg);
	if (rc != REDACT_OK) {
		std::fprintf(stderr, "%s\n", redact_strerror(rc));
		return 1;
	}
	Context ctx(raw);
	std::string out = redact(ctx.get(), "GITHUB_TOKEN=ghp_R1f3kP0aXb9cZ8Lm2Qw7Er5Ty6Ui4Op3As1D\n");
	if (out != "GITHUB_TOKEN=****************************************\n") {
		std::fprintf(stderr, "unexpected: %s", out.c_str());
		return 1;
	}
	std::string collected;
	redact_stream *s = nullptr;
	auto cb = [](void *ud, const char *d, size_t l) -> int {
		static_cast<std::string *>(ud)->append(d, l);
		return 0;
	};
	if (redact_stream_create(ctx.get(), cb, &collected, &s) != REDACT_OK)
		return 1;
	redact_stream_write(s, "key AKIAQYLPMN5H", 16);
	redact_stream_write(s, "FIQR7XPA\n", 9);
	redact_stream_flush(s);
	redact_stream_free(s);
	if (collected != "key ********************\n") {
		std::fprintf(stderr, "stream: %s", collected.c_str());
		return 1;
	}
	std::puts("ok");
	return 0;
}
