/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* uvmbus: user-space VMbus. One include for the whole public API. */
#ifndef UVMBUS_H
#define UVMBUS_H

#include <uvmbus/common.h>
#include <uvmbus/wire.h>
#include <uvmbus/ring.h>
#include <uvmbus/packet.h>
#include <uvmbus/mem.h>
#include <uvmbus/kstub.h>
#include <uvmbus/dev.h>

#endif /* UVMBUS_H */
