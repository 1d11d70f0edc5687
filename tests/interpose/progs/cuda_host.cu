// Host code of a CUDA program (built with nvcc): printf and std::cout.
// Device printf needs a GPU and is not exercised.
#include <cstdio>
#include <cstdlib>
#include <iostream>

__global__ void unused_kernel(int *p) { *p = 1; }

int main(int argc, char **argv)
{
	const char *text = std::getenv("TEXT"), *a = std::getenv("TEXT_A"), *b = std::getenv("TEXT_B");
	if (!text || !a || !b)
		return 2;
	std::printf("host printf: %s", text);
	std::fflush(stdout);
	std::cout << "host cout: " << a << b << std::flush;
	std::printf("%s", a);
	std::printf("%s", b);
	(void)argc;
	(void)argv;
	return 0;
}
