/* The DNS-only bulk path's fast lane: dns.aaaa for plain domains, in C, with punts.
 *
 * engine/dns_only.py spends about 200 us of CPU a domain in Python (bench/RESULTS.md);
 * half of dnsperf's rate needs about 40. This module does the common case's mechanics end
 * to end: it sends AAAA D and AAAA www.D (and A www.D when Python's rule says the A
 * decides whether www.D is a subject) on one connected UDP socket, reads the answers with
 * recvmmsg, follows CNAME chains (asking the end of one the resolver left unfinished), and
 * writes each result line.
 *
 * It knows no check rule and no line layout. Each outcome (a part, its rcode, its chain,
 * its addresses) has a *shape*: the part and type asked, NXDOMAIN or not, the chain's
 * length, and for each address (sorted, as probes/dns.classify sorts them) the rows it
 * falls in of the tables AddressPolicy.tables() hands over (its class is a function of
 * those). The first outcome of each shape goes to Python (engine/lane.py ShapeCompiler),
 * which classifies its addresses, runs checks.dns.judge_aaaa and the engine's www.D rule,
 * and renders the line with model.CheckResult.to_line, holes in it for what varies within
 * a shape (target, sector, subject, addresses, chain names, duration). The lane caches the
 * answer and fills the holes for every later outcome of that shape.
 *
 * Anything outside the common case is a *punt*: a part of a domain (its bare name, or
 * its www) is handed back to Python, which asks again from scratch through the general
 * bulk path. So this code never needs to be right about a rare case, only to recognise
 * it. Punted: timeouts, rcodes other than NOERROR and NXDOMAIN, truncation, a send that
 * fails, any reply this parser does not read completely and strictly (another record
 * type or class, EDNS options, a name with characters that need escaping, duplicate
 * records, a CNAME loop or a chain of ten hops), addresses printed with a dot
 * (IPv4-mapped forms), shapes Python declines (an IPv4 address inside, DNS64), shapes
 * past the cache's size, and names the lane cannot encode as they are. A datagram whose
 * ID matches no query in flight is dropped, as the Python transport drops it.
 *
 * tests/unit/test_lane.py holds the lines to the Python path's, reply by reply.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_NAME 256     /* a DNS name's text, with room for the NUL */
#define BATCH 64         /* datagrams per recvmmsg / sendmmsg */
#define DGRAM 4096       /* receive buffer per datagram; longer ones are punted */
#define QUERY_MAX 300    /* a query on the wire: header, name, question, OPT */
#define MAX_ANSWERS 64   /* answer records read; more is punted */
#define MAX_HOPS 10      /* resolution.MAX_CNAME_HOPS */
#define MAX_SHAPES 4096  /* shapes cached; outcomes of further shapes are punted */
#define SHAPE_BUCKETS 8192 /* a power of two, twice MAX_SHAPES */
#define SHAPE_KEY_MAX (8 + 6 * MAX_ANSWERS)

enum { PART_BARE = 1, PART_WWW = 2 };
enum { T_A = 1, T_NS = 2, T_CNAME = 5, T_SOA = 6, T_AAAA = 28, T_OPT = 41 };
enum { ST_PASS, ST_WARN, ST_FAIL, ST_ERROR };
/* what a shape's outcome does (lane.py ShapeCompiler): its line, nothing (www.D is no
 * subject), ask the A of www.D, or hand the part to Python */
enum { ACT_WRITE, ACT_DROP, ACT_ASK_A, ACT_PUNT };
/* a hole in a shape's line (lane.py HOLES): filled per outcome */
enum { HOLE_END, HOLE_TARGET, HOLE_SECTOR, HOLE_SUBJECT, HOLE_DURATION,
       HOLE_ADDRESS = 16, HOLE_CHAIN = 128 };

static double now_mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts); /* time.monotonic()'s clock */
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---------------------------------------------------------------- growable buffer */

typedef struct {
    char *data;
    size_t len, cap;
} Buf;

static int buf_reserve(Buf *b, size_t more) {
    if (b->len + more <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 65536;
    while (cap < b->len + more)
        cap *= 2;
    char *data = PyMem_Realloc(b->data, cap);
    if (!data)
        return -1;
    b->data = data;
    b->cap = cap;
    return 0;
}

static int buf_add(Buf *b, const char *s, size_t n) {
    if (buf_reserve(b, n) < 0)
        return -1;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    return 0;
}

static int buf_str(Buf *b, const char *s) { return buf_add(b, s, strlen(s)); }

/* ---------------------------------------------------------------- address tables */

typedef struct {
    uint8_t net[16];
    int plen;
} Range;

static int in_prefix(const uint8_t *addr, const Range *r) {
    int full = r->plen / 8, rest = r->plen % 8;
    if (memcmp(addr, r->net, full) != 0)
        return 0;
    if (rest) {
        uint8_t mask = (uint8_t)(0xFF << (8 - rest));
        if ((addr[full] & mask) != (r->net[full] & mask))
            return 0;
    }
    return 1;
}

/* The index of the first of the longest rows holding `addr`, -1 for none (the tables
 * come longest first where that matters: AddressPolicy.tables()). */
static int longest_match(const uint8_t *addr, const Range *rows, Py_ssize_t n) {
    int best = -1;
    for (Py_ssize_t i = 0; i < n; i++)
        if (in_prefix(addr, &rows[i]) && (best < 0 || rows[i].plen > rows[best].plen))
            best = (int)i;
    return best;
}

/* ---------------------------------------------------------------- shapes */

typedef struct {
    int offset, len; /* the literal text before the hole, in Shape.text */
    int hole;
} Segment;

typedef struct {
    uint8_t *key;
    int key_len;
    uint32_t hash;
    int action, status;
    char *text;
    Segment *segs;
    int n_segs;
} Shape;
/* ---------------------------------------------------------------- domains and queries */

/* A part's CNAME chain, once the resolver left it unfinished and the lane asks its end
 * itself (resolution._Chase): allocated only then. */
typedef struct {
    char current[MAX_NAME]; /* the name asked now */
    uint8_t wire[MAX_NAME];
    int wire_len;
    int hops;
    int n_chain;
    char chain[MAX_HOPS + 1][MAX_NAME];
} Chase;

typedef struct {
    PyObject *token;  /* handed back when the domain is done */
    PyObject *target, *sector; /* bytes: their JSON strings' insides, for the holes */
    char name[MAX_NAME], www[MAX_NAME];
    uint8_t wire[MAX_NAME], wwwwire[MAX_NAME];
    int wire_len, wwwwire_len;
    double started;
    int left;  /* parts not yet settled */
    int punt;  /* PART_* bits handed back to Python */
    Chase *chase[2]; /* by part - 1; NULL: asking the part's own name */
    int www_shape;   /* the shape of www.D's AAAA outcome while its A is asked */
    int next_free;
} Domain;

typedef struct {
    int domain; /* -1: no query with this ID in flight */
    int part, qtype;
    uint32_t gen;
} Slot;

typedef struct {
    uint16_t qid;
    uint32_t gen;
    double deadline;
} Expiry;

typedef struct {
    int domain, part, qtype;
} Ask;

typedef struct {
    PyObject_HEAD
    int fd;
    double timeout;
    int window, in_flight;
    Range *special;
    Py_ssize_t n_special;
    Range *allow;
    Py_ssize_t n_allow;
    Range *dns64;
    Py_ssize_t n_dns64;
    Domain *domains;
    int n_domains, cap_domains, free_domain;
    Slot *slots; /* by query ID */
    uint32_t gen;
    Expiry *expiries; /* a ring, in send order: every query has the same timeout */
    int exp_head, exp_len, exp_cap;
    Ask *backlog; /* a ring of questions waiting for room in the window */
    int bl_head, bl_len, bl_cap;
    uint8_t out[BATCH][QUERY_MAX];
    int out_len[BATCH];
    Ask out_ask[BATCH];
    int n_out;
    uint8_t ids[4096];
    int ids_at;
    Buf lines;
    PyObject *compiler; /* lane.py ShapeCompiler: a new shape's action and line */
    Shape *shapes;
    int n_shapes;
    int *buckets; /* shape indices by hash, -1 empty: SHAPE_BUCKETS of them */
    PyObject *done;   /* list of tokens: domains finished here, nothing handed back */
    PyObject *punted; /* list of (token, parts, started) */
    long counts[4];
    long sent, received, expired;
} Lane;

/* ---------------------------------------------------------------- names */

/* Text (lower case, no final dot) to wire form, for names the lane asks as they are:
 * labels of [A-Za-z0-9_-], 1-63 octets, under 254 in all (dnswire's _SIMPLE_QNAME). */
static int name_wire(const char *name, uint8_t *wire) {
    size_t n = strlen(name);
    if (n == 0 || n >= 254)
        return -1;
    int out = 0, label = 0;
    wire[out++] = 0;
    for (size_t i = 0; i <= n; i++) {
        char c = name[i];
        if (c == '.' || c == 0) {
            if (label == 0 || label > 63)
                return -1;
            wire[out - label - 1] = (uint8_t)label;
            label = 0;
            if (c == 0)
                break;
            wire[out++] = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return -1; /* upper case too: the subject must read as the look-up's name */
        wire[out++] = (uint8_t)c;
        label++;
    }
    wire[out++] = 0;
    return out;
}

/* A name from a message, as dnswire._read_name reads it (pointers strictly backwards,
 * at most 16 hops, 255 octets), into lower-case dotted text. Returns the position
 * after the name, -1 for what dnspython would reject, -2 for a label the lane does not
 * print as it is (it would need escaping): both are punts. */
static int read_name(const uint8_t *wire, int pos, int end, char *text, int *text_len) {
    int biggest = pos, start = pos, after = -1, hops = 0, total = 1, out = 0, odd = 0;
    while (1) {
        if (pos >= end)
            return -1;
        int count = wire[pos];
        if (count == 0) {
            pos++;
            break;
        }
        if (count < 64) {
            int nxt = pos + 1 + count;
            if (nxt > end)
                return -1;
            if (out + count + 1 >= MAX_NAME)
                return -1;
            if (out)
                text[out++] = '.';
            for (int i = pos + 1; i < nxt; i++) {
                uint8_t c = wire[i];
                if (c >= 'A' && c <= 'Z')
                    c = (uint8_t)(c + 32);
                else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                           c == '_'))
                    odd = 1;
                text[out++] = (char)c;
            }
            total += count + 1;
            pos = nxt;
        } else if (count >= 192) {
            if (pos + 1 >= end)
                return -1;
            int target = (count & 0x3F) << 8 | wire[pos + 1];
            if (target >= biggest)
                return -1;
            if (++hops > 16)
                return -1;
            if (after < 0)
                after = pos + 2;
            biggest = target;
            end = start;
            start = pos = target;
        } else {
            return -1;
        }
    }
    if (total > 255)
        return -1;
    text[out] = 0;
    *text_len = out;
    if (odd || out == 0)
        return -2; /* escapes, or the root: the Python path prints those */
    return after < 0 ? pos : after;
}

/* ---------------------------------------------------------------- one reply */

typedef struct {
    char owner[MAX_NAME];
    int type;
    uint8_t data[16];
    char target[MAX_NAME]; /* CNAME */
} Record;

typedef struct {
    int nxdomain;
    int n_values;
    char values[MAX_ANSWERS][INET6_ADDRSTRLEN]; /* sorted by their text */
    uint8_t packed[MAX_ANSWERS][16];            /* the same, as on the wire (AAAA) */
    int n_chain;
    char chain[MAX_HOPS + 1][MAX_NAME];
} Outcome;

static Record records_buf[MAX_ANSWERS];

/* Skip one authority or additional record of a shape dnswire reads the same way;
 * -1 for anything else (a punt). `opt_seen` tracks the one OPT record. */
static int skip_record(const uint8_t *w, int pos, int n, int section, int *opt_seen,
                       int *opt_rcode_high) {
    char text[MAX_NAME];
    int len;
    int owner_at = pos;
    if (pos >= n)
        return -1; /* the header counts more records than the message holds */
    if (w[pos] == 0 && section == 2) {
        pos += 1; /* the root: OPT's owner */
    } else {
        pos = read_name(w, pos, n, text, &len);
        if (pos < 0)
            return -1;
    }
    if (pos + 10 > n)
        return -1;
    int type = w[pos] << 8 | w[pos + 1];
    int klass = w[pos + 2] << 8 | w[pos + 3];
    uint32_t ttl = (uint32_t)w[pos + 4] << 24 | (uint32_t)w[pos + 5] << 16 |
                   (uint32_t)w[pos + 6] << 8 | w[pos + 7];
    int rdlen = w[pos + 8] << 8 | w[pos + 9];
    pos += 10;
    int end = pos + rdlen;
    if (end > n)
        return -1;
    if (type == T_OPT) {
        if (section != 2 || *opt_seen || w[owner_at] != 0 || rdlen != 0)
            return -1;
        *opt_seen = 1;
        *opt_rcode_high = (int)((ttl >> 20) & 0xFF0);
        return end;
    }
    if (w[owner_at] == 0 || klass != 1)
        return -1;
    if (type == T_A && rdlen == 4)
        return end;
    if (type == T_AAAA && rdlen == 16)
        return end;
    if (type == T_NS || type == T_SOA) {
        int at = read_name(w, pos, end, text, &len);
        if (at == -2)
            return -1; /* dnswire would read it, but keep the lane's rules simple */
        if (at < 0)
            return -1;
        if (type == T_SOA) {
            at = read_name(w, at, end, text, &len);
            if (at < 0)
                return -1;
            at += 20;
        }
        return at == end ? end : -1;
    }
    return -1;
}

/* The header and the question, as the transport checks them: a response to a QUERY, not
 * truncated, NOERROR or NXDOMAIN, one question byte for byte (case aside) as asked.
 * Returns the position after the question, -1 to punt. */
static int read_question(const uint8_t *w, int n, const uint8_t *qwire, int qwire_len,
                         int qtype, int *rcode) {
    if (n < 12)
        return -1;
    int flags = w[2] << 8 | w[3];
    if (!(flags & 0x8000) || (flags >> 11) & 0xF || (flags & 0x0200))
        return -1; /* not a response, not a QUERY, or truncated */
    *rcode = flags & 0xF;
    if (*rcode != 0 && *rcode != 3)
        return -1;
    if ((w[4] << 8 | w[5]) != 1 || 12 + qwire_len + 4 > n)
        return -1;
    for (int i = 0; i < qwire_len; i++) {
        uint8_t a = w[12 + i], b = qwire[i];
        if (a >= 'A' && a <= 'Z')
            a = (uint8_t)(a + 32);
        if (a != b)
            return -1;
    }
    int pos = 12 + qwire_len;
    if ((w[pos] << 8 | w[pos + 1]) != qtype || (w[pos + 2] << 8 | w[pos + 3]) != 1)
        return -1;
    return pos + 4;
}

/* The answer section into recs (A, AAAA and CNAME records of class IN only); the
 * position after it, -1 to punt. */
static int read_answers(const uint8_t *w, int n, int pos, int an, Record *recs) {
    int len;
    for (int i = 0; i < an; i++) {
        Record *r = &recs[i];
        pos = read_name(w, pos, n, r->owner, &len);
        if (pos < 0 || pos + 10 > n)
            return -1;
        int type = w[pos] << 8 | w[pos + 1];
        int klass = w[pos + 2] << 8 | w[pos + 3];
        int rdlen = w[pos + 8] << 8 | w[pos + 9];
        pos += 10;
        int end = pos + rdlen;
        if (end > n || klass != 1)
            return -1;
        r->type = type;
        if (type == T_AAAA && rdlen == 16)
            memcpy(r->data, w + pos, 16);
        else if (type == T_A && rdlen == 4)
            memcpy(r->data, w + pos, 4);
        else if (type == T_CNAME) {
            if (read_name(w, pos, end, r->target, &len) != end)
                return -1;
        } else
            return -1;
        pos = end;
    }
    return pos;
}

/* dnspython merges an RRset's duplicates and keeps one CNAME per owner: 1 for either
 * (a punt) */
static int has_duplicates(const Record *recs, int an) {
    for (int i = 0; i < an; i++)
        for (int j = i + 1; j < an; j++) {
            if (recs[i].type != recs[j].type || strcmp(recs[i].owner, recs[j].owner))
                continue;
            if (recs[i].type == T_CNAME)
                return 1;
            if (!memcmp(recs[i].data, recs[j].data, recs[i].type == T_AAAA ? 16 : 4))
                return 1;
        }
    return 0;
}

/* resolution.follow()'s chain from `current` (rewritten to the chain's end): 0, or -1
 * for a loop or a chain longer than MAX_CNAME_HOPS (the Python path reports those). */
static int follow_chain(const Record *recs, int an, const char *name, char *current,
                        Outcome *out) {
    int moved = 1;
    while (moved) {
        moved = 0;
        for (int i = 0; i < an; i++) {
            if (recs[i].type != T_CNAME || strcmp(recs[i].owner, current))
                continue;
            strcpy(current, recs[i].target);
            if (!strcmp(current, name))
                return -1;
            for (int k = 0; k < out->n_chain; k++)
                if (!strcmp(out->chain[k], current))
                    return -1;
            if (out->n_chain >= MAX_HOPS)
                return -1;
            strcpy(out->chain[out->n_chain++], current);
            moved = 1;
            break;
        }
    }
    return 0;
}

static int cmp_value(const void *a, const void *b) {
    return strcmp(((const char *)a), ((const char *)b));
}

/* The records of `qtype` at the chain's end, as text sorted as Python sorts str (and,
 * for AAAA, their bytes beside them); -1 for an address glibc writes with a dot, which
 * ipaddress writes in hex. */
static int collect_values(const Record *recs, int an, int qtype, const char *current,
                          Outcome *out) {
    struct {
        char text[INET6_ADDRSTRLEN];
        uint8_t packed[16];
    } found[MAX_ANSWERS];
    int n = 0;
    for (int i = 0; i < an; i++) {
        if (recs[i].type != qtype || strcmp(recs[i].owner, current))
            continue;
        char *text = found[n].text;
        if (qtype == T_AAAA) {
            if (!inet_ntop(AF_INET6, recs[i].data, text, INET6_ADDRSTRLEN) || strchr(text, '.'))
                return -1;
            memcpy(found[n].packed, recs[i].data, 16);
        } else {
            snprintf(text, INET6_ADDRSTRLEN, "%u.%u.%u.%u", recs[i].data[0], recs[i].data[1],
                     recs[i].data[2], recs[i].data[3]);
            memset(found[n].packed, 0, 16);
        }
        n++;
    }
    qsort(found, n, sizeof found[0], cmp_value); /* text first: compared as strings */
    for (int i = 0; i < n; i++) {
        memcpy(out->values[i], found[i].text, INET6_ADDRSTRLEN);
        memcpy(out->packed[i], found[i].packed, 16);
    }
    out->n_values = n;
    return 0;
}

/* The look-up's outcome from one reply, as dnswire.parse_reply, the transport's
 * question check and resolution.follow() would give it: 0 when the look-up ends here,
 * 1 when the chain's end (out->chain's last name) must be asked next, -1 to punt.
 * `name` is the look-up's own name, `asked` the name in this question, `prior` the
 * chain so far (NULL: none). */
static int read_reply(const uint8_t *w, int n, const uint8_t *qwire, int qwire_len, int qtype,
                      const char *name, const char *asked, const Chase *prior, Outcome *out) {
    int rcode;
    int pos = read_question(w, n, qwire, qwire_len, qtype, &rcode);
    if (pos < 0)
        return -1;
    int an = w[6] << 8 | w[7], ns = w[8] << 8 | w[9], ar = w[10] << 8 | w[11];
    if (an > MAX_ANSWERS)
        return -1;
    Record *recs = records_buf;
    pos = read_answers(w, n, pos, an, recs);
    if (pos < 0)
        return -1;
    int opt_seen = 0, opt_high = 0;
    for (int i = 0; i < ns + ar; i++) {
        pos = skip_record(w, pos, n, i < ns ? 1 : 2, &opt_seen, &opt_high);
        if (pos < 0)
            return -1;
    }
    if (pos != n || opt_high || has_duplicates(recs, an))
        return -1; /* trailing bytes; an extended rcode; duplicates */
    char current[MAX_NAME];
    strcpy(current, asked);
    out->n_chain = 0;
    if (prior) {
        out->n_chain = prior->n_chain;
        memcpy(out->chain, prior->chain, sizeof out->chain);
    }
    if (follow_chain(recs, an, name, current, out) < 0 ||
        collect_values(recs, an, qtype, current, out) < 0)
        return -1;
    out->nxdomain = rcode == 3;
    if (out->n_values || !out->n_chain || out->nxdomain || !strcmp(asked, current))
        return 0;
    return 1; /* the resolver left the chain unfinished (a CNAME, no data): ask its end */
}
/* ---------------------------------------------------------------- shapes and lines */

/* The outcome's shape: what ShapeCompiler's answer depends on (see the top). `prior` is
 * the shape of www.D's AAAA outcome when this is its A's, else -1. */
static int shape_key(Lane *self, int part, int qtype, const Outcome *o, int prior,
                     uint8_t *key) {
    int k = 0;
    key[k++] = (uint8_t)part;
    key[k++] = (uint8_t)qtype;
    key[k++] = (uint8_t)o->nxdomain;
    key[k++] = (uint8_t)o->n_chain;
    key[k++] = (uint8_t)o->n_values;
    key[k++] = (uint8_t)((prior + 1) >> 8);
    key[k++] = (uint8_t)(prior + 1);
    if (qtype != T_AAAA)
        return k;
    for (int i = 0; i < o->n_values; i++) {
        const uint8_t *a = o->packed[i];
        int rows[3] = {longest_match(a, self->special, self->n_special),
                       longest_match(a, self->allow, self->n_allow),
                       longest_match(a, self->dns64, self->n_dns64)};
        for (int j = 0; j < 3; j++) {
            key[k++] = (uint8_t)((rows[j] + 1) >> 8);
            key[k++] = (uint8_t)(rows[j] + 1);
        }
    }
    return k;
}

static uint32_t fnv1a(const uint8_t *data, int len) {
    uint32_t h = 2166136261u;
    for (int i = 0; i < len; i++)
        h = (h ^ data[i]) * 16777619u;
    return h;
}

/* The compiler's answer, (action, status, ((literal bytes, hole), ...)), into `s`. */
static int read_shape(PyObject *answer, Shape *s, int n_values, int n_chain) {
    PyObject *segs;
    if (!PyArg_ParseTuple(answer, "iiO!", &s->action, &s->status, &PyTuple_Type, &segs))
        return -1;
    Py_ssize_t n = PyTuple_GET_SIZE(segs), total = 0;
    if (s->action < ACT_WRITE || s->action > ACT_PUNT || s->status < ST_PASS ||
        s->status > ST_ERROR || n > 4096) {
        PyErr_SetString(PyExc_ValueError, "a shape's action, status or segments are amiss");
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *seg = PyTuple_GET_ITEM(segs, i);
        if (!PyTuple_Check(seg) || PyTuple_GET_SIZE(seg) != 2 ||
            !PyBytes_Check(PyTuple_GET_ITEM(seg, 0))) {
            PyErr_SetString(PyExc_TypeError, "a segment is (bytes, hole)");
            return -1;
        }
        total += PyBytes_GET_SIZE(PyTuple_GET_ITEM(seg, 0));
    }
    s->text = PyMem_Malloc(total ? (size_t)total : 1);
    s->segs = PyMem_Calloc(n ? (size_t)n : 1, sizeof(Segment));
    if (!s->text || !s->segs) {
        PyErr_NoMemory();
        return -1;
    }
    s->n_segs = (int)n;
    int at = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *seg = PyTuple_GET_ITEM(segs, i), *lit = PyTuple_GET_ITEM(seg, 0);
        long hole = PyLong_AsLong(PyTuple_GET_ITEM(seg, 1));
        if (hole == -1 && PyErr_Occurred())
            return -1;
        int ok = (hole >= HOLE_END && hole <= HOLE_DURATION) ||
                 (hole >= HOLE_ADDRESS && hole < HOLE_ADDRESS + n_values) ||
                 (hole >= HOLE_CHAIN && hole < HOLE_CHAIN + n_chain);
        if (!ok) {
            PyErr_SetString(PyExc_ValueError, "a hole this shape cannot fill");
            return -1;
        }
        Py_ssize_t len = PyBytes_GET_SIZE(lit);
        memcpy(s->text + at, PyBytes_AS_STRING(lit), (size_t)len);
        s->segs[i] = (Segment){at, (int)len, (int)hole};
        at += (int)len;
    }
    return 0;
}

static void free_shape(Shape *s) {
    PyMem_Free(s->key);
    PyMem_Free(s->text);
    PyMem_Free(s->segs);
}

/* Ask the compiler about a new shape and keep its answer as shape `id`. */
static int compile_shape(Lane *self, int id, int part, int qtype, const Outcome *o,
                         int prior) {
    PyObject *chain = PyTuple_New(o->n_chain), *values = PyTuple_New(o->n_values);
    if (!chain || !values)
        goto fail;
    for (int i = 0; i < o->n_chain; i++) {
        PyObject *text = PyUnicode_FromString(o->chain[i]);
        if (!text)
            goto fail;
        PyTuple_SET_ITEM(chain, i, text);
    }
    for (int i = 0; i < o->n_values; i++) {
        PyObject *text = PyUnicode_FromString(o->values[i]);
        if (!text)
            goto fail;
        PyTuple_SET_ITEM(values, i, text);
    }
    PyObject *answer =
        PyObject_CallFunction(self->compiler, "iOsONNi", id, part == PART_WWW ? Py_True : Py_False,
                              qtype == T_AAAA ? "AAAA" : "A", o->nxdomain ? Py_True : Py_False,
                              chain, values, prior);
    chain = values = NULL; /* stolen by N */
    if (!answer)
        return -1;
    Shape *s = &self->shapes[id];
    int rc = read_shape(answer, s, o->n_values, o->n_chain);
    Py_DECREF(answer);
    return rc;
fail:
    Py_XDECREF(chain);
    Py_XDECREF(values);
    return -1;
}

/* The outcome's shape, compiled on its first sight; NULL with an exception set on an
 * error, NULL without one when the cache is full (a punt). */
static const Shape *shape_of(Lane *self, int part, int qtype, const Outcome *o, int prior,
                             int *id) {
    uint8_t key[SHAPE_KEY_MAX];
    int len = shape_key(self, part, qtype, o, prior, key);
    uint32_t hash = fnv1a(key, len);
    int b = (int)(hash & (SHAPE_BUCKETS - 1));
    for (; self->buckets[b] >= 0; b = (b + 1) & (SHAPE_BUCKETS - 1)) {
        Shape *s = &self->shapes[self->buckets[b]];
        if (s->hash == hash && s->key_len == len && !memcmp(s->key, key, (size_t)len)) {
            *id = self->buckets[b];
            return s;
        }
    }
    if (self->n_shapes == MAX_SHAPES)
        return NULL;
    int new_id = self->n_shapes;
    Shape *s = &self->shapes[new_id];
    memset(s, 0, sizeof *s);
    if (compile_shape(self, new_id, part, qtype, o, prior) < 0 ||
        !(s->key = PyMem_Malloc((size_t)len))) {
        free_shape(s);
        if (!PyErr_Occurred())
            PyErr_NoMemory();
        return NULL;
    }
    memcpy(s->key, key, (size_t)len);
    s->key_len = len;
    s->hash = hash;
    self->buckets[b] = new_id;
    self->n_shapes++;
    *id = new_id;
    return s;
}

/* round(ms, 3) as Python's float repr writes it */
static void format_ms(double ms, char *out, size_t size) {
    snprintf(out, size, "%.3f", ms);
    size_t n = strlen(out);
    while (n > 0 && out[n - 1] == '0' && out[n - 2] != '.')
        out[--n] = 0;
}

/* The shape's line with this outcome's values in its holes; -2 out of memory. */
static int write_line(Lane *self, const Domain *d, int part, const Shape *s, const Outcome *o) {
    Buf *b = &self->lines;
    size_t start = b->len;
    int fail = 0;
    for (int i = 0; i < s->n_segs && !fail; i++) {
        const Segment *g = &s->segs[i];
        fail |= buf_add(b, s->text + g->offset, (size_t)g->len);
        if (g->hole == HOLE_TARGET)
            fail |= buf_add(b, PyBytes_AS_STRING(d->target), PyBytes_GET_SIZE(d->target));
        else if (g->hole == HOLE_SECTOR)
            fail |= buf_add(b, PyBytes_AS_STRING(d->sector), PyBytes_GET_SIZE(d->sector));
        else if (g->hole == HOLE_SUBJECT)
            fail |= buf_str(b, part == PART_BARE ? d->name : d->www);
        else if (g->hole == HOLE_DURATION) {
            char ms[64];
            format_ms((now_mono() - d->started) * 1000.0, ms, sizeof ms);
            fail |= buf_str(b, ms);
        } else if (g->hole >= HOLE_CHAIN)
            fail |= buf_str(b, o->chain[g->hole - HOLE_CHAIN]);
        else if (g->hole >= HOLE_ADDRESS)
            fail |= buf_str(b, o->values[g->hole - HOLE_ADDRESS]);
    }
    if (fail) {
        b->len = start;
        PyErr_NoMemory();
        return -2;
    }
    self->counts[s->status]++;
    return 0;
}
/* ---------------------------------------------------------------- the lane's state machine */

static void ids_refill(Lane *self) {
    ssize_t got = 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        got = read(fd, self->ids, sizeof self->ids);
        close(fd);
    }
    if (got != (ssize_t)sizeof self->ids) /* no /dev/urandom: still unique, less random */
        for (size_t i = 0; i < sizeof self->ids; i++)
            self->ids[i] = (uint8_t)(rand() & 0xFF);
    self->ids_at = 0;
}

static uint16_t next_id(Lane *self) {
    if (self->ids_at + 2 > (int)sizeof self->ids)
        ids_refill(self);
    uint16_t id = (uint16_t)(self->ids[self->ids_at] << 8 | self->ids[self->ids_at + 1]);
    self->ids_at += 2;
    return id;
}

static int domain_done(Lane *self, int index) {
    Domain *d = &self->domains[index];
    int rc = 0;
    if (d->punt) {
        PyObject *item = Py_BuildValue("(Oid)", d->token, d->punt, d->started);
        if (!item || PyList_Append(self->punted, item) < 0)
            rc = -1;
        Py_XDECREF(item);
    } else if (PyList_Append(self->done, d->token) < 0) {
        rc = -1;
    }
    Py_CLEAR(d->token);
    Py_CLEAR(d->target);
    Py_CLEAR(d->sector);
    for (int i = 0; i < 2; i++) {
        PyMem_Free(d->chase[i]);
        d->chase[i] = NULL;
    }
    d->next_free = self->free_domain;
    self->free_domain = index;
    return rc;
}

static int part_settled(Lane *self, int index, int part, int punted) {
    Domain *d = &self->domains[index];
    if (punted)
        d->punt |= part;
    if (--d->left == 0)
        return domain_done(self, index);
    return 0;
}

/* A full ring (`len` items from `head`, `cap` slots) moved into one twice as big. */
static int ring_grow(void **ring, size_t item, int *head, int len, int *cap) {
    int bigger = *cap ? *cap * 2 : 1024;
    char *grown = PyMem_Malloc(item * (size_t)bigger), *old = *ring;
    if (!grown) {
        PyErr_NoMemory();
        return -1;
    }
    for (int i = 0; i < len; i++)
        memcpy(grown + item * (size_t)i, old + item * (size_t)((*head + i) % *cap), item);
    PyMem_Free(old);
    *ring = grown;
    *cap = bigger;
    *head = 0;
    return 0;
}

static int queue_ask(Lane *self, int domain, int part, int qtype) {
    if (self->bl_len == self->bl_cap &&
        ring_grow((void **)&self->backlog, sizeof(Ask), &self->bl_head, self->bl_len,
                  &self->bl_cap) < 0)
        return -1;
    self->backlog[(self->bl_head + self->bl_len) % self->bl_cap] = (Ask){domain, part, qtype};
    self->bl_len++;
    return 0;
}

static int flush_out(Lane *self);

/* The wire form of the name a part asks now: the end of its chain, else its own name. */
static const uint8_t *asked_wire(const Domain *d, int part, int *len) {
    const Chase *ch = d->chase[part - 1];
    if (ch) {
        *len = ch->wire_len;
        return ch->wire;
    }
    *len = part == PART_BARE ? d->wire_len : d->wwwwire_len;
    return part == PART_BARE ? d->wire : d->wwwwire;
}

/* Questions from the backlog into the outbox while the window has room. */
static int start_waiting(Lane *self) {
    while (self->bl_len && self->in_flight < self->window) {
        if (self->n_out == BATCH && flush_out(self) < 0)
            return -1;
        if (self->n_out == BATCH)
            return 0; /* the socket is full: the next read or tick goes on */
        Ask ask = self->backlog[self->bl_head];
        self->bl_head = (self->bl_head + 1) % self->bl_cap;
        self->bl_len--;
        Domain *d = &self->domains[ask.domain];
        uint16_t qid = next_id(self);
        while (self->slots[qid].domain >= 0)
            qid = next_id(self);
        Slot *slot = &self->slots[qid];
        slot->domain = ask.domain;
        slot->part = ask.part;
        slot->qtype = ask.qtype;
        slot->gen = ++self->gen;
        self->in_flight++;
        if (self->exp_len == self->exp_cap &&
            ring_grow((void **)&self->expiries, sizeof(Expiry), &self->exp_head, self->exp_len,
                      &self->exp_cap) < 0)
            return -1;
        self->expiries[(self->exp_head + self->exp_len) % self->exp_cap] =
            (Expiry){qid, slot->gen, now_mono() + self->timeout};
        self->exp_len++;
        /* dnswire.encode_query: RD, one question, an OPT with payload 1232 */
        uint8_t *q = self->out[self->n_out];
        int wlen;
        const uint8_t *wire = asked_wire(d, ask.part, &wlen);
        static const uint8_t opt[] = {0, 0, 0x29, 0x04, 0xd0, 0, 0, 0, 0, 0, 0};
        uint8_t head[12] = {qid >> 8, qid & 0xFF, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1};
        memcpy(q, head, 12);
        memcpy(q + 12, wire, wlen);
        q[12 + wlen] = 0;
        q[13 + wlen] = (uint8_t)ask.qtype;
        q[14 + wlen] = 0;
        q[15 + wlen] = 1;
        memcpy(q + 16 + wlen, opt, sizeof opt);
        self->out_len[self->n_out] = 16 + wlen + (int)sizeof opt;
        self->out_ask[self->n_out] = ask;
        self->n_out++;
    }
    return 0;
}

static void free_slot(Lane *self, uint16_t qid) {
    self->slots[qid].domain = -1;
    self->in_flight--;
}

/* A question that will not be asked here after all: its part goes to Python. */
static int punt_query(Lane *self, uint16_t qid) {
    Slot s = self->slots[qid];
    free_slot(self, qid);
    return part_settled(self, s.domain, s.part, 1);
}

/* Take a question out of the outbox (not sent yet); 1 if it was there. */
static int drop_from_outbox(Lane *self, uint16_t qid) {
    for (int i = 0; i < self->n_out; i++) {
        if ((self->out[i][0] << 8 | self->out[i][1]) != qid)
            continue;
        int rest = self->n_out - i - 1;
        memmove(self->out[i], self->out[i + 1], (size_t)rest * QUERY_MAX);
        memmove(self->out_len + i, self->out_len + i + 1, (size_t)rest * sizeof(int));
        memmove(self->out_ask + i, self->out_ask + i + 1, (size_t)rest * sizeof(Ask));
        self->n_out--;
        return 1;
    }
    return 0;
}

static int flush_out(Lane *self) {
    int at = 0;
    while (at < self->n_out) {
        struct mmsghdr msgs[BATCH];
        struct iovec iov[BATCH];
        int count = self->n_out - at;
        for (int i = 0; i < count; i++) {
            iov[i].iov_base = self->out[at + i];
            iov[i].iov_len = (size_t)self->out_len[at + i];
            memset(&msgs[i], 0, sizeof msgs[i]);
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        int sent = sendmmsg(self->fd, msgs, (unsigned)count, 0);
        if (sent < 0) {
            if (errno == EAGAIN || errno == ENOBUFS || errno == EINTR)
                break; /* kept in the outbox for the next flush; the deadline still runs */
            /* the first datagram failed for good (no route, a refusal): Python asks it */
            uint8_t *q = self->out[at];
            uint16_t qid = (uint16_t)(q[0] << 8 | q[1]);
            if (punt_query(self, qid) < 0)
                return -1;
            sent = 1;
        }
        self->sent += sent;
        at += sent;
    }
    if (at) {
        memmove(self->out, self->out[at], (size_t)(self->n_out - at) * QUERY_MAX);
        memmove(self->out_len, self->out_len + at, (size_t)(self->n_out - at) * sizeof(int));
        memmove(self->out_ask, self->out_ask + at, (size_t)(self->n_out - at) * sizeof(Ask));
        self->n_out -= at;
    }
    return 0;
}

/* Ask the end of the chain the resolver left unfinished, as resolution._Chase does. */
static int next_hop(Lane *self, int index, int part, int qtype, const Outcome *o) {
    Domain *d = &self->domains[index];
    Chase *ch = d->chase[part - 1];
    if (!ch) {
        ch = d->chase[part - 1] = PyMem_Malloc(sizeof(Chase));
        if (!ch) {
            PyErr_NoMemory();
            return -1;
        }
        ch->hops = 0;
    }
    ch->n_chain = o->n_chain;
    memcpy(ch->chain, o->chain, sizeof ch->chain);
    strcpy(ch->current, o->chain[o->n_chain - 1]);
    ch->wire_len = name_wire(ch->current, ch->wire);
    if (++ch->hops >= MAX_HOPS || ch->wire_len < 0)
        return part_settled(self, index, part, 1); /* too long a chain: Python's error */
    return queue_ask(self, index, part, qtype);
}

/* The part handed back to Python while an exception (the compiler's, or no memory) is
 * on its way out: the domain still comes back. */
static int punt_raising(Lane *self, int index, int part) {
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    if (part_settled(self, index, part, 1) < 0) {
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(tb);
        return -1;
    }
    PyErr_Restore(type, value, tb);
    return -1;
}

/* What the outcome's shape says: its line, nothing, the A of www.D, or a punt. */
static int settle(Lane *self, int index, int part, int qtype, const Outcome *o) {
    Domain *d = &self->domains[index];
    int asking_a = part == PART_WWW && qtype == T_A;
    int id;
    const Shape *s = shape_of(self, part, qtype, o, asking_a ? d->www_shape : -1, &id);
    if (!s)
        return PyErr_Occurred() ? punt_raising(self, index, part)
                                : part_settled(self, index, part, 1);
    if (s->action == ACT_WRITE) {
        if (write_line(self, d, part, s, o) < 0)
            return punt_raising(self, index, part);
        return part_settled(self, index, part, 0);
    }
    if (s->action == ACT_DROP)
        return part_settled(self, index, part, 0);
    if (s->action == ACT_ASK_A && part == PART_WWW && qtype == T_AAAA) {
        d->www_shape = id;
        PyMem_Free(d->chase[1]); /* a fresh look-up of www.D */
        d->chase[1] = NULL;
        return queue_ask(self, index, PART_WWW, T_A);
    }
    return part_settled(self, index, part, 1);
}

static int on_datagram(Lane *self, const uint8_t *w, int n, int truncated) {
    if (n < 12)
        return 0;
    uint16_t qid = (uint16_t)(w[0] << 8 | w[1]);
    Slot *slot = &self->slots[qid];
    if (slot->domain < 0)
        return 0; /* no query of that ID in flight: dropped, as the transport does */
    /* a query still in the outbox has no answer yet: this is someone else's datagram */
    for (int i = 0; i < self->n_out; i++)
        if (self->out[i][0] == w[0] && self->out[i][1] == w[1])
            return 0;
    self->received++;
    Domain *d = &self->domains[slot->domain];
    int part = slot->part, qtype = slot->qtype, index = slot->domain;
    const char *name = part == PART_BARE ? d->name : d->www;
    Chase *ch = d->chase[part - 1];
    const char *asked = ch ? ch->current : name;
    int qwire_len;
    const uint8_t *qwire = asked_wire(d, part, &qwire_len);
    Outcome o;
    int step = truncated ? -1 : read_reply(w, n, qwire, qwire_len, qtype, name, asked, ch, &o);
    if (step < 0)
        return punt_query(self, qid);
    free_slot(self, qid);
    if (step == 1)
        return next_hop(self, index, part, qtype, &o);
    return settle(self, index, part, qtype, &o);
}

/* ---------------------------------------------------------------- Python methods */

/* A table of AddressPolicy.tables(): ((net16, plen), ...). */
static int read_ranges(PyObject *seq, Range **out, Py_ssize_t *count) {
    PyObject *fast = PySequence_Fast(seq, "a sequence of ranges");
    if (!fast)
        return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    if (n > 65534) { /* a row's index + 1 is two octets of a shape's key */
        Py_DECREF(fast);
        PyErr_SetString(PyExc_ValueError, "more than 65,534 prefixes in a table");
        return -1;
    }
    Range *ranges = PyMem_Calloc(n ? (size_t)n : 1, sizeof(Range));
    if (!ranges) {
        Py_DECREF(fast);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        const char *net;
        Py_ssize_t net_len;
        int plen;
        int ok = PyArg_ParseTuple(PySequence_Fast_GET_ITEM(fast, i), "y#i", &net, &net_len, &plen);
        if (!ok || net_len != 16 || plen < 0 || plen > 128) {
            if (ok)
                PyErr_SetString(PyExc_ValueError, "a range needs 16 bytes and a length 0-128");
            PyMem_Free(ranges);
            Py_DECREF(fast);
            return -1;
        }
        memcpy(ranges[i].net, net, 16);
        ranges[i].plen = plen;
    }
    Py_DECREF(fast);
    *out = ranges;
    *count = n;
    return 0;
}

static void free_tables(Lane *self) {
    PyMem_Free(self->special);
    PyMem_Free(self->allow);
    PyMem_Free(self->dns64);
    self->special = self->allow = self->dns64 = NULL;
}

/* Lane(fd, timeout, window, special, allow, dns64, compiler): the tables as
 * AddressPolicy.tables() gives them, the compiler a lane.ShapeCompiler */
static int Lane_init(Lane *self, PyObject *args, PyObject *kwds) {
    static char *kw[] = {"fd", "timeout", "window", "special", "allow", "dns64", "compiler",
                         NULL};
    int fd, window;
    double timeout;
    PyObject *special, *allow, *dns64, *compiler;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "idiOOOO", kw, &fd, &timeout, &window,
                                     &special, &allow, &dns64, &compiler))
        return -1;
    if (self->slots) {
        PyErr_SetString(PyExc_RuntimeError, "a lane is initialised once");
        return -1;
    }
    if (!PyCallable_Check(compiler)) {
        PyErr_SetString(PyExc_TypeError, "the compiler must be callable");
        return -1;
    }
    free_tables(self); /* what an earlier __init__ that failed half-way left */
    self->fd = fd;
    self->timeout = timeout;
    self->window = window < 1 ? 1 : window;
    if (read_ranges(special, &self->special, &self->n_special) < 0 ||
        read_ranges(allow, &self->allow, &self->n_allow) < 0 ||
        read_ranges(dns64, &self->dns64, &self->n_dns64) < 0)
        return -1;
    if (!self->shapes)
        self->shapes = PyMem_Calloc(MAX_SHAPES, sizeof(Shape));
    if (!self->buckets)
        self->buckets = PyMem_Malloc(sizeof(int) * SHAPE_BUCKETS);
    self->slots = PyMem_Malloc(sizeof(Slot) * 65536);
    self->exp_cap = 1024;
    self->expiries = PyMem_Malloc(sizeof(Expiry) * self->exp_cap);
    self->done = PyList_New(0);
    self->punted = PyList_New(0);
    if (!self->slots || !self->expiries || !self->done || !self->punted || !self->shapes ||
        !self->buckets) {
        PyErr_NoMemory();
        return -1;
    }
    for (int i = 0; i < SHAPE_BUCKETS; i++)
        self->buckets[i] = -1;
    for (int i = 0; i < 65536; i++)
        self->slots[i].domain = -1;
    self->free_domain = -1;
    self->ids_at = (int)sizeof self->ids;
    Py_INCREF(compiler);
    self->compiler = compiler;
    return 0;
}

static void Lane_dealloc(Lane *self) {
    for (int i = 0; i < self->n_domains; i++) {
        Py_XDECREF(self->domains[i].token);
        Py_XDECREF(self->domains[i].target);
        Py_XDECREF(self->domains[i].sector);
        PyMem_Free(self->domains[i].chase[0]);
        PyMem_Free(self->domains[i].chase[1]);
    }
    for (int i = 0; i < self->n_shapes; i++)
        free_shape(&self->shapes[i]);
    PyMem_Free(self->shapes);
    PyMem_Free(self->buckets);
    PyMem_Free(self->domains);
    PyMem_Free(self->slots);
    PyMem_Free(self->expiries);
    PyMem_Free(self->backlog);
    PyMem_Free(self->lines.data);
    free_tables(self);
    Py_XDECREF(self->compiler);
    Py_XDECREF(self->done);
    Py_XDECREF(self->punted);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Every method but the counters reads the tables __init__ allocates: a Lane made by
 * Lane.__new__ alone, or whose __init__ failed, raises instead of touching NULL. */
static int lane_ready(Lane *self) {
    if (self->slots && self->expiries && self->done && self->punted && self->compiler)
        return 1;
    PyErr_SetString(PyExc_RuntimeError, "the lane is not initialised (Lane.__init__)");
    return 0;
}

/* add(token, name, www, target, sector) -> bool: False when the lane cannot ask these
 * names as they are (the caller's general path takes the domain whole). `target` and
 * `sector` are bytes: the insides of their JSON strings (lane.target_fields). */
static PyObject *Lane_add(Lane *self, PyObject *args) {
    PyObject *token, *target, *sector;
    const char *name, *www;
    if (!lane_ready(self) ||
        !PyArg_ParseTuple(args, "OszSS", &token, &name, &www, &target, &sector))
        return NULL;
    uint8_t wire[MAX_NAME], wwwwire[MAX_NAME];
    int wire_len = name_wire(name, wire), wwwwire_len = 0;
    if (wire_len < 0)
        Py_RETURN_FALSE;
    if (www && (wwwwire_len = name_wire(www, wwwwire)) < 0)
        Py_RETURN_FALSE;
    int index = self->free_domain;
    if (index >= 0) {
        self->free_domain = self->domains[index].next_free;
    } else {
        if (self->n_domains == self->cap_domains) {
            int cap = self->cap_domains ? self->cap_domains * 2 : 256;
            Domain *grown = PyMem_Realloc(self->domains, sizeof(Domain) * cap);
            if (!grown)
                return PyErr_NoMemory();
            self->domains = grown;
            self->cap_domains = cap;
        }
        index = self->n_domains++;
    }
    Domain *d = &self->domains[index];
    Py_INCREF(token);
    Py_INCREF(target);
    Py_INCREF(sector);
    d->token = token;
    d->target = target;
    d->sector = sector;
    strcpy(d->name, name);
    memcpy(d->wire, wire, wire_len);
    d->wire_len = wire_len;
    d->www[0] = 0;
    if (www) {
        strcpy(d->www, www);
        memcpy(d->wwwwire, wwwwire, wwwwire_len);
    }
    d->wwwwire_len = wwwwire_len;
    d->started = now_mono();
    d->left = www ? 2 : 1;
    d->punt = 0;
    d->www_shape = -1;
    d->chase[0] = d->chase[1] = NULL;
    if (queue_ask(self, index, PART_BARE, T_AAAA) < 0 ||
        (www && queue_ask(self, index, PART_WWW, T_AAAA) < 0))
        return NULL;
    Py_RETURN_TRUE;
}

/* send what waits, as far as the window allows */
static PyObject *Lane_flush(Lane *self, PyObject *unused) {
    if (!lane_ready(self))
        return NULL;
    if (start_waiting(self) < 0 || flush_out(self) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* read the datagrams waiting on the socket (16 batches at most: the loop gets its turn) */
static PyObject *Lane_read(Lane *self, PyObject *unused) {
    if (!lane_ready(self))
        return NULL;
    static uint8_t bufs[BATCH][DGRAM];
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    for (int round = 0; round < 16; round++) {
        for (int i = 0; i < BATCH; i++) {
            iov[i].iov_base = bufs[i];
            iov[i].iov_len = DGRAM;
            memset(&msgs[i], 0, sizeof msgs[i]);
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        int got = recvmmsg(self->fd, msgs, BATCH, MSG_DONTWAIT, NULL);
        if (got < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                break;
            /* a queued ICMP error, not tied to one query: Python asks them all again */
            self->n_out = 0; /* those have slots too: punted below with the rest */
            for (int qid = 0; qid < 65536; qid++)
                if (self->slots[qid].domain >= 0 && punt_query(self, (uint16_t)qid) < 0)
                    return NULL;
            break;
        }
        for (int i = 0; i < got; i++) {
            int truncated = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
#ifdef LANE_EXACT_DATAGRAMS
            /* sanitizer builds (tests/fuzz/lane_fuzz.py): each datagram in a heap block of
             * its own length, so that a read past its end is caught, not served from bufs */
            size_t len = msgs[i].msg_len;
            uint8_t *exact = malloc(len ? len : 1);
            if (!exact)
                return PyErr_NoMemory();
            memcpy(exact, bufs[i], len);
            int rc = on_datagram(self, exact, (int)len, truncated);
            free(exact);
            if (rc < 0)
                return NULL;
#else
            if (on_datagram(self, bufs[i], (int)msgs[i].msg_len, truncated) < 0)
                return NULL;
#endif
        }
        if (got < BATCH)
            break;
    }
    if (start_waiting(self) < 0 || flush_out(self) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* hand every query past its deadline to Python; the next deadline, or None */
static PyObject *Lane_expire(Lane *self, PyObject *unused) {
    if (!lane_ready(self))
        return NULL;
    double now = now_mono();
    while (self->exp_len) {
        Expiry *e = &self->expiries[self->exp_head];
        Slot *slot = &self->slots[e->qid];
        if (slot->domain < 0 || slot->gen != e->gen) { /* answered or punted already */
            self->exp_head = (self->exp_head + 1) % self->exp_cap;
            self->exp_len--;
            continue;
        }
        if (e->deadline > now)
            break;
        uint16_t qid = e->qid;
        self->exp_head = (self->exp_head + 1) % self->exp_cap;
        self->exp_len--;
        drop_from_outbox(self, qid); /* never sent (the socket stayed full): Python asks */
        self->expired++;
        if (punt_query(self, qid) < 0)
            return NULL;
    }
    if (start_waiting(self) < 0 || flush_out(self) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* take() -> (lines, done tokens, [(token, parts, started)], (pass, warn, fail, error)) */
static PyObject *Lane_take(Lane *self, PyObject *unused) {
    if (!lane_ready(self))
        return NULL;
    PyObject *lines = PyBytes_FromStringAndSize(self->lines.data, (Py_ssize_t)self->lines.len);
    PyObject *done = PyList_New(0), *punted = PyList_New(0);
    if (!lines || !done || !punted) {
        Py_XDECREF(lines);
        Py_XDECREF(done);
        Py_XDECREF(punted);
        return NULL;
    }
    self->lines.len = 0;
    PyObject *result =
        Py_BuildValue("(NNN(llll))", lines, self->done, self->punted, self->counts[0],
                      self->counts[1], self->counts[2], self->counts[3]);
    if (!result) {
        Py_DECREF(done);
        Py_DECREF(punted);
        return NULL;
    }
    self->done = done;
    self->punted = punted;
    memset(self->counts, 0, sizeof self->counts);
    return result;
}

static PyObject *Lane_busy(Lane *self, void *unused) {
    return PyLong_FromLong((long)(self->in_flight + self->bl_len + self->n_out));
}

static PyObject *Lane_sent(Lane *self, void *unused) { return PyLong_FromLong(self->sent); }

static PyObject *Lane_received(Lane *self, void *unused) {
    return PyLong_FromLong(self->received);
}

static PyObject *Lane_expired(Lane *self, void *unused) { return PyLong_FromLong(self->expired); }

static PyMethodDef Lane_methods[] = {
    {"add", (PyCFunction)Lane_add, METH_VARARGS, "Start a domain: AAAA D and AAAA www.D."},
    {"flush", (PyCFunction)Lane_flush, METH_NOARGS, "Send the questions waiting."},
    {"read", (PyCFunction)Lane_read, METH_NOARGS, "Read the answers waiting on the socket."},
    {"expire", (PyCFunction)Lane_expire, METH_NOARGS, "Hand timed-out questions to Python."},
    {"take", (PyCFunction)Lane_take, METH_NOARGS, "Lines, finished and punted domains, counts."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Lane_getset[] = {
    {"busy", (getter)Lane_busy, NULL, "questions in flight or waiting", NULL},
    {"sent", (getter)Lane_sent, NULL, "queries sent", NULL},
    {"received", (getter)Lane_received, NULL, "datagrams matched to a query", NULL},
    {"expired", (getter)Lane_expired, NULL, "questions handed back at their deadline", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject LaneType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "ipv6scan.engine._lane.Lane",
    .tp_basicsize = sizeof(Lane),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "dns.aaaa for plain domains on one UDP socket; the rest handed back.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Lane_init,
    .tp_dealloc = (destructor)Lane_dealloc,
    .tp_methods = Lane_methods,
    .tp_getset = Lane_getset,
};

static struct PyModuleDef lane_module = {
    PyModuleDef_HEAD_INIT, "_lane", "The DNS-only bulk path's fast lane (see _lane.c).", -1,
    NULL,
};

PyMODINIT_FUNC PyInit__lane(void) {
    if (PyType_Ready(&LaneType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&lane_module);
    if (!m)
        return NULL;
    Py_INCREF(&LaneType);
    if (PyModule_AddObject(m, "Lane", (PyObject *)&LaneType) < 0) {
        Py_DECREF(&LaneType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
