// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* azblob devices: the VMbus devices under a sysfs root, Azure Blob marked. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <uvmbus/dev.h>

#include "common.h"
#include "json.h"

const char devices_help[] =
    "Usage: " PROG " devices [--azblob] [--sysfs-root DIR | --sim-root DIR | --sim]\n"
    "\n"
    "List the VMbus devices under the sysfs root (SYSFS/bus/vmbus/devices), one\n"
    "line each: instance GUID, class, primary channel relid, NUMA node, bound\n"
    "driver, uio node and channel count. Azure Blob devices (class\n" AZBLOB_CLASS_GUID_STR
    ") are marked with '*' and are\n"
    "usable when bound to uio_hv_generic with a uio node (scripts/bind_uio.sh).\n"
    "\n"
    "Options:\n"
    "  --azblob           only the Azure Blob devices\n"
    "  --sysfs-root DIR   the sysfs root (default $UVMBUS_SYSFS_ROOT or /sys); a\n"
    "                     simulator's directory is accepted too (DIR/sys is used)\n"
    "  --sim-root DIR     the devices of the simulator published in DIR\n"
    "  --sim              start the in-process simulator and list its device\n"
    "  --device GUID      only this device (exit 1 when it is not there)\n"
    "  --json             one JSON object: root, devices (guid, class_guid, class,\n"
    "                     azblob, relid, numa_node, driver, uio, channels, usable,\n"
    "                     fix), count, azblob_count (docs/CLI.md)\n"
    "\n"
    "Exit status: 0 listed (even none), 1 no VMbus under the root or --device\n"
    "not found, 2 usage.\n"
    "\n" CLI_GLOBAL_OPTIONS_HELP;

struct devices_args {
	bool only_azblob, json;
};

static const struct cli_opt devices_opts[] = {
    CLI_OPT_FLAG("azblob", struct devices_args, only_azblob),
    CLI_OPT_FLAG("json", struct devices_args, json),
    {0},
};

/* Known classes (Linux include/linux/hyperv.h HV_*_GUID). */
static const struct {
	const char *guid, *name;
} classes[] = {
    {AZBLOB_CLASS_GUID_STR, "Azure Blob"},
    {"f8615163-df3e-46c5-913f-f2d2f965ed0e", "network (netvsc)"},
    {"ba6163d9-04a1-4d29-b605-72e2ffb1dc7f", "SCSI (storvsc)"},
    {"32412632-86cb-44a2-9b5c-50d1417354f5", "IDE"},
    {"0e0b6031-5213-4934-818b-38d90ced39db", "shutdown IC"},
    {"9527e630-d0ae-497b-adce-e80ab0175caf", "time sync IC"},
    {"57164f39-9115-4e78-ab55-382f3bd5422d", "heartbeat IC"},
    {"a9a0f4e7-5a45-4d96-b827-8a841e8c03e6", "KVP IC"},
    {"35fa2e29-ea23-4236-96ae-3a6ebacba440", "VSS IC"},
    {"34d14be3-dee4-41c8-9ae7-6b174977c192", "file copy IC"},
    {"525074dc-8985-46e2-8057-a307dc18a502", "dynamic memory"},
    {"cfa8b69e-5b4a-4cc0-b98b-8ba1a1f3f95a", "mouse"},
    {"f912ad6d-2b17-48ea-bd65-f927a61c7684", "keyboard"},
    {"da0a7802-e377-4aac-8e77-0558eb1073f8", "video"},
    {"2f9bcc4a-0069-4af3-b76b-6fd0be528cda", "Fibre Channel"},
    {"8c2eaf3d-32a7-4b09-ab99-bd1f1c86b501", "NetworkDirect"},
    {"44c4f61d-4444-4400-9d52-802e27ede19f", "PCI pass-through"},
};

static const char *class_name(const char *guid)
{
	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
		if (!strcmp(classes[i].guid, guid))
			return classes[i].name;
	return NULL;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

/* "--sysfs-root DIR" may name a simulator's directory: DIR/sys then. */
static const char *sysfs_root(struct cli *cli, char *buf, size_t cap)
{
	if (cli->s || cli->sim_root) {
		snprintf(buf, cap, "%s/sys", cli->s ? azblob_sim_root(cli->s) : cli->sim_root);
		return buf;
	}
	if (!cli->sysfs_root)
		return NULL;
	snprintf(buf, cap, "%s/bus/vmbus", cli->sysfs_root);
	if (!is_dir(buf)) {
		snprintf(buf, cap, "%s/sys/bus/vmbus", cli->sysfs_root);
		if (is_dir(buf)) {
			snprintf(buf, cap, "%s/sys", cli->sysfs_root);
			return buf;
		}
	}
	return cli->sysfs_root;
}

static bool same_guid(const char *a, const char *b)
{
	if (*b == '{')
		b++;
	return !strncasecmp(a, b, UVMBUS_GUID_STR_LEN);
}

/* --json: the devices shown, one object each. */
static void print_json(const struct cli *cli, const struct uvmbus_dev_info *list, size_t n,
		       bool only_azblob, const char *sysfs, size_t nblob)
{
	struct json j;
	char fix[128];

	json_begin(&j, stdout);
	json_str(&j, "root", sysfs, false);
	json_arr(&j, "devices");
	for (size_t i = 0; i < n; i++) {
		const struct uvmbus_dev_info *v = &list[i];
		bool blob = !strcmp(v->class_guid, AZBLOB_CLASS_GUID_STR);
		bool bound = !strcmp(v->driver, "uio_hv_generic");

		if ((only_azblob && !blob) || (cli->device && !same_guid(v->guid, cli->device)))
			continue;
		json_obj(&j, NULL);
		json_str(&j, "guid", v->guid, false);
		json_str(&j, "class_guid", v->class_guid, false);
		json_str(&j, "class", class_name(v->class_guid), false);
		json_bool(&j, "azblob", blob);
		json_u64(&j, "relid", v->relid);
		if (v->numa_node >= 0)
			json_i64(&j, "numa_node", v->numa_node);
		else
			json_null(&j, "numa_node");
		json_str(&j, "driver", v->driver, true);
		if (v->uio >= 0)
			json_i64(&j, "uio", v->uio);
		else
			json_null(&j, "uio");
		json_u64(&j, "channels", v->nchannels);
		json_bool(&j, "usable", blob && bound && v->uio >= 0);
		/* What makes an Azure Blob device usable, as a command. */
		snprintf(fix, sizeof(fix), "uvmbus-bind bind %s", v->guid);
		json_str(&j, "fix", blob && !bound ? fix : NULL, false);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_u64(&j, "count", n);
	json_u64(&j, "azblob_count", nblob);
	json_end(&j);
}

int cmd_devices(struct cli *cli, int argc, char **argv)
{
	struct uvmbus_dev_opts d;
	struct uvmbus_dev_info *list = NULL;
	size_t n = 0, cap = 64, shown = 0, nblob = 0;
	struct devices_args args = {0};
	char root[1024];
	const char *sysfs;
	int rc;

	if ((rc = cli_parse(cli, argc, argv, devices_help, devices_opts, &args)) != CLI_PARSED)
		return rc;
	if ((rc = cli_check_args(cli, argc, argv)))
		return rc;
	if (cli->sim && (rc = cli_start_sim(cli, 0, NULL, NULL)))
		return rc;
	sysfs = sysfs_root(cli, root, sizeof(root));
	uvmbus_dev_opts_init(&d);
	d.sysfs_root = sysfs;
	d.log = cli_log(cli);
	for (;;) {
		struct uvmbus_dev_info *nl = realloc(list, cap * sizeof(*list));

		if (!nl) {
			rc = cli_error(cli, "out of memory");
			goto out;
		}
		list = nl;
		rc = uvmbus_dev_list(&d, list, cap, &n);
		if (rc || n <= cap)
			break;
		cap = n;
	}
	if (!sysfs)
		sysfs = getenv("UVMBUS_SYSFS_ROOT") ? getenv("UVMBUS_SYSFS_ROOT") : "/sys";
	if (rc) {
		rc = cli_error(
		    cli, "no VMbus devices under %s/bus/vmbus: %s%s", sysfs, strerror(-rc),
		    rc == -ENOENT ? " (not a Hyper-V guest? --sim lists a simulated one)" : "");
		goto out;
	}
	if (args.json) {
		for (size_t i = 0; i < n; i++) {
			nblob += !strcmp(list[i].class_guid, AZBLOB_CLASS_GUID_STR);
			shown += (!args.only_azblob ||
				  !strcmp(list[i].class_guid, AZBLOB_CLASS_GUID_STR)) &&
				 (!cli->device || same_guid(list[i].guid, cli->device));
		}
		print_json(cli, list, n, args.only_azblob, sysfs, nblob);
		goto found;
	}
	printf("  %-36s  %-18s %5s %4s  %-16s %-5s %s\n", "GUID", "CLASS", "RELID", "NUMA",
	       "DRIVER", "UIO", "CHANNELS");
	for (size_t i = 0; i < n; i++) {
		const struct uvmbus_dev_info *v = &list[i];
		bool blob = !strcmp(v->class_guid, AZBLOB_CLASS_GUID_STR);
		const char *name = class_name(v->class_guid);
		char uio[16] = "-", numa[16] = "-";

		nblob += blob;
		if ((args.only_azblob && !blob) ||
		    (cli->device && !same_guid(v->guid, cli->device)))
			continue;
		shown++;
		if (v->uio >= 0)
			snprintf(uio, sizeof(uio), "uio%d", v->uio);
		if (v->numa_node >= 0)
			snprintf(numa, sizeof(numa), "%d", v->numa_node);
		printf("%c %-36s  %-18s %5u %4s  %-16s %-5s %u\n", blob ? '*' : ' ', v->guid,
		       name ? name : v->class_guid, v->relid, numa,
		       v->driver[0] ? v->driver : "(none)", uio, v->nchannels);
	}
	for (size_t i = 0; i < n; i++) {
		const struct uvmbus_dev_info *v = &list[i];

		if (strcmp(v->class_guid, AZBLOB_CLASS_GUID_STR) ||
		    (cli->device && !same_guid(v->guid, cli->device)))
			continue;
		if (strcmp(v->driver, "uio_hv_generic"))
			printf("note: %s is %s%s%s, not bound to uio_hv_generic: "
			       "scripts/bind_uio.sh bind %s\n",
			       v->guid, v->driver[0] ? "bound to " : "unbound", v->driver,
			       v->driver[0] ? "" : "", v->guid);
		else if (v->uio < 0)
			printf("note: %s is bound to uio_hv_generic but has no uio node yet\n",
			       v->guid);
	}
	printf("%zu VMbus device%s under %s, %zu Azure Blob (*)\n", n, n == 1 ? "" : "s", sysfs,
	       nblob);
found:
	if (cli->device && !shown)
		rc = cli_error(cli, "no device %s under %s", cli->device, sysfs);
out:
	free(list);
	cli_close(cli);
	return rc ? EXIT_RUNTIME : EXIT_OK;
}
