// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Isolated (confidential) VMs: guest memory is private by default, and the
 * host cannot DMA into it through GPA-direct ranges, so the fast path must
 * not run there. Detected from the Hyper-V CPUID leaves (features EBX bit
 * 22 "isolation", isolation type in leaf 0x4000000C EBX[3:0]) and from the
 * confidential-guest CPU flags the kernel shows in /proc/cpuinfo. Off x86
 * there is no CPUID: the Hyper-V side is "unknown" (logged), and only the
 * cpu flags decide.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dev_internal.h"

/* hyperv_isolation_type(): 0 not isolated, >0 the type, -1 isolated of
 * an unknown type, ISOLATION_UNKNOWN: this architecture cannot tell. */
#define ISOLATION_UNKNOWN (-2)

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static int hyperv_isolation_type(void)
{
	unsigned a, b, c, d;
	char sig[13];

	__cpuid(1, a, b, c, d);
	if (!(c & (1u << 31))) /* no hypervisor */
		return 0;
	__cpuid(0x40000000, a, b, c, d);
	memcpy(sig, &b, 4);
	memcpy(sig + 4, &c, 4);
	memcpy(sig + 8, &d, 4);
	sig[12] = 0;
	if (strcmp(sig, "Microsoft Hv") || a < 0x4000000C)
		return 0;
	__cpuid(0x40000003, a, b, c, d);
	if (!(b & (1u << 22)))
		return 0;
	__cpuid(0x4000000C, a, b, c, d);
	return (int)(b & 0xf) ? (int)(b & 0xf) : -1;
}
#else
/* No CPUID: on arm64 Hyper-V states isolation in a synthetic register
 * (HV_REGISTER_ISOLATION_CONFIGURATION) that only a hypercall reads, from
 * the kernel. We cannot tell from user space. */
static int hyperv_isolation_type(void)
{
	return ISOLATION_UNKNOWN;
}
#endif

/* "sev_snp" or "tdx_guest" among the cpu flags, or NULL. */
static const char *cc_flag(const struct dev_roots *r)
{
	static const char *const flags[] = {"sev_snp", "tdx_guest", "sev_es"};
	char path[PATH_MAX + 16], line[4096];
	const char *hit = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "%s/cpuinfo", r->proc);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	while (!hit && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5))
			continue;
		for (char *t = strtok(strchr(line, ':') ? strchr(line, ':') + 1 : line, " \t\n"); t;
		     t = strtok(NULL, " \t\n"))
			for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
				if (!strcmp(t, flags[i]))
					hit = flags[i];
		break;
	}
	fclose(f);
	return hit;
}

int dev_check_isolation(const struct dev_roots *r, const struct uvmbus_log *log)
{
	static const char *const types[] = {"unknown", "VBS", "SEV-SNP", "TDX"};
	int t = hyperv_isolation_type();
	const char *flag = cc_flag(r);

	if (t == ISOLATION_UNKNOWN) {
		t = 0;
		if (!flag)
			LOG_INFO(log,
				 "dev: isolation: unknown (Hyper-V tells it through CPUID, which "
				 "this architecture lacks): taken as a VM that is not isolated");
	}
	if (!t && !flag)
		return 0;
	LOG_ERR(log,
		"dev: this is an isolated (confidential) VM (%s%s): the host cannot reach private "
		"guest memory through GPA-direct ranges, so the user-space fast path is refused; "
		"use the REST API or a non-isolated VM size",
		t ? "Hyper-V isolation " : "cpu flag ", t ? types[t > 0 && t < 4 ? t : 0] : flag);
	return -EPERM;
}
