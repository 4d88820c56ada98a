/* libazblob's time source (azblob/clock.h): the TSC path agrees with
 * CLOCK_MONOTONIC, never runs backwards between re-synchronisations, and
 * follows a re-synchronisation; the fallback is CLOCK_MONOTONIC itself.
 * Agreement is checked, never speed. */
#include <criterion/criterion.h>
#include <time.h>

#include "clock.h"

static void sleep_ms(long ms)
{
	struct timespec t = {ms / 1000, (ms % 1000) * 1000000};

	nanosleep(&t, NULL);
}

static int64_t off(const struct az_clock *k)
{
	uint64_t a = az_mono_ns(), t = az_clock_now(k), b = az_mono_ns();

	return (int64_t)t - (int64_t)(a / 2 + b / 2);
}

Test(azblob_clock, agrees_with_monotonic)
{
	struct az_clock k;

	az_clock_init(&k, true);
	cr_log_info("time source: %s", k.tsc ? "TSC" : "clock_gettime");
	for (int i = 0; i < 5; i++) {
		sleep_ms(20);
		int64_t d = off(&k);

		cr_expect(d > -500000 && d < 500000, "%lld ns off CLOCK_MONOTONIC after %d ms",
			  (long long)d, 20 * (i + 1));
	}
}

Test(azblob_clock, monotonic_between_resyncs)
{
	struct az_clock k;
	uint64_t last = 0;

	az_clock_init(&k, true);
	for (int i = 0; i < 1000000; i++) {
		uint64_t t = az_clock_now(&k);

		cr_assert_geq(t, last, "went back at read %d", i);
		last = t;
	}
	sleep_ms(120);
	az_clock_resync(&k); /* re-measures the rate: 120 ms since calibration */
	int64_t d = off(&k);

	cr_expect(d > -100000 && d < 100000, "%lld ns off after a resync", (long long)d);
}

Test(azblob_clock, fallback_is_monotonic_clock)
{
	struct az_clock k;

	az_clock_init(&k, false);
	cr_expect(!k.tsc);
	int64_t d = off(&k);

	cr_expect(d > -1000000 && d < 1000000, "%lld", (long long)d);
}
