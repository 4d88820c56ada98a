// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The emulator's entry points in programs built without it
 * (-DUVMBUS_TOOLS_SIM=OFF): no in-process emulator can be created, so
 * `--sim` fails with -ENOTSUP ("Operation not supported") and the program
 * says it; an emulator in its own process (azblob-vspd, --sim-root) works
 * as in any build, through uvmbus's simsock transport.
 */
#include <errno.h>
#include <string.h>

#include <azblob/sim.h>

void azblob_sim_opts_init(struct azblob_sim_opts *o)
{
	memset(o, 0, sizeof(*o));
}

int azblob_sim_create(struct azblob_sim **out, const struct azblob_sim_opts *o)
{
	(void)o;
	*out = NULL;
	return -ENOTSUP;
}

int azblob_sim_start(struct azblob_sim *s)
{
	(void)s;
	return -ENOTSUP;
}

int azblob_sim_step(struct azblob_sim *s)
{
	(void)s;
	return -ENOTSUP;
}

void azblob_sim_join(struct azblob_sim *s)
{
	(void)s;
}

void azblob_sim_destroy(struct azblob_sim *s)
{
	(void)s;
}

const char *azblob_sim_root(const struct azblob_sim *s)
{
	(void)s;
	return "";
}

void azblob_sim_set_faults(struct azblob_sim *s, const struct azblob_sim_faults *f)
{
	(void)s;
	(void)f;
}

int azblob_sim_format_stats(struct azblob_sim *s, char *buf, size_t cap)
{
	(void)s;
	if (cap)
		buf[0] = 0;
	return 0;
}

/* The backends' names stay valid (a command line is checked the same way
 * in every build); creating an emulator with any of them fails. */
const struct azblob_sim_backend *azblob_sim_backend_find(const char *name)
{
	static const struct azblob_sim_backend names[] = {
	    {.name = "memory"}, {.name = "dir"}, {.name = "rest"}, {.name = "null"}};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i].name))
			return &names[i];
	return NULL;
}
