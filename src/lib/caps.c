/* Keeping only the capabilities a mode needs (see caps.h). */
#include "caps.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int get(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };

	return syscall(SYS_capget, &h, d) ? -errno : 0;
}

uint64_t caps__effective(void)
{
	struct __user_cap_data_struct d[2];

	if (get(d))
		return 0;
	return (uint64_t)d[1].effective << 32 | d[0].effective;
}

int caps__keep_only(uint64_t keep, char *err, size_t errlen)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];
	uint64_t permitted;
	int rc;

	if ((rc = get(d))) {
		snprintf(err, errlen, "capget: %s", strerror(-rc));
		return rc;
	}
	permitted = (uint64_t)d[1].permitted << 32 | d[0].permitted;
	/* The bounding set first: dropping from it needs CAP_SETPCAP, which
	 * the capset below removes. */
	if (permitted & CAPS_BIT(CAP_SETPCAP))
		for (int cap = 0; cap < 64; cap++) {
			if (keep & CAPS_BIT(cap))
				continue;
			if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)) {
				if (errno == EINVAL)
					break;             /* past the kernel's last capability */
				rc = -errno;
				snprintf(err, errlen, "prctl(PR_CAPBSET_DROP, %d): %s", cap, strerror(errno));
				return rc;
			}
		}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL) {
		rc = -errno;
		snprintf(err, errlen, "prctl(PR_CAP_AMBIENT_CLEAR_ALL): %s", strerror(errno));
		return rc;
	}
	keep &= permitted;
	d[0].effective = d[0].permitted = (uint32_t)keep;
	d[1].effective = d[1].permitted = (uint32_t)(keep >> 32);
	d[0].inheritable = d[1].inheritable = 0;
	if (syscall(SYS_capset, &h, d)) {
		rc = -errno;
		snprintf(err, errlen, "capset: %s", strerror(errno));
		return rc;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		rc = -errno;
		snprintf(err, errlen, "prctl(PR_SET_NO_NEW_PRIVS): %s", strerror(errno));
		return rc;
	}
	return 0;
}

void caps__names(uint64_t set, char *out, size_t size)
{
	static const struct {
		int cap;
		const char *name;
	} names[] = {
		{ CAP_DAC_READ_SEARCH, "cap_dac_read_search" }, { CAP_KILL, "cap_kill" },
		{ CAP_SYS_NICE, "cap_sys_nice" },               { CAP_SYS_PTRACE, "cap_sys_ptrace" },
		{ CAP_DAC_OVERRIDE, "cap_dac_override" },       { CAP_SYS_ADMIN, "cap_sys_admin" },
		{ CAP_BPF, "cap_bpf" },                         { CAP_PERFMON, "cap_perfmon" },
	};
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (set & CAPS_BIT(names[i].cap)) {
			n += (size_t)snprintf(out + n, n < size ? size - n : 0, "%s%s", n ? "," : "", names[i].name);
			set &= ~CAPS_BIT(names[i].cap);
		}
	for (int cap = 0; cap < 64 && n < size; cap++)
		if (set & CAPS_BIT(cap))
			n += (size_t)snprintf(out + n, size - n, "%scap_%d", n ? "," : "", cap);
	if (!n)
		snprintf(out, size, "none");
}
