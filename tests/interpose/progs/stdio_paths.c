/* stdio output paths a C program takes, one per argv[1]; the text is in
 * $TEXT, split in the middle of its secret as $TEXT_A + $TEXT_B.  Built at
 * -O2 -D_FORTIFY_SOURCE=2 (putc_unlocked inlined into the FILE buffer,
 * __printf_chk, ...) and at -O0 (field notes section 1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *env(const char *name)
{
	const char *v = getenv(name);
	if (!v) {
		fprintf(stderr, "$%s is not set\n", name);
		exit(2);
	}
	return v;
}

static void pad(FILE *f, size_t n, int c)
{
	for (size_t i = 0; i < n; i++)
		putc_unlocked(i % 64 == 63 ? '\n' : c, f);
}

int main(int argc, char **argv)
{
	const char *text = env("TEXT"), *a = env("TEXT_A"), *b = env("TEXT_B");
	const char *mode = argc > 1 ? argv[1] : "";
	size_t la = strlen(a);
	if (!strcmp(mode, "putc-loop")) {
		/* Inline putc_unlocked into the buffer; the secret straddles the
		 * first buffer flush (BUFSIZ of a pipe: st_blksize 4096). */
		pad(stdout, 4096 - la % 4096, '.');
		for (const char *p = text; *p; p++)
			putc_unlocked(*p, stdout);
	} else if (!strcmp(mode, "putc-loop-many")) {
		for (int i = 0; i < 300; i++) {
			pad(stdout, (size_t)(i * 7) % 61, '-');
			for (const char *p = text; *p; p++)
				putc_unlocked(*p, stdout);
		}
	} else if (!strcmp(mode, "putchar-unlocked-line")) {
		setvbuf(stdout, NULL, _IOLBF, 0);
		for (int i = 0; i < 3; i++)
			for (const char *p = text; *p; p++)
				putchar_unlocked(*p);
	} else if (!strcmp(mode, "putc-unbuffered")) {
		setvbuf(stdout, NULL, _IONBF, 0);
		for (const char *p = text; *p; p++)
			putc_unlocked(*p, stdout);
	} else if (!strcmp(mode, "putc-then-fflush")) {
		for (const char *p = a; *p; p++)
			putc_unlocked(*p, stdout);
		fflush(stdout);
		for (const char *p = b; *p; p++)
			putc_unlocked(*p, stdout);
		fflush(stdout);
	} else if (!strcmp(mode, "puts")) {
		/* a line of up to 1 KiB goes to the stream in one piece */
		puts(text);
	} else if (!strcmp(mode, "puts-long")) {
		/* longer: the text, then the newline */
		size_t lt = strlen(text);
		char *line = malloc(lt + 1200);
		memset(line, '.', 1199);
		memcpy(line + 1199, text, lt + 1);
		puts(line);
		free(line);
	} else if (!strcmp(mode, "fputs-split")) {
		fputs(a, stdout);
		fflush(stdout);
		fputs(b, stdout);
	} else if (!strcmp(mode, "printf-split")) {
		printf("%s", a);
		fflush(stdout);
		printf("%s", b);
	} else if (!strcmp(mode, "fwrite-big")) {
		for (int i = 0; i < 2000; i++) {
			char line[64];
			int n = snprintf(line, sizeof(line), "line %d of filler text\n", i);
			fwrite(line, 1, (size_t)n, stdout);
			if (i % 97 == 0)
				fwrite(text, 1, strlen(text), stdout);
		}
	} else if (!strcmp(mode, "mixed-fd")) {
		/* FILE and descriptor output on one sink keep the program's order
		 * (each flushed before the next). */
		printf("%s", a);
		fflush(stdout);
		write(1, b, strlen(b));
		printf("%s", text);
		fflush(stdout);
		write(1, text, strlen(text));
	} else if (!strcmp(mode, "interleave")) {
		for (int i = 0; i < 3; i++) {
			printf("out %d ", i);
			fputs(a, stdout);
			fflush(stdout);
			fprintf(stderr, "err %d %s", i, text);
			fputs(b, stdout);
			fflush(stdout);
		}
	} else if (!strcmp(mode, "exit-held")) {
		/* Held bytes in a FILE at exit go out with glibc's final flush. */
		fputs(text, stdout);
		fputs("tail ghp", stdout);
		exit(0);
	} else if (!strcmp(mode, "return-held")) {
		fputs(text, stdout);
		fputs(a, stdout);
		return 0;
	} else if (!strcmp(mode, "stderr-split")) {
		fputs(a, stderr);
		fputs(b, stderr);
	} else {
		fprintf(stderr, "unknown mode %s\n", mode);
		return 2;
	}
	return 0;
}
