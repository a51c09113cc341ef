/*
 * buf.c - growable byte buffer (signing core / transport helper layer).
 *
 * Pure C: libc plus the wipe primitive of crypto.h. The buffer grows
 * geometrically (at least doubling, 64 bytes minimum) so that a stream of
 * appends costs amortised O(1) per byte, and a buffer that is reset and
 * reused stops allocating once it has reached its working size. Every
 * operation checks for size_t overflow before touching memory; a failed
 * append leaves the buffer exactly as it was.
 */
#include "buf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "text.h"

#define FSX_BUF_MIN_CAP 64u

void fsx_buf_init(struct fsx_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->secret = 0;
}

void fsx_buf_init_secret(struct fsx_buf *b)
{
    fsx_buf_init(b);
    b->secret = 1;
}

void fsx_buf_free(struct fsx_buf *b)
{
    int secret = b->secret;

    if (secret && b->data != NULL)
        fsx_wipe(b->data, b->cap);
    free(b->data);
    fsx_buf_init(b);
    b->secret = secret;
}

void fsx_buf_free_secure(struct fsx_buf *b)
{
    if (b->data != NULL)
        fsx_wipe(b->data, b->cap);
    fsx_buf_free(b);
}

void fsx_buf_reset(struct fsx_buf *b)
{
    if (b->secret && b->data != NULL)
        fsx_wipe(b->data, b->len);
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

int fsx_buf_reserve(struct fsx_buf *b, size_t extra)
{
    size_t need, cap;
    char *p;

    /* room for len + extra + the terminator, without wrapping around */
    if (extra > SIZE_MAX - 1 - b->len)
        return -1;
    need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    cap = b->cap < FSX_BUF_MIN_CAP ? FSX_BUF_MIN_CAP : b->cap;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    if (b->secret) {
        /* a new block, the old one wiped: realloc could leave a copy behind */
        p = (char *)malloc(cap);
        if (p == NULL)
            return -1;
        if (b->data != NULL) {
            memcpy(p, b->data, b->len + 1);
            fsx_wipe(b->data, b->cap);
            free(b->data);
        }
    } else {
        p = (char *)realloc(b->data, cap);
        if (p == NULL)
            return -1;
    }
    if (b->data == NULL)
        p[0] = '\0';
    b->data = p;
    b->cap = cap;
    return 0;
}

int fsx_buf_append(struct fsx_buf *b, const void *data, size_t len)
{
    if (len == 0)
        return 0;
    if (fsx_buf_reserve(b, len) != 0)
        return -1;
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int fsx_buf_append_str(struct fsx_buf *b, const char *s)
{
    return fsx_buf_append(b, s, strlen(s));
}

int fsx_buf_append_char(struct fsx_buf *b, char c)
{
    if (b->len + 1 >= b->cap && fsx_buf_reserve(b, 1) != 0)
        return -1;
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
    return 0;
}

int fsx_buf_append_hex(struct fsx_buf *b, const unsigned char *data, size_t len)
{
    if (len == 0)
        return 0;
    if (len > (SIZE_MAX - 1) / 2 || fsx_buf_reserve(b, len * 2) != 0)
        return -1;
    fsx_hex(b->data + b->len, data, len);
    b->len += len * 2;
    b->data[b->len] = '\0';
    return 0;
}

const char *fsx_buf_cstr(const struct fsx_buf *b)
{
    return b->data != NULL ? b->data : "";
}
