"""Judgement of web.parity: do IPv6 and IPv4 serve the same site?

Pure: observation in, Verdict out. Per port served on both families: the final status,
the final URL and the body's similarity (internet.nl's same-site test); the threshold is
the scan's (CheckOptions.parity_threshold).
"""

from __future__ import annotations

from typing import Any

from ipv6scan.checks import web_evidence as ev
from ipv6scan.checks.options import DEFAULT_OPTIONS, CheckOptions
from ipv6scan.checks.web_tries import with_chain_tries
from ipv6scan.messages import Detail, message
from ipv6scan.model import Status, Verdict
from ipv6scan.observations.web import ParityObservation, ParityPort
from ipv6scan.similarity import similarity

WAF_STATUSES = (403, 429)

NO_COMMON_PORT = message("web.parity.no_common_port", "No port is served over both IPv6 and IPv4.")
STATUS_DIFFERS = message(
    "web.parity.status_differs", "status %(v6)s over IPv6 but %(v4)s over IPv4"
)
STATUS_DIFFERS_WAF = message(
    "web.parity.status_differs_waf",
    "status %(v6)s over IPv6 but %(v4)s over IPv4 (likely a firewall or rate limit on one family)",
)
URL_DIFFERS = message("web.parity.url_differs", "final URL %(v6)s over IPv6 but %(v4)s over IPv4")
BODY_DIFFERS = message(
    "web.parity.body_differs", "body similarity %(similarity)s below %(threshold)s"
)
# a port's differences, "; "-joined (flat: a report renders a few levels of nesting only)
PORT_DIFFERS = (
    message("web.parity.port_differs_1", "port %(port)s: %(a)s"),
    message("web.parity.port_differs_2", "port %(port)s: %(a)s; %(b)s"),
    message("web.parity.port_differs_3", "port %(port)s: %(a)s; %(b)s; %(c)s"),
)
TWO_PORTS = message("web.parity.two_ports", "%(a)s / %(b)s")
DIFFERENT = message(
    "web.parity.different", "IPv6 and IPv4 serve different content: %(differences)s."
)
DIFFERENT_CERTS = message(
    "web.parity.different_certs",
    "IPv6 and IPv4 serve different content: %(differences)s "
    "(different certificates on port %(ports)s).",
)
PARITY_UNDECIDED = message("web.parity.undecided", "Could not fetch both sides to compare them.")
NO_COMMON_RESPONSE = message(
    "web.parity.no_common_response", "No port gave a response over both IPv6 and IPv4."
)
# the similarities vary with a page's dynamic parts from run to run: measured
SAME = message(
    "web.parity.same",
    "IPv6 and IPv4 serve the same site (similarity by port %(similarity)s).",
    measured=("similarity",),
)
SAME_CERTS = message(
    "web.parity.same_certs",
    "IPv6 and IPv4 serve the same site (similarity by port %(similarity)s) "
    "(different certificates on port %(ports)s).",
    measured=("similarity",),
)


def judge_parity(obs: ParityObservation, options: CheckOptions = DEFAULT_OPTIONS) -> Verdict:
    site = obs.site
    if (early := ev.preconditions(site, ipv4=True)) is not None:
        return early
    chains = [c for pair in obs.ports for c in (pair.v6, pair.v4)]
    return with_chain_tries(_parity(obs, options.parity_threshold), chains, chains)


def _compare(
    pair: ParityPort, threshold: float
) -> tuple[dict[str, Any], float | None, Detail | None]:
    """One port's evidence row, the similarity of its two sides (None: not both
    answered), and how they differ (None: they do not)."""
    row: dict[str, Any] = {"port": pair.port, "ipv6": ev.chain(pair.v6), "ipv4": ev.chain(pair.v4)}
    f6, f4 = pair.v6.final, pair.v4.final
    if f6 is None or f4 is None:
        row["compared"] = False
        return row, None, None
    sim = similarity(f6.fingerprint, f4.fingerprint)
    row.update(
        compared=True,
        similarity=round(sim, 3),
        same_status=f6.status == f4.status,
        same_final_url=f6.url == f4.url,
    )
    c6, c4 = pair.v6.hops[0].certificate, pair.v4.hops[0].certificate
    if c6 is not None and c4 is not None:
        row["same_certificate"] = c6.sha256 == c4.sha256
    what: list[Detail] = []
    if f6.status != f4.status:
        # internet.nl #198: a WAF's rate limit on one family looks like other content
        waf = (f6.status in WAF_STATUSES) != (f4.status in WAF_STATUSES)
        row["waf_suspected"] = waf
        what.append(
            (STATUS_DIFFERS_WAF if waf else STATUS_DIFFERS)(v6=str(f6.status), v4=str(f4.status))
        )
    if f6.url != f4.url:
        what.append(URL_DIFFERS(v6=ev.cut(f6.url, 100) or "", v4=ev.cut(f4.url, 100) or ""))
    if sim < threshold:
        what.append(BODY_DIFFERS(similarity=f"{sim:.2f}", threshold=f"{threshold:g}"))
    if not what:
        return row, sim, None
    pieces = dict(zip("abc", what, strict=False))
    return row, sim, PORT_DIFFERS[len(what) - 1](port=pair.port, **pieces)


def _joined_ports(differences: list[Detail]) -> Detail:
    """The ports' differences, " / "-joined (two at most: 80 and 443, or a URL's port)."""
    if len(differences) == 1:
        return differences[0]
    return TWO_PORTS(a=differences[0], b=_joined_ports(differences[1:]))


def _parity(obs: ParityObservation, threshold: float) -> Verdict:
    evidence: dict[str, Any] = {**ev.site(obs.site), "threshold": threshold, "ports": []}
    if not obs.ports:
        return Verdict(Status.SKIP, NO_COMMON_PORT(), evidence)
    differences: list[Detail] = []
    compared: list[str] = []
    undecided = False
    for pair in obs.ports:
        row, sim, difference = _compare(pair, threshold)
        evidence["ports"].append(row)
        if sim is None:
            undecided |= pair.v6.undecided or pair.v4.undecided
            continue
        compared.append(f"{pair.port}: {sim:.2f}")
        if difference is not None:
            differences.append(difference)
    certs = [r["port"] for r in evidence["ports"] if r.get("same_certificate") is False]
    if differences:
        joined = _joined_ports(differences)
        detail = (
            DIFFERENT_CERTS(differences=joined, ports=certs)
            if certs
            else DIFFERENT(differences=joined)
        )
        return Verdict(Status.FAIL, detail, evidence)
    if not compared:
        if undecided:
            return Verdict(Status.ERROR, PARITY_UNDECIDED(), evidence)
        return Verdict(Status.SKIP, NO_COMMON_RESPONSE(), evidence)
    detail = SAME_CERTS(similarity=compared, ports=certs) if certs else SAME(similarity=compared)
    return Verdict(Status.PASS, detail, evidence)
