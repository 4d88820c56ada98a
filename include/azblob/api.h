/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Export marker for the azblob libraries (libazblob, libazblobsim). */
#ifndef AZBLOB_API_H
#define AZBLOB_API_H

#if defined(AZBLOB_BUILDING) && defined(__GNUC__)
#define AZBLOB_API __attribute__((visibility("default")))
#else
#define AZBLOB_API
#endif

#endif
