/*
 * test_text.c - unit cases for the shared character rules (src/text.c):
 * tokens, header values, hex, X-Amz-Date, and the transport's header check
 * built on them (fsx_http_check_header), which the signer's rules match.
 */
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "test_util.h"
#include "text.h"

struct rule_case {
    const char *name;
    const char *s;
    size_t len;
    int want;
};

static const struct rule_case token_cases[] = {
    {"token: a header name", "X-Amz-Date", 10, 1},
    {"token: every tchar punctuation", "!#$%&'*+-.^_`|~", 15, 1},
    {"token: empty", "", 0, 0},
    {"token: a space", "X Amz", 5, 0},
    {"token: a colon", "Host:", 5, 0},
    {"token: a slash", "a/b", 3, 0},
    {"token: a NUL", "ab\0c", 4, 0},
    {"token: a byte over 0x7f", "caf\xc3\xa9", 5, 0},
    {"token: CR", "a\rb", 3, 0},
};

static const struct rule_case value_cases[] = {
    {"value: empty", "", 0, 1},
    {"value: text with HT and SP", "a\tb c", 5, 1},
    {"value: UTF-8 bytes", "caf\xc3\xa9", 5, 1},
    {"value: CR", "a\rb", 3, 0},
    {"value: LF", "a\nX-Injected: 1", 15, 0},
    {"value: NUL", "a\0b", 3, 0},
    {"value: another control character", "a\x01", 2, 0},
    {"value: DEL", "a\x7f", 2, 0},
};

static const struct rule_case date_cases[] = {
    {"date: a date", "20150830T123600Z", 16, 1},
    {"date: leap second", "20161231T235960Z", 16, 1},
    {"date: month 13", "20151330T123600Z", 16, 0},
    {"date: month 0", "20150030T123600Z", 16, 0},
    {"date: day 32", "20150832T123600Z", 16, 0},
    {"date: hour 24", "20150830T243600Z", 16, 0},
    {"date: minute 60", "20150830T126000Z", 16, 0},
    {"date: no T", "20150830X123600Z", 16, 0},
    {"date: no Z", "20150830T123600X", 16, 0},
    {"date: a letter", "2015a830T123600Z", 16, 0},
    {"date: short", "20150830T123600", 15, 0},
    {"date: long", "20150830T123600ZZ", 17, 0},
};

static void run(const struct rule_case *c, size_t n, int (*fn)(const char *, size_t))
{
    size_t i;
    for (i = 0; i < n; i++)
        tu_ok(fn(c[i].s, c[i].len) == c[i].want, c[i].name, "got %d", !c[i].want);
}

static void test_hex(void)
{
    static const unsigned char in[] = {0x00, 0x0f, 0x7f, 0x80, 0xab, 0xff};
    char out[16];
    char *end;

    memset(out, 'x', sizeof(out));
    end = fsx_hex(out, in, sizeof(in));
    tu_ok(end == out + 12 && memcmp(out, "000f7f80abff", 12) == 0 && out[12] == 'x',
          "hex: lowercase pairs, nothing written past them", "%.16s", out);
    tu_ok(fsx_hex(out, in, 0) == out, "hex: nothing", "moved");
}

static void test_hex_every_byte(void)
{
    unsigned char in[256];
    char out[512], want[3];
    unsigned c, bad = 256;

    for (c = 0; c < 256; c++)
        in[c] = (unsigned char)c;
    fsx_hex(out, in, sizeof(in));
    for (c = 0; c < 256; c++) {
        (void)snprintf(want, sizeof(want), "%02x", c);
        if (memcmp(out + 2 * c, want, 2) != 0 && bad == 256)
            bad = c;
    }
    tu_ok(bad == 256, "hex: every byte value as printf's %02x", "byte 0x%02x", bad & 0xff);
}

/* Each class of text.h by its definition, the way a reader would check the table. */
static int in_set(unsigned c, const char *set)
{
    return c != 0 && c < 0x80 && strchr(set, (int)c) != NULL;
}

static unsigned class_by_definition(unsigned c)
{
    int digit = c >= '0' && c <= '9', upper = c >= 'A' && c <= 'Z', lower = c >= 'a' && c <= 'z';
    unsigned f = 0;

    if (digit || upper || lower || in_set(c, "!#$%&'*+-.^_`|~"))
        f |= FSX_C_TCHAR;
    if (c == '\t' || (c >= 0x20 && c != 0x7f))
        f |= FSX_C_FIELD;
    if (digit || upper || lower || in_set(c, "-._~"))
        f |= FSX_C_UNRESERVED;
    if (c == ' ' || c == '\t')
        f |= FSX_C_BLANK;
    if (upper)
        f |= FSX_C_UPPER;
    if (digit || (c >= 'a' && c <= 'f'))
        f |= FSX_C_HEXLOWER;
    if (c > 0x20 && c < 0x7f && c != '/' && c != ',')
        f |= FSX_C_SCOPE;
    if (digit)
        f |= FSX_C_DIGIT;
    return f;
}

static void test_class_table(void)
{
    unsigned c, bad = 256;

    for (c = 0; c < 256; c++)
        if (fsx_char_class[c] != class_by_definition(c) && bad == 256)
            bad = c;
    tu_ok(bad == 256, "classes: every byte's entry matches the definitions in text.h",
          "byte 0x%02x has 0x%02x, wants 0x%02x", bad & 0xff, fsx_char_class[bad & 0xff],
          class_by_definition(bad & 0xff));
}

static void test_http_header(void)
{
    tu_ok(fsx_http_check_header("X-Ok", 4, "v", 1) == 0, "http header: fine", "refused");
    tu_ok(fsx_http_check_header("X Bad", 5, "v", 1) == -1, "http header: name with a space",
          "taken");
    tu_ok(fsx_http_check_header("X(Bad)", 6, "v", 1) == -1, "http header: name with parentheses",
          "taken");
    tu_ok(fsx_http_check_header("", 0, "v", 1) == -1, "http header: empty name", "taken");
    tu_ok(fsx_http_check_header("X-Bad", 5, "a\x01", 2) == -1,
          "http header: control character in the value", "taken");
    tu_ok(fsx_http_check_header("X-Ok", 4, "", 0) == 0, "http header: empty value", "refused");
}

int main(void)
{
    run(token_cases, sizeof(token_cases) / sizeof(token_cases[0]), fsx_is_token);
    run(value_cases, sizeof(value_cases) / sizeof(value_cases[0]), fsx_is_field_value);
    run(date_cases, sizeof(date_cases) / sizeof(date_cases[0]), fsx_is_amz_date);
    test_hex();
    test_hex_every_byte();
    test_class_table();
    test_http_header();
    return tu_report("text");
}
