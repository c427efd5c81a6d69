"""Fuzzing the DNS decoders: the fast lane (engine/_lane.c) under ASan and UBSan, and dnswire.

The lane is compiled again, into a directory of its own, with
`-fsanitize=address,undefined` and LANE_EXACT_DATAGRAMS (each datagram in a heap block of
its own length, so that a read past its end is a report rather than a read of the batch
buffer). A child Python process loads that build (libasan preloaded: Python itself is
not instrumented) and drives it exactly as the bulk path does: the lane
asks over a UDP socket on 127.0.0.1, and the fuzzer answers every question with a reply
built from a seed shape (AAAA, A, CNAME chains, NXDOMAIN, NODATA, OPT, 15-18 hop pointer
chains, random bytes) and then mutated: compression loops, counts past the end, huge or
short RDLENGTH, labels of 63 octets and more, names past 255, flips, cuts, splices.

What fails a run: any sanitizer report or crash of the child; a result line that is not
one valid JSON object of the contract's shape; a line the lane wrote from a reply that
dnswire does not read to the same rcode and addresses (the lane accepted what the Python
path would not); a domain the lane finishes twice, or never (every token comes back, done
or handed back); and dnswire.parse_reply disagreeing with dnspython on a sampled reply
(the oracle of tests/unit/test_fastdns_property.py).

The inputs of the round that was being read are kept in a memory-mapped file, which
outlives a crash; the parent copies them into the crash directory (query-N.bin and
reply-N.bin pairs), and `--replay DIR` feeds them to a fresh lane again.

    python -m tests.fuzz.lane_fuzz --seconds 1800 [--seed N] [--jobs 2] [--crash-dir DIR]

tests/fuzz/test_lane_fuzz.py runs it for a bounded time in CI; scripts/fuzz-lane.sh runs
it for longer. sanitized.py builds the lane; replies.py makes the replies.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import mmap
import random
import socket
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.fuzz.replies import build_reply, labels_of, mutate, random_labels
from tests.fuzz.sanitized import ROOT, SANITIZER_MARKS, build_lane, child_env, load_lane

TIMEOUT = 0.05  # s a question waits in the lane before it is handed back
WINDOW = 256  # questions in flight
DOMAINS_IN_FLIGHT = 160
ROUND_MAX = 200  # replies a round (one lane.read()) at most
RING = 4 << 20  # the memory-mapped record of the round being read
NAMES_KEPT = 50_000  # names whose replies are kept for the lines' check (a few MB)
REPLIES_KEPT = 256  # replies kept a name: a short random name comes back often


# --- the child: the loop ----------------------------------------------------------------------


EXPECTED_KEYS = ["target", "sector", "tier", "subject", "check", "status", "detail", "detail_key",
                 "detail_params", "evidence", "duration_ms"]  # fmt: skip


class Finding(AssertionError):
    """Something other than memory safety went wrong: a bad line, a lost domain, a mismatch."""


def _check_lines(blob: bytes, names: set[str]) -> list[dict[str, Any]]:
    if not blob:
        return []
    if not blob.endswith(b"\n"):
        raise Finding(f"a partial line: {blob[-200:]!r}")
    records = []
    for line in blob.decode("utf-8").split("\n")[:-1]:
        record = json.loads(line)
        if not isinstance(record, dict) or list(record) != EXPECTED_KEYS:
            raise Finding(f"not a result line: {line!r}")
        if record["check"] != "dns.aaaa" or record["status"] not in ("pass", "warn", "fail"):
            raise Finding(f"bad check or status: {line!r}")
        if record["subject"] not in names:
            raise Finding(f"a subject never added: {line!r}")
        records.append(record)
    return records


def _qname(query: bytes) -> str:
    end = query.index(b"\x00", 12) + 1
    return ".".join(x.decode("latin-1") for x in labels_of(query[12:end])).lower()


class Ring:
    """The inputs of the round being read, in a file that outlives a crash of this process."""

    def __init__(self, path: Path) -> None:
        with open(path, "wb") as f:
            f.truncate(RING)
        self.file = open(path, "r+b")  # noqa: SIM115 (kept open for the mmap)
        self.map = mmap.mmap(self.file.fileno(), RING)

    def record(self, pairs: list[tuple[bytes, bytes]]) -> None:
        out = bytearray(struct.pack("!I", 0))
        kept = 0
        for query, reply in pairs:
            item = struct.pack("!I", len(query)) + query + struct.pack("!I", len(reply)) + reply
            if len(out) + len(item) > RING:
                break
            out += item
            kept += 1
        struct.pack_into("!I", out, 0, kept)
        self.map[: len(out)] = out


def read_ring(path: Path) -> list[tuple[bytes, bytes]]:
    data = path.read_bytes()
    (count,) = struct.unpack_from("!I", data, 0)
    pos, pairs = 4, []
    for _ in range(count):
        (n,) = struct.unpack_from("!I", data, pos)
        query = data[pos + 4 : pos + 4 + n]
        pos += 4 + n
        (n,) = struct.unpack_from("!I", data, pos)
        pairs.append((query, data[pos + 4 : pos + 4 + n]))
        pos += 4 + n
    return pairs


def _sockets() -> tuple[socket.socket, socket.socket]:
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    client.bind(("127.0.0.1", 0))
    client.connect(server.getsockname())
    server.connect(client.getsockname())
    for sock in (server, client):
        sock.setblocking(False)
    return server, client


def _new_lane(lane_type: Any, client: socket.socket) -> Any:
    """The lane as lane.new_lane() makes it, with a policy that allows and synthesizes."""
    from ipv6scan.addresses import AddressPolicy
    from ipv6scan.context import Limits, ScanContext
    from ipv6scan.engine.lane import ShapeCompiler
    from ipv6scan.observations.dns import Connectivity

    policy = AddressPolicy(allow=("2001:db8::/32",)).with_dns64(["64:ff9b::/96"])
    ctx = ScanContext(resolver=None, transport=None, policy=policy,  # type: ignore[arg-type]
                      connectivity=Connectivity(True, True), limits=Limits(64, 8),
                      timeout=TIMEOUT)  # fmt: skip
    tables = policy.tables()
    compiler = ShapeCompiler(ctx, "127.0.0.1")
    return lane_type(client.fileno(), TIMEOUT, WINDOW, tables.special, tables.allow,
                     tables.dns64, compiler)  # fmt: skip


def _queries(server: socket.socket) -> list[bytes]:
    out = []
    while True:
        try:
            out.append(server.recv(65535))
        except BlockingIOError:
            return out


class Fuzz:
    def __init__(self, lane_path: Path, seed: int, ring: Path, compare_every: int) -> None:
        from ipv6scan.dnsclient import wire as dnswire
        from tests.unit.test_fastdns_property import COMPILED, SOURCE

        self.rng = random.Random(seed)
        self.lane_type = load_lane(lane_path)
        self.server, self.client = _sockets()
        self.lane = _new_lane(self.lane_type, self.client)
        self.ring = Ring(ring)
        self.fields = (b"fuzz target", b"enterprise")  # lane.target_fields's form
        self.dnswire = SOURCE  # dnswire.py itself, as the property test loads it
        # and mypyc's build of it, where the install has one (as CI's does)
        self.decoders = [SOURCE, dnswire] if COMPILED else [SOURCE]
        self.compare_every = compare_every
        self.outstanding: dict[int, str] = {}
        self.names: set[str] = set()
        self.next_token = 0
        self.stats = {"replies": 0, "lines": 0, "done": 0, "punted": 0, "compared": 0, "added": 0}
        self.last_reply = b""
        # (query, reply) pairs by the name asked, the most recent names kept: a domain's
        # line may come rounds after its reply (its other part waited for its deadline)
        self.replies: collections.OrderedDict[str, list[tuple[bytes, bytes]]] = (
            collections.OrderedDict()
        )

    def add_domains(self) -> None:
        while len(self.outstanding) < DOMAINS_IN_FLIGHT:
            labels = [x.decode("latin-1") for x in random_labels(self.rng)[:-2]]
            if self.rng.random() < 0.05:  # names the lane declines: upper case, escapes, long
                labels[0] = self.rng.choice(["UP", "a b", "a\\.b", "é", "x" * 64, "a." * 130])
            name = ".".join(labels).replace("\0", "") + ".fuzz.test"
            www = "www." + name if self.rng.random() < 0.7 else None
            token = self.next_token
            self.next_token += 1
            if self.lane.add(token, name, www, *self.fields):
                self.outstanding[token] = name
                self.names.update([name, www] if www else [name])
                self.stats["added"] += 1

    def answer(self) -> None:
        pairs = []
        for query in _queries(self.server)[:ROUND_MAX]:
            if self.rng.random() < 0.05:
                continue  # no answer: the lane's deadline hands it back
            # a chain the lane chases mostly gets clean replies, so that some reach its cap
            mutating = 0.1 if query[12:16] == b"\x03hop" else 0.7
            for _ in range(2 if self.rng.random() < 0.05 else 1):
                wire = build_reply(self.rng, query)
                if self.rng.random() < mutating:
                    reply = mutate(self.rng, wire, self.last_reply)
                else:
                    reply = bytes(wire.data)
                self.last_reply = reply
                pairs.append((query, reply))
        self.ring.record(pairs)
        for query, reply in pairs:
            self.remember(query, reply)
        for _, reply in pairs:
            with contextlib.suppress(BlockingIOError):  # full: that question times out
                self.server.send(reply)
        self.stats["replies"] += len(pairs)
        for i, (_, reply) in enumerate(pairs):
            if (self.stats["replies"] + i) % self.compare_every == 0:
                self.compare(reply)

    def compare(self, reply: bytes) -> None:
        from tests.unit.test_fastdns_property import dnspython_outcome, fast_outcome

        slow = dnspython_outcome(reply)
        for decoder in self.decoders:
            try:
                fast = fast_outcome(decoder, reply)
            except Exception as exc:  # parse_reply may raise only its two exceptions
                raise Finding(f"{decoder.__file__} raised {exc!r} on {reply.hex()}") from exc
            if fast != slow:
                raise Finding(
                    f"{decoder.__file__}: {fast!r} != dnspython {slow!r} on {reply.hex()}"
                )
        self.stats["compared"] += 1

    def remember(self, query: bytes, reply: bytes) -> None:
        name = _qname(query)
        kept = self.replies.get(name)
        if kept is None:
            kept = self.replies[name] = []
            if len(self.replies) > NAMES_KEPT:
                self.replies.popitem(last=False)  # the name answered longest ago
        else:
            self.replies.move_to_end(name)  # a name asked again: kept as the newest
        kept.append((query, reply))
        del kept[:-REPLIES_KEPT]

    def read_as_dnswire_does(self, record: dict[str, Any]) -> None:
        """A line the lane wrote itself comes from a reply to one of its names that
        dnswire reads too: the same rcode, and every address in the line an AAAA record
        of the chain's end in it. The lane must never accept a reply the Python path would
        refuse."""
        chain = record["evidence"].get("cname_chain", [])
        end = chain[-1] if chain else record["subject"]
        asked = {record["subject"], *chain}
        addresses = {a["address"] for a in record["evidence"]["addresses"]}
        pairs = [pair for name in asked for pair in self.replies.get(name, ())]
        for _query, reply in pairs:
            try:
                got = self.dnswire.parse_reply(reply)
            except (self.dnswire.Malformed, self.dnswire.Truncated):
                continue
            found = {rr.data for rr in got.answers if rr.rdtype == "AAAA" and rr.name == end}
            if got.rcode == record["evidence"]["rcode"] and addresses <= found:
                return
        replies = [r.hex() for _q, r in pairs]
        raise Finding(f"the lane wrote {record} from no reply dnswire reads so: {replies}")

    def take(self) -> None:
        lines, done, punted, _counts = self.lane.take()
        records = _check_lines(lines, self.names)
        self.stats["lines"] += len(records)
        for record in records:
            self.read_as_dnswire_does(record)
        for token in [*done, *(p[0] for p in punted)]:
            if self.outstanding.pop(token, None) is None:
                raise Finding(f"domain {token} finished twice, or never added")
        self.stats["done"] += len(done)
        self.stats["punted"] += len(punted)

    def run(self, seconds: float) -> dict[str, int]:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.add_domains()
            self.lane.flush()
            self.answer()
            self.lane.read()
            self.lane.expire()
            self.take()
        # nothing lost: every domain comes back, answered or at its deadline
        drain = time.monotonic() + 5 + 20 * TIMEOUT
        while self.outstanding and time.monotonic() < drain:
            _queries(self.server)
            time.sleep(TIMEOUT / 2)
            self.lane.read()
            self.lane.expire()
            self.take()
        if self.outstanding:
            raise Finding(f"{len(self.outstanding)} domains never came back: {self.outstanding}")
        return self.stats


def read_saved(crash_dir: Path) -> list[tuple[bytes, bytes]]:
    count = len(list(crash_dir.glob("query-*.bin")))
    return [((crash_dir / f"query-{i}.bin").read_bytes(),
             (crash_dir / f"reply-{i}.bin").read_bytes()) for i in range(count)]  # fmt: skip


def replay(lane_path: Path, pairs: list[tuple[bytes, bytes]]) -> None:
    """Each saved (query, reply) against a fresh lane asking the query's name."""
    lane_type = load_lane(lane_path)
    for query, reply in pairs:
        server, client = _sockets()
        lane = _new_lane(lane_type, client)
        qend = query.index(b"\x00", 12) + 1
        name = ".".join(x.decode("latin-1") for x in labels_of(query[12:qend]))
        lane.add(0, name, None, b"t", b"enterprise")
        lane.flush()
        for asked in _queries(server):
            server.send(asked[:2] + reply[2:])
        lane.read()
        print(lane.take())
        server.close()
        client.close()


# --- the parent: build, run children, collect findings -------------------------------------------


@dataclass
class Outcome:
    ok: bool
    stats: list[dict[str, int]]
    report: str  # the first finding, with where its inputs were saved
    crash_dir: Path | None


def run(seconds: float, seed: int, jobs: int, work: Path, lane_path: Path | None = None,
        compare_every: int = 10) -> Outcome:  # fmt: skip
    lane_path = lane_path or build_lane(work / "asan")
    children = []
    for job in range(jobs):
        ring = work / f"ring-{job}.bin"
        cmd = [sys.executable, "-m", "tests.fuzz.lane_fuzz", "--child", str(lane_path),
               "--seconds", str(seconds), "--seed", str(seed + job), "--ring", str(ring),
               "--compare-every", str(compare_every)]  # fmt: skip
        out = open(work / f"child-{job}.out", "w+")  # noqa: SIM115 (closed below)
        err = open(work / f"child-{job}.err", "w+")  # noqa: SIM115
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=child_env(), cwd=ROOT)
        children.append((job, proc, out, err, ring))
    stats, report, crash_dir = [], "", None
    for job, proc, out, err, ring in children:
        try:
            code = proc.wait(timeout=seconds + 120)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
        out.close()
        err.close()
        last = stdout.strip().splitlines()[-1:] if stdout.strip() else []
        if code == 0 and last and not any(mark in stderr for mark in SANITIZER_MARKS):
            stats.append(json.loads(last[0]))
            continue
        if crash_dir is None:
            crash_dir = work / f"crash-seed{seed + job}"
            crash_dir.mkdir(parents=True, exist_ok=True)
            (crash_dir / "stderr.txt").write_text(stderr)
            for i, (query, reply) in enumerate(read_ring(ring) if ring.exists() else []):
                (crash_dir / f"query-{i}.bin").write_bytes(query)
                (crash_dir / f"reply-{i}.bin").write_bytes(reply)
            report = (f"child {job} (seed {seed + job}) exited {code}; the round's inputs are "
                      f"in {crash_dir}\n{stderr[-6000:]}")  # fmt: skip
    return Outcome(crash_dir is None, stats, report, crash_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--crash-dir", type=Path, default=None)
    parser.add_argument("--compare-every", type=int, default=10)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--ring", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--replay", type=Path, help="a crash directory to feed again")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    if args.child and args.replay:
        replay(args.child, read_saved(args.replay))
        return 0
    if args.child:
        stats = Fuzz(args.child, seed, args.ring, args.compare_every).run(args.seconds)
        print(json.dumps(stats), flush=True)
        return 0
    work = args.crash_dir or Path(tempfile.mkdtemp(prefix="lane-fuzz-"))
    lane = build_lane(work / "asan")
    if args.replay:
        cmd = [sys.executable, "-m", "tests.fuzz.lane_fuzz", "--child", str(lane),
               "--replay", str(args.replay)]  # fmt: skip
        return subprocess.run(cmd, env=child_env(), cwd=ROOT, check=False).returncode
    print(f"lane fuzz: seed {seed}, {args.jobs} job(s), {args.seconds:g} s, in {work}", flush=True)
    outcome = run(args.seconds, seed, args.jobs, work, lane, args.compare_every)
    for stats in outcome.stats:
        print(json.dumps(stats))
    if not outcome.ok:
        print(outcome.report, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
