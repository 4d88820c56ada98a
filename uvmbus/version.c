// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <uvmbus/common.h>

#define STR_(x) #x
#define STR(x)	STR_(x)

const char *uvmbus_version(void)
{
	return STR(UVMBUS_VERSION_MAJOR) "." STR(UVMBUS_VERSION_MINOR) "." STR(
	    UVMBUS_VERSION_PATCH);
}
