/*
 * text.c - the character rules that the signer and the transport share
 * (signing core layer). See text.h.
 */
#include "text.h"

#include <string.h>

int fsx_is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

int fsx_is_token(const char *s, size_t len)
{
    size_t i;

    if (len == 0)
        return 0;
    for (i = 0; i < len; i++)
        if (!fsx_is_tchar((unsigned char)s[i]))
            return 0;
    return 1;
}

int fsx_is_field_value(const char *v, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return 0;
    }
    return 1;
}

char *fsx_hex(char *out, const unsigned char *in, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        *out++ = digits[in[i] >> 4];
        *out++ = digits[in[i] & 0x0f];
    }
    return out;
}

/* The number the two digits at s make. */
static int two(const char *s)
{
    return (s[0] - '0') * 10 + (s[1] - '0');
}

int fsx_is_amz_date(const char *s, size_t len)
{
    size_t i;

    if (len != 16 || s[8] != 'T' || s[15] != 'Z')
        return 0;
    for (i = 0; i < 15; i++)
        if (i != 8 && (s[i] < '0' || s[i] > '9'))
            return 0;
    return two(s + 4) >= 1 && two(s + 4) <= 12 && two(s + 6) >= 1 && two(s + 6) <= 31 &&
           two(s + 9) <= 23 && two(s + 11) <= 59 && two(s + 13) <= 60;
}
