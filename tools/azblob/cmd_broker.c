// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * azblob stat --broker [PATH]: the azblobd broker's counters (daemon,
 * device, one line per client), asked over its socket (STATS).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <azblob/broker_proto.h>

#include "cmd_broker.h"
#include "common.h"

const char broker_stat_help[] =
    "Usage: " PROG " stat --broker [PATH]\n"
    "\n"
    "Print the counters of the azblobd broker listening on PATH (default:\n"
    "$" AZBLOB_BROKER_ENV ", else " AZBLOB_BROKER_SOCK_PATH "): the daemon's sessions,\n"
    "refusals and arenas, its device client, and one line per client (pid,\n"
    "uid, queue depth, arena, requests, errors, refused packets by reason,\n"
    "in flight, dropped answers). See docs/BROKER.md.\n";

bool cmd_broker_wanted(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--broker"))
			return true;
	return false;
}

int cmd_broker_stat(struct cli *cli, int argc, char **argv)
{
	struct azblob_broker_hello h = {.magic = AZBLOB_BROKER_MAGIC,
					.version = AZBLOB_BROKER_VERSION,
					.op = AZBLOB_BROKER_STATS};
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	const char *path = getenv(AZBLOB_BROKER_ENV);
	size_t cap = sizeof(struct azblob_broker_welcome) + AZBLOB_BROKER_STATS_MAX;
	struct azblob_broker_welcome *w;
	char *buf;
	ssize_t n;
	int fd;

	if (!path || !*path)
		path = AZBLOB_BROKER_SOCK_PATH;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(broker_stat_help, stdout);
			return EXIT_OK;
		}
		if (!strcmp(argv[i], "--broker") && i + 1 < argc && argv[i + 1][0] != '-')
			path = argv[++i];
		else if (strcmp(argv[i], "--broker"))
			return cli_usage_error(cli, "stat --broker takes only a socket path");
	}
	if (snprintf(a.sun_path, sizeof(a.sun_path), "%s", path) >= (int)sizeof(a.sun_path))
		return cli_usage_error(cli, "socket path too long: %s", path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    send(fd, &h, sizeof(h), MSG_NOSIGNAL) != (ssize_t)sizeof(h)) {
		int err = errno;

		if (fd >= 0)
			close(fd);
		return cli_error(cli, "no broker at %s: %s", path, strerror(err));
	}
	buf = malloc(cap + 1);
	n = buf ? recv(fd, buf, cap, 0) : -1;
	close(fd);
	w = (struct azblob_broker_welcome *)buf;
	if (n < (ssize_t)sizeof(*w) || w->magic != AZBLOB_BROKER_MAGIC || w->status) {
		if (n >= (ssize_t)sizeof(*w) && w->magic == AZBLOB_BROKER_MAGIC)
			cli_error(cli, "the broker at %s refused: %.95s", path, w->message);
		else
			cli_error(cli, "%s did not answer as azblobd", path);
		free(buf);
		return EXIT_RUNTIME;
	}
	buf[n] = 0;
	printf("broker %s\n%s", path, buf + sizeof(*w));
	free(buf);
	return EXIT_OK;
}
