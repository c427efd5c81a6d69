/* A results line cut into its shape, its holes' texts and its duration, in C.
 *
 * finish/line_shapes.py's _cut, byte for byte: see its docstring for what a shape is,
 * and tests/unit/test_line_shapes.py and tests/fuzz/ for the two held to the same
 * answers. The line is untrusted (names, addresses and texts come from the network):
 * every read is bounded by its length, and what is not cut so is None (the slow way).
 * CUT_EXACT_BUFFERS (the sanitizers' build, tests/fuzz) sizes each buffer exactly.
 *
 *   cut(line: bytes) -> (shape: bytes, values: list[str], duration_ms: float) | None
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdlib.h>
#include <string.h>

#define LONGEST 2048 /* line_shapes.LONGEST */
#define MANY 64      /* line_shapes.MANY */

static const char HEAD[] = "{\"target\": \"";
static const char SUBJECT[] = ", \"subject\": \"";
static const char DURATION[] = ", \"duration_ms\": ";
#define LEN(s) ((Py_ssize_t)(sizeof(s) - 1))

/* The first `needle` in s[from, n), or -1. */
static Py_ssize_t find(const char *s, Py_ssize_t n, Py_ssize_t from, const char *needle,
                       Py_ssize_t k) {
    if (from < 0 || k > n - from)
        return -1;
    const char *at = memmem(s + from, (size_t)(n - from), needle, (size_t)k);
    return at ? at - s : -1;
}

/* The last `needle` in s[0, n), or -1. */
static Py_ssize_t rfind(const char *s, Py_ssize_t n, const char *needle, Py_ssize_t k) {
    for (Py_ssize_t i = n - k; i >= 0; i--)
        if (memcmp(s + i, needle, (size_t)k) == 0)
            return i;
    return -1;
}

static int is_hole(unsigned char c) { /* [A-Za-z0-9._:/-] */
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == ':' || c == '/' || c == '-';
}

static int is_alnum(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int is_hex(unsigned char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

/* HOLE.fullmatch: [A-Za-z0-9][A-Za-z0-9._:/-]* */
static int hole(const char *s, Py_ssize_t n) {
    if (n < 1 || !is_alnum((unsigned char)s[0]))
        return 0;
    for (Py_ssize_t i = 1; i < n; i++)
        if (!is_hole((unsigned char)s[i]))
            return 0;
    return 1;
}

/* NUMBER.fullmatch: [0-9]{1,15}(?:\.[0-9]{1,17})? */
static int number(const char *s, Py_ssize_t n) {
    Py_ssize_t i = 0;
    while (i < n && is_digit((unsigned char)s[i]))
        i++;
    if (i < 1 || i > 15)
        return 0;
    if (i == n)
        return 1;
    if (s[i] != '.')
        return 0;
    Py_ssize_t j = ++i;
    while (i < n && is_digit((unsigned char)s[i]))
        i++;
    return i == n && i - j >= 1 && i - j <= 17;
}

/* A growing byte buffer on the heap: malloc's, not pymalloc's, whose small blocks ASan
 * cannot see the ends of (tests/fuzz). */
typedef struct {
    char *data;
    Py_ssize_t len, cap;
} Buf;

static int put(Buf *b, const char *s, Py_ssize_t n) {
    if (n <= 0)
        return 0;
    if (b->len + n > b->cap) {
#ifdef CUT_EXACT_BUFFERS /* the fuzzer's build: a read past the end is ASan's report */
        Py_ssize_t cap = b->len + n;
#else
        Py_ssize_t cap = (b->len + n) * 2 + 64;
#endif
        char *grown = realloc(b->data, (size_t)cap);
        if (!grown) {
            PyErr_NoMemory();
            return -1;
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, (size_t)n);
    b->len += n;
    return 0;
}

/* bytes.replace(old, mark) of `in` into `out` (emptied first); 1 if any was found. */
static int replace(const Buf *in, Buf *out, const char *old, Py_ssize_t k, const char *mark,
                   Py_ssize_t m, int *found) {
    out->len = 0;
    *found = 0;
    Py_ssize_t at = 0;
    for (;;) {
        Py_ssize_t hit = find(in->data, in->len, at, old, k);
        if (hit < 0)
            break;
        *found = 1;
        if (put(out, in->data + at, hit - at) < 0 || put(out, mark, m) < 0)
            return -1;
        at = hit + k;
    }
    return put(out, in->data + at, in->len - at);
}

static void swap(Buf *a, Buf *b) {
    Buf t = *a;
    *a = *b;
    *b = t;
}

/* ADDRESS.findall's next match in s[from, n): "([0-9a-f]{0,4}:[0-9a-f:]*)". Sets the
 * group's bounds; returns the position after the match, or -1. */
static Py_ssize_t next_address(const char *s, Py_ssize_t n, Py_ssize_t from, Py_ssize_t *a,
                               Py_ssize_t *z) {
    for (Py_ssize_t p = from; p < n; p++) {
        if (s[p] != '"')
            continue;
        Py_ssize_t q = p + 1, r = 0;
        while (q + r < n && r <= 4 && is_hex((unsigned char)s[q + r]))
            r++;
        if (r > 4 || q + r >= n || s[q + r] != ':')
            continue;
        Py_ssize_t e = q + r + 1;
        while (e < n && (is_hex((unsigned char)s[e]) || s[e] == ':'))
            e++;
        if (e >= n || s[e] != '"')
            continue;
        *a = q;
        *z = e;
        return e + 1;
    }
    return -1;
}

static PyObject *cut(PyObject *self, PyObject *arg) {
    (void)self;
    if (!PyBytes_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "cut() takes bytes");
        return NULL;
    }
    const char *s = PyBytes_AS_STRING(arg);
    Py_ssize_t n = PyBytes_GET_SIZE(arg);
    if (n > LONGEST || n < LEN(HEAD) || memcmp(s, HEAD, (size_t)LEN(HEAD)) != 0 ||
        memchr(s, 0, (size_t)n))
        Py_RETURN_NONE;
    Py_ssize_t end = find(s, n, LEN(HEAD), "\"", 1);
    Py_ssize_t at = end < 0 ? -1 : find(s, n, end, SUBJECT, LEN(SUBJECT));
    if (at < 0)
        Py_RETURN_NONE;
    Py_ssize_t start = at + LEN(SUBJECT);
    Py_ssize_t stop = find(s, n, start, "\"", 1);
    if (stop < 0) /* (the Python's tail then holds the subject's text: no number) */
        Py_RETURN_NONE;
    at = rfind(s, n, DURATION, LEN(DURATION));
    if (at < stop)
        Py_RETURN_NONE;
    Py_ssize_t num = at + LEN(DURATION), num_end;
    if (n - num >= 2 && s[n - 2] == '}' && s[n - 1] == '\n')
        num_end = n - 2;
    else if (n - num >= 1 && s[n - 1] == '}')
        num_end = n - 1;
    else
        Py_RETURN_NONE;
    const char *target = s + LEN(HEAD), *subject = s + start;
    Py_ssize_t target_n = end - LEN(HEAD), subject_n = stop - start;
    if (!number(s + num, num_end - num) || !hole(target, target_n) || !hole(subject, subject_n))
        Py_RETURN_NONE;

    PyObject *result = NULL, *values = NULL, *shape = NULL, *ms = NULL;
    Buf body = {0}, other = {0};
    int found;
    if (put(&body, s + stop, at - stop) < 0)
        goto fail;
    if (replace(&body, &other, subject, subject_n, "\0\2", 2, &found) < 0)
        goto fail;
    if (found)
        swap(&body, &other);
    if (replace(&body, &other, target, target_n, "\0\1", 2, &found) < 0)
        goto fail;
    if (found)
        swap(&body, &other);

    values = PyList_New(0);
    if (!values)
        goto fail;
    PyObject *text = PyUnicode_DecodeASCII(target, target_n, NULL);
    if (!text || PyList_Append(values, text) < 0) {
        Py_XDECREF(text);
        goto fail;
    }
    Py_DECREF(text);
    text = PyUnicode_DecodeASCII(subject, subject_n, NULL);
    if (!text || PyList_Append(values, text) < 0) {
        Py_XDECREF(text);
        goto fail;
    }
    Py_DECREF(text);

    /* the distinct addresses in order of appearance (bounds in `body`) */
    Py_ssize_t from[MANY], len[MANY];
    int count = 0;
    Py_ssize_t pos = 0, a, z;
    while ((pos = next_address(body.data, body.len, pos, &a, &z)) >= 0) {
        int seen = 0;
        for (int i = 0; i < count && !seen; i++)
            seen = len[i] == z - a && memcmp(body.data + from[i], body.data + a, (size_t)(z - a)) == 0;
        if (seen)
            continue;
        if (count == MANY)
            goto none;
        from[count] = a;
        len[count++] = z - a;
    }
    /* their texts, copied before `body` changes */
    char *texts = NULL;
    Py_ssize_t offset[MANY], total = 0;
    for (int i = 0; i < count; i++) {
        offset[i] = total;
        total += len[i];
    }
    if (count) {
        texts = malloc((size_t)total);
        if (!texts) {
            PyErr_NoMemory();
            goto fail;
        }
        for (int i = 0; i < count; i++)
            memcpy(texts + offset[i], body.data + from[i], (size_t)len[i]);
        for (int i = 0; i < count; i++) {
            text = PyUnicode_DecodeASCII(texts + offset[i], len[i], NULL);
            if (!text || PyList_Append(values, text) < 0) {
                Py_XDECREF(text);
                free(texts);
                goto fail;
            }
            Py_DECREF(text);
        }
        /* put in longest first; of one length, in order of appearance (a stable sort) */
        int done[MANY] = {0};
        for (int k = 0; k < count; k++) {
            int pick = -1;
            for (int i = 0; i < count; i++)
                if (!done[i] && (pick < 0 || len[i] > len[pick]))
                    pick = i;
            done[pick] = 1;
            char mark[2] = {0, (char)(0x80 + pick)};
            if (replace(&body, &other, texts + offset[pick], len[pick], mark, 2, &found) < 0) {
                free(texts);
                goto fail;
            }
            swap(&body, &other);
        }
        free(texts);
    }

    Py_ssize_t middle = start - end;
    shape = PyBytes_FromStringAndSize(NULL, middle + 1 + body.len);
    if (!shape)
        goto fail;
    char *out = PyBytes_AS_STRING(shape);
    memcpy(out, s + end, (size_t)middle);
    out[middle] = 0;
    if (body.len)
        memcpy(out + middle + 1, body.data, (size_t)body.len);
    char digits[40]; /* NUMBER's text: at most 15 + 1 + 17 characters */
    memcpy(digits, s + num, (size_t)(num_end - num));
    digits[num_end - num] = 0;
    double duration = PyOS_string_to_double(digits, NULL, NULL);
    if (duration == -1.0 && PyErr_Occurred())
        goto fail;
    ms = PyFloat_FromDouble(duration);
    if (!ms)
        goto fail;
    result = PyTuple_Pack(3, shape, values, ms);
    goto fail; /* (the common end: the tuple holds its own references) */
none:
    result = Py_NewRef(Py_None);
fail:
    Py_XDECREF(shape);
    Py_XDECREF(values);
    Py_XDECREF(ms);
    free(body.data);
    free(other.data);
    return result;
}

static PyMethodDef methods[] = {
    {"cut", cut, METH_O, "A results line's shape, its holes' texts and its duration, or None."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_cut", "finish/line_shapes.py's _cut in C.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__cut(void) { return PyModule_Create(&module); }
