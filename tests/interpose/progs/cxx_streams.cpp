// C++ iostreams: std::cout/std::cerr/std::wcout with the default
// sync_with_stdio(true) (stdio underneath: fwrite, putc, putwc) and after
// sync_with_stdio(false) (write/writev); operator<< chains that cut a
// secret in two.  Text in $TEXT, split as $TEXT_A + $TEXT_B.
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <locale>
#include <string>

static std::string env(const char *name)
{
	const char *v = std::getenv(name);
	if (!v) {
		std::fprintf(stderr, "$%s is not set\n", name);
		std::exit(2);
	}
	return v;
}

static std::wstring widen(const std::string &s)
{
	return std::wstring(s.begin(), s.end()); // the texts are ASCII
}

int main(int argc, char **argv)
{
	std::string text = env("TEXT"), a = env("TEXT_A"), b = env("TEXT_B");
	std::string mode = argc > 1 ? argv[1] : "";
	bool nosync = mode.compare(0, 7, "nosync-") == 0;
	if (nosync) {
		std::ios::sync_with_stdio(false);
		mode = mode.substr(7);
	}
	if (mode == "cout") {
		std::cout << text;
	} else if (mode == "cout-chain") {
		std::cout << a << b << "n=" << 42 << '\n';
	} else if (mode == "cout-chain-flush") {
		std::cout << a << std::flush << b << std::endl;
	} else if (mode == "cout-chars") {
		for (char c : text)
			std::cout << c;
		std::cout.flush();
	} else if (mode == "cerr") {
		std::cerr << text;
	} else if (mode == "cerr-chain") {
		std::cerr << "error: " << a << b << std::endl;
	} else if (mode == "clog-chain") {
		std::clog << a << b;
	} else if (mode == "wcout") {
		std::locale::global(std::locale(""));
		std::wcout.imbue(std::locale());
		std::wcout << widen(text);
	} else if (mode == "wcout-chain") {
		std::locale::global(std::locale(""));
		std::wcout.imbue(std::locale());
		std::wcout << widen(a) << widen(b) << L"n=" << 7 << std::endl;
	} else if (mode == "wcerr-chain") {
		std::wcerr << widen(a) << widen(b);
	} else if (mode == "interleave") {
		for (int i = 0; i < 3; i++) {
			std::cout << "out " << i << ' ' << a << std::flush;
			std::cerr << "err " << i << ' ' << text;
			std::cout << b << std::flush;
		}
	} else if (mode == "big") {
		for (int i = 0; i < 3000; i++) {
			std::cout << "line " << i << " of filler\n";
			if (i % 101 == 0)
				std::cout << a << b;
		}
	} else {
		std::cerr << "unknown mode " << mode << '\n';
		return 2;
	}
	return 0;
}
