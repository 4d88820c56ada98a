/* A program built against an installed libazblob: opening a client on a
 * missing simulator fails cleanly with a negative errno. */
#include <azblob.h>
#include <stdio.h>

int main(void)
{
	struct azblob_opts o;
	struct azblob_client *c;
	int rc;

	azblob_opts_init(&o);
	o.sim_root = "/nonexistent-azblob-sim";
	rc = azblob_open(&c, &o);
	if (rc >= 0) {
		fprintf(stderr, "azblob consumer: open unexpectedly succeeded\n");
		return 1;
	}
	printf("azblob consumer: open without a device: %d (as expected)\n", rc);
	return 0;
}
