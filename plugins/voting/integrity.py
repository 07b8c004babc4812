"""The ballot log (R31): a hash chain over every ballot cast, and the recount of an export.

    h0      = SHA-256( canonical(manifest) )
    h_i     = SHA-256( h_{i-1} "\\n" canonical(entry_i) )        (hex digests, UTF-8)
    close   = SHA-256( h_n "\\n" "CLOSE" )
    receipt = the first 10 characters of h_i, upper-case (longer if needed to be unique)

``canonical`` is JSON with sorted keys, no spaces and UTF-8 characters as they are. The latest
entry of each voter tag counts; earlier ones stay in the chain, superseded. Pure code: the
server and `linli ballots recount` use the same functions (docs/ballot-format.md)."""
from __future__ import annotations

import hashlib
import json

from plugins.voting.counting import Spec, area_to_int, count

FORMAT = "linli-ballot/1"
RECEIPT_LEN = 10


def canonical(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def genesis(manifest: dict) -> str:
    return sha(canonical(manifest))


def link(prev: str, entry: dict) -> str:
    return sha(prev.encode() + b"\n" + canonical(entry))


def closing(head: str) -> str:
    return sha(head.encode() + b"\nCLOSE")


def roll_hash(roll: list) -> str:
    """Hash of the published electorate: [{"voter", "heads", "area"}, ...] sorted by voter tag."""
    return sha(canonical(sorted(roll, key=lambda r: r["voter"])))


def receipt_of(h: str, length: int = RECEIPT_LEN) -> str:
    return h[:length].upper()


def entry_payload(seq, voter, choice, heads, area, source, at, rule_source=None, proxy=None) -> dict:
    """The part of a ballot that is hashed (and exported). ``proxy`` (the authorisation's number,
    P1...) is present only on ballots cast by a proxy, so older files hash as before."""
    data = {"seq": seq, "voter": voter, "choice": list(choice) if choice is not None else None,
            "heads": heads, "area": area, "source": source, "at": at}
    if rule_source:
        data["rule_source"] = rule_source
    if proxy:
        data["proxy"] = proxy
    return data


def latest_per_voter(entries):
    """The counted entries: the last (highest seq) entry of each voter tag."""
    latest = {}
    for e in entries:
        cur = latest.get(e["voter"])
        if cur is None or e["seq"] > cur["seq"]:
            latest[e["voter"]] = e
    return sorted(latest.values(), key=lambda e: e["seq"])


def verify(export: dict) -> dict:
    """Check an export's chain: genesis, every link, receipts, the closing hash."""
    problems = []
    manifest = export["manifest"]
    h = genesis(manifest)
    if export.get("genesis_hash") and export["genesis_hash"] != h:
        problems.append("genesis hash does not match the manifest")
    if manifest.get("electorate", {}).get("roll_hash") and export.get("roll") is not None:
        if roll_hash(export["roll"]) != manifest["electorate"]["roll_hash"]:
            problems.append("roll hash does not match the published electorate")
    for i, e in enumerate(sorted(export["entries"], key=lambda x: x["seq"]), start=1):
        if e["seq"] != i:
            problems.append(f"entry {e['seq']}: sequence gap (expected {i})")
        payload = {k: e[k] for k in ("seq", "voter", "choice", "heads", "area", "source", "at")}
        if e.get("rule_source"):
            payload["rule_source"] = e["rule_source"]
        if e.get("proxy"):
            payload["proxy"] = e["proxy"]
        h = link(h, payload)
        if e.get("hash") and e["hash"] != h:
            problems.append(f"entry {e['seq']}: hash does not match")
        if e.get("receipt") and not h.upper().startswith(e["receipt"]):
            problems.append(f"entry {e['seq']}: receipt does not match its hash")
    close = closing(h)
    if export.get("closing_hash") and export["closing_hash"] != close:
        problems.append("closing hash does not match the chain")
    return {"ok": not problems, "problems": problems, "head_hash": h, "closing_hash": close}


def proxy_check(export: dict):
    """What a file says about proxies (None for files without any): every ballot cast by proxy
    names an authorisation of the file for the same voter, and no holder exceeds the limit."""
    proxies = export.get("proxies")
    if not proxies:
        return None
    problems = []
    by_ref = {p["proxy"]: p for p in proxies}
    for e in export["entries"]:
        ref = e.get("proxy")
        if ref is None:
            continue
        p = by_ref.get(ref)
        if p is None:
            problems.append(f"entry {e['seq']}: unknown proxy {ref}")
        elif p.get("voter") is not None and p["voter"] != e["voter"]:
            problems.append(f"entry {e['seq']}: proxy {ref} is for {p['voter']}, not {e['voter']}")
    limit = export["manifest"].get("proxy_limit")
    if limit:
        held = {}
        for p in proxies:
            if p.get("revoked_at") is None:
                held[p["holder"]] = held.get(p["holder"], 0) + 1
        for holder, n in sorted(held.items()):
            if n > limit:
                problems.append(f"holder {holder}: {n} proxies in force, more than the limit of {limit}")
    return {"ok": not problems, "problems": problems, "count": len(proxies)}


def counted_ballots(entries):
    """(choice, heads, area) for counting, from the latest entry per voter."""
    out = []
    for e in latest_per_voter(entries):
        choice = tuple(e["choice"]) if e["choice"] is not None else None
        out.append((choice, int(e["heads"]), area_to_int(e["area"])))
    return out


def recount(export: dict) -> dict:
    """Recompute a closed ballot's result from its export alone (the same code as the server)."""
    if export.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} file")
    chain = verify(export)
    proxies = proxy_check(export)
    if proxies is not None:
        chain = {**chain, "proxies": proxies}
    spec = Spec.from_manifest(export["manifest"])
    result = count(spec, counted_ballots(export["entries"]))
    stored = export.get("result")
    return {"ballot": export["manifest"].get("ballot"), "title": export["manifest"].get("title"),
            "chain": chain, "result": result,
            "matches_published_result": (stored == result) if stored is not None else None}
