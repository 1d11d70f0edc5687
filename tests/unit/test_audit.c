/* Audit events: one JSON object per line with metadata only; never a byte
 * of a secret; file and syslog targets; a failing target changes nothing;
 * many processes can share one file. */
#include "test_util.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

static uint64_t rng = 0x9E3779B97F4A7C15ull ^ 12345;
static char rchar(void)
{
	static const char a[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return a[rng % 36];
}

static char *log_path(const char *name)
{
	char *p = malloc(600);
	snprintf(p, 600, "%s/%s", tmpdir(), name);
	unlink(p);
	return p;
}

static int count_lines(const char *text, const char *needle)
{
	int n = 0;
	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void test_detection_events(void **state)
{
	(void)state;
	char *log = log_path("audit.log");
	redact_context *ctx = ctx_yaml(TEST_RULES, "REDACT_AUDIT_LOG", log, NULL);
	char secrets[50][21];
	char input[2000] = "";
	for (int i = 0; i < 50; i++) {
		memcpy(secrets[i], "tok_", 4);
		for (int j = 4; j < 20; j++)
			secrets[i][j] = rchar();
		secrets[i][20] = 0;
		strcat(input, "x ");
		strcat(input, secrets[i]);
		strcat(input, "\n");
	}
	int n;
	char *out = redact_str(ctx, input, &n);
	assert_int_equal(n, 50);
	free(out);
	size_t len;
	char *text = read_file(log, &len);
	assert_non_null(text);
	assert_int_equal(count_lines(text, "\n"), 50);
	/* every line is one object with the required fields */
	char *line = text;
	for (int i = 0; i < 50; i++) {
		char *nl = strchr(line, '\n');
		*nl = 0;
		assert_int_equal(line[0], '{');
		assert_int_equal(nl[-1], '}');
		int y, mo, d, h, mi, s, ms;
		assert_int_equal(sscanf(line, "{\"time\":\"%4d-%2d-%2dT%2d:%2d:%2d.%3dZ\"", &y, &mo, &d, &h, &mi, &s, &ms), 7);
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		struct tm tm;
		gmtime_r(&now.tv_sec, &tm);
		assert_int_equal(y, tm.tm_year + 1900);
		assert_non_null(strstr(line, "\"event\":\"detection\""));
		char pid[64];
		snprintf(pid, sizeof(pid), "\"pid\":%d,", (int)getpid());
		assert_non_null(strstr(line, pid));
		char uid[64];
		snprintf(uid, sizeof(uid), "\"uid\":%d,", (int)getuid());
		assert_non_null(strstr(line, uid));
		assert_non_null(strstr(line, "\"exe\":\"/"));
		assert_non_null(strstr(line, "\"rule\":\"tok\""));
		assert_non_null(strstr(line, "\"channel\":\"api\""));
		assert_non_null(strstr(line, "\"action\":\"masked\""));
		char off[64];
		snprintf(off, sizeof(off), "\"offset\":%d,\"length\":20}", i * 23 + 2);
		assert_non_null(strstr(line, off));
		line = nl + 1;
	}
	free(text);
	/* no secret byte sequence: not even 6 consecutive bytes of the random part */
	text = read_file(log, &len);
	for (int i = 0; i < 50; i++)
		for (int j = 4; j + 6 <= 20; j++) {
			char piece[7];
			memcpy(piece, secrets[i] + j, 6);
			piece[6] = 0;
			assert_null(strstr(text, piece));
		}
	free(text);
	redact_context_free(ctx);
	free(log);
}

static void test_actions(void **state)
{
	(void)state;
	const char *modes[] = {"block", "log_only"};
	const char *actions[] = {"\"action\":\"blocked\"", "\"action\":\"logged\""};
	for (int m = 0; m < 2; m++) {
		char *log = log_path("actions.log");
		redact_context *ctx = ctx_yaml(TEST_RULES, "REDACT_AUDIT_LOG", log, "REDACT_MODE", modes[m], NULL);
		char *out = redact_str(ctx, "tok_0123456789abcdef\n", NULL);
		free(out);
		char *text = read_file(log, NULL);
		assert_non_null(strstr(text, actions[m]));
		free(text);
		redact_context_free(ctx);
		free(log);
	}
}

static void test_reload_events(void **state)
{
	(void)state;
	char *log = log_path("reload.log");
	char *rules = write_tmp("reload-ev.yaml", TEST_RULES);
	redact_config *cfg;
	assert_int_equal(redact_config_create(&cfg), 0);
	assert_int_equal(redact_config_set(cfg, "REDACT_PATTERNS", rules), 0);
	assert_int_equal(redact_config_set(cfg, "REDACT_AUDIT_LOG", log), 0);
	redact_context *ctx;
	assert_int_equal(redact_context_create(&ctx, cfg), 0);
	assert_int_equal(redact_reload(ctx), 0);
	free(write_tmp("reload-ev.yaml", "family: x\nrules: [broken\n"));
	assert_int_equal(redact_reload(ctx), REDACT_ERROR_RULES);
	char msg[512];
	redact_context_error(ctx, msg, sizeof(msg));
	assert_non_null(strstr(msg, "reload-ev.yaml:"));
	assert_non_null(strstr(msg, "YAML error"));
	char *text = read_file(log, NULL);
	assert_non_null(strstr(text, "\"event\":\"reload\",\"pid\""));
	assert_non_null(strstr(text, "\"action\":\"ok\""));
	assert_non_null(strstr(text, "\"action\":\"failed\""));
	assert_non_null(strstr(text, "reload-ev.yaml:3: YAML error"));
	/* the working set is still in use */
	assert_redacts(ctx, "tok_0123456789abcdef", "********************");
	free(text);
	redact_context_free(ctx);
	redact_config_free(cfg);
	free(rules);
	free(log);
}

static void test_syslog_target(void **state)
{
	(void)state;
	char path[200];
	snprintf(path, sizeof(path), "%s/log.sock", tmpdir());
	unlink(path);
	int s = socket(AF_UNIX, SOCK_DGRAM, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.100s", path);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	char target[300];
	snprintf(target, sizeof(target), "syslog:%s", path);
	redact_context *ctx = ctx_yaml(TEST_RULES, "REDACT_AUDIT_LOG", target, NULL);
	char *out = redact_str(ctx, "tok_0123456789abcdef\n", NULL);
	free(out);
	char msg[2048];
	ssize_t n = recv(s, msg, sizeof(msg) - 1, MSG_DONTWAIT);
	assert_true(n > 0);
	msg[n] = 0;
	char head[64];
	snprintf(head, sizeof(head), "<85>libredact[%d]: {\"time\":", (int)getpid());
	assert_int_equal(strncmp(msg, head, strlen(head)), 0);
	assert_non_null(strstr(msg, "\"rule\":\"tok\""));
	assert_null(strstr(msg, "0123456789abcdef"));
	close(s);
	unlink(path);
	redact_context_free(ctx);
}

static void test_failing_target(void **state)
{
	(void)state;
	redact_context *ctx = ctx_yaml(TEST_RULES, "REDACT_AUDIT_LOG", "/nonexistent-dir/audit.log", NULL);
	for (int i = 0; i < 3; i++)
		assert_redacts(ctx, "tok_0123456789abcdef", "********************");
	redact_context_free(ctx);
}

static void test_shared_file(void **state)
{
	(void)state;
	char *log = log_path("shared.log");
	redact_context *ctx = ctx_yaml(TEST_RULES, "REDACT_AUDIT_LOG", log, NULL);
	pid_t kids[4];
	for (int k = 0; k < 4; k++) {
		kids[k] = fork();
		if (kids[k] == 0) {
			for (int i = 0; i < 100; i++) {
				char *out;
				size_t l;
				if (redact_buffer(ctx, "tok_0123456789abcdef\n", 21, &out, &l) != 1)
					_exit(1);
				redact_free(out);
			}
			redact_context_free(ctx); /* the child's copy: keeps memcheck's leak report clean */
			free(log);
			_exit(0);
		}
	}
	for (int k = 0; k < 4; k++) {
		int st;
		waitpid(kids[k], &st, 0);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	char *text = read_file(log, NULL);
	assert_int_equal(count_lines(text, "\n"), 400);
	assert_int_equal(count_lines(text, "}\n{"), 399); /* no torn lines */
	free(text);
	redact_context_free(ctx);
	free(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detection_events), cmocka_unit_test(test_actions),
		cmocka_unit_test(test_reload_events),    cmocka_unit_test(test_syslog_target),
		cmocka_unit_test(test_failing_target),   cmocka_unit_test(test_shared_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
