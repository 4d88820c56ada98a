/*
 * Driver for compilers without libFuzzer: replays the files given on the
 * command line, then runs a fixed number of deterministic pseudo-random
 * inputs (half of them mutations of valid rings) through the same target.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t n);

static uint64_t rng = 0x243f6a8885a308d3ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

int main(int argc, char **argv)
{
	static uint8_t in[4096];
	long iters = 200000;
	int files = 0;

	for (int i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "-runs=", 6)) {
			iters = atol(argv[i] + 6);
			continue;
		}
		FILE *f = fopen(argv[i], "rb");

		if (!f) {
			perror(argv[i]);
			return 1;
		}
		size_t n = fread(in, 1, sizeof(in), f);

		fclose(f);
		LLVMFuzzerTestOneInput(in, n);
		files++;
	}
	for (long it = 0; it < iters; it++) {
		size_t n = 18 + next() % 1500;

		for (size_t i = 0; i < n; i++)
			in[i] = (uint8_t)next();
		if (it & 1) {
			/* Plausible header: small aligned indices, a valid-looking
			 * descriptor at the read index. */
			uint32_t w = (uint32_t)(next() % 64) * 8, r = (uint32_t)(next() % 64) * 8;

			memcpy(in + 2, &w, 4);
			memcpy(in + 6, &r, 4);
			if (18 + r + 8 <= n) {
				in[18 + r + 2] = (uint8_t)(2 + next() % 4);
				in[18 + r + 3] = 0;
				in[18 + r + 4] = (uint8_t)(next() % 40);
				in[18 + r + 5] = 0;
			}
		}
		LLVMFuzzerTestOneInput(in, n);
	}
	printf("replayed %d files and %ld generated inputs: no crash\n", files, iters);
	return 0;
}
