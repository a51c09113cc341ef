/*
 * sign_call_expect.h - what the tests expect of src/sign_call.c, written
 * from the rules sign_call.h states and kept apart from its code: the
 * fields handed on as C strings, in the order a NUL byte in them is
 * reported. Used by spec/c/test_sign_call.c and spec/fuzz/fuzz_sign_call.c.
 */
#ifndef SIGN_CALL_EXPECT_H
#define SIGN_CALL_EXPECT_H

#include "sign_call.h"

static const int expect_cstring_slots[] = {
    FSX_SIGN_METHOD,
    FSX_SIGN_REGION,
    FSX_SIGN_SERVICE,
    FSX_SIGN_ACCESS_KEY_ID,
    FSX_SIGN_SECRET_ACCESS_KEY,
    FSX_SIGN_SESSION_TOKEN,
    FSX_SIGN_AMZ_DATE,
    FSX_SIGN_PAYLOAD_HASH,
};
#define N_EXPECT_CSTRING_SLOTS (sizeof(expect_cstring_slots) / sizeof(expect_cstring_slots[0]))

#endif
