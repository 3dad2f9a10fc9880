"""`scan --format json`: the iamscope.scan/v1 document of DESIGN.md §3. Fields may be added, never
renamed or removed; everything is sorted so the same input gives the same bytes."""

from __future__ import annotations

import json
from array import array
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterator
from itertools import accumulate
from json.encoder import encode_basestring_ascii as _string
from operator import itemgetter
from typing import Any

from iamscope.access import Grant, RoleAccess
from iamscope.arnlists import is_pattern
from iamscope.assess import ServiceAccountView
from iamscope.findings import SEVERITIES, Finding
from iamscope.gcpause import paused_gc
from iamscope.model import Location
from iamscope.policy.evaluate import StatementRef, evidence
from iamscope.scan import ScanResult

SCHEMA = "iamscope.scan/v1"


def finding_json(f: Finding) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rule": f.rule,
        "severity": f.severity,
        "subject": f.subject,
        "service_account": f.service_account,
        "role_arn": f.role_arn,
        "resources": list(f.resources),
        "objects": list(f.objects),
        "message": f.message,
        "evidence": [e.as_evidence() for e in f.evidence],
        "remediation": f.remediation,
        "fingerprint": f.fingerprint,
    }
    if f.patterns:
        out["patterns"] = list(f.patterns)
    if f.location is not None:
        out["location"] = {"file": f.location.file, "line": f.location.line}
    return out


class _Memo:
    """What one document's access entries share, keyed by the ids of objects of the scan result (alive
    for as long as the document is built, so no id is reused meanwhile): the grant entries several
    service accounts hold (the same role's grant, reached the same way), and the statement texts of
    the same action grants (the calculator hands out one ActionGrant per set of statements)."""

    def __init__(self) -> None:
        self.entries: dict[tuple[int, str, str, bool], dict[str, Any]] = {}
        self.statements: dict[tuple[int, tuple[int, ...], int], tuple[bool, list[str]]] = {}
        self.wildcards: dict[int, set[StatementRef]] = {}

    def statement_texts(self, access: RoleAccess, grant: Grant) -> tuple[bool, list[str]]:
        """Whether the grant's statements include a wildcard statement of the role, and the texts of
        its evidence (with kms:Decrypt's statements)."""
        decrypt = grant.decrypt
        key = (
            id(access),
            tuple(id(a.statements) for a in grant.actions),
            id(decrypt.statements) if decrypt is not None else 0,
        )
        found = self.statements.get(key)
        if found is None:
            wildcards = self.wildcards.get(id(access))
            if wildcards is None:
                wildcards = self.wildcards[id(access)] = _wildcard_statements(access)
            found = _statement_texts(wildcards, grant)
            self.statements[key] = found
        return found


def _wildcard_statements(access: RoleAccess) -> set[StatementRef]:
    return {w.statement for w in access.wildcards}


def _statement_texts(wildcard_statements: set[StatementRef], grant: Grant) -> tuple[bool, list[str]]:
    refs = [r for a in grant.actions for r in a.statements]
    wildcard = any(r in wildcard_statements for r in refs)
    if grant.decrypt is not None:
        refs += grant.decrypt.statements
    return wildcard, [str(r) for r in evidence(refs)]


def _grant_entry(
    arn: str, grant: Grant, via: str, conditional_way: bool, statements: tuple[bool, list[str]]
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "resource": arn,
        "actions": sorted(a.action for a in grant.actions),
        "via": via,
        "readable": "conditional" if grant.readable and conditional_way else grant.readable or "no",
    }
    if is_pattern(arn):
        entry["pattern"] = True
    wildcard, texts = statements
    if wildcard:
        entry["wildcard"] = True
    entry["statements"] = list(texts)
    conditional = {a.action: a.when for a in grant.actions if a.when}
    if grant.decrypt is not None:
        entry["actions"] = sorted([*entry["actions"], "kms:Decrypt"])
        if grant.decrypt.when:
            conditional["kms:Decrypt"] = grant.decrypt.when
    if conditional:
        entry["conditions"] = dict(sorted(conditional.items()))
    return entry


def access_json(
    view: ServiceAccountView, location: Location | None = None, *, memo: _Memo | None = None
) -> dict[str, Any]:
    """The access entry of one service account. With `memo` (one per document), a grant entry that
    several service accounts hold is built once and the same dict object is used in each of their
    access entries."""
    return _access_fields(view, location, _grants(view, memo))


def _grants(view: ServiceAccountView, memo: _Memo | None) -> list[dict[str, Any]]:
    grants = []
    for check, access in view.access:
        conditional_way = check.outcome == "conditional"
        wildcards = _wildcard_statements(access) if memo is None else set()
        for arn, grant in access.sorted_grants:
            if memo is None:
                texts = _statement_texts(wildcards, grant)
                entry = _grant_entry(arn, grant, check.role_arn, conditional_way, texts)
            else:
                # the RoleAccess and the ARN name the grant; via and the way's outcome are all else
                # the entry depends on
                key = (id(access), arn, check.role_arn, conditional_way)
                found = memo.entries.get(key)
                if found is None:
                    texts = memo.statement_texts(access, grant)
                    found = _grant_entry(arn, grant, check.role_arn, conditional_way, texts)
                    memo.entries[key] = found
                entry = found
            grants.append(entry)
        grants += _future_wildcards(access, check.role_arn)
    grants.sort(key=_grant_order)
    return grants


def _grant_order(entry: dict[str, Any]) -> tuple[str, str, str]:
    return entry["resource"], entry["via"], entry.get("statement", "")


def _future_wildcards(access: RoleAccess, via: str) -> list[dict[str, Any]]:
    """The entries for the role's wildcard patterns that also reach secrets created later."""
    return [
        {
            "resource": pattern,
            "actions": sorted(wildcard.actions),
            "via": via,
            "pattern": True,
            "wildcard": True,
            "readable": wildcard.future,
            "statement": str(wildcard.statement),
            "statements": [str(wildcard.statement)],
        }
        for wildcard in access.wildcards
        if wildcard.future  # else Deny statements or the boundary keep it from anything created later
        for pattern in wildcard.wildcard_resources
    ]


def _access_fields(view: ServiceAccountView, location: Location | None, grants: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "service_account": view.id,
        "workloads": list(view.workloads),
        "role_arn": view.ascp_role,
        "assumable_roles": sorted({c.role_arn for c, _ in view.access}),
        # how each is reached: irsa (a trust policy admits the SA's token), pod-identity (an
        # association), role-chain (from another assumable role)
        "assumed_through": {
            arn: ", ".join(sorted({c.via for c, _ in view.access if c.role_arn == arn}))
            for arn in sorted({c.role_arn for c, _ in view.access})
        },
        "role_chains": sorted(
            {f"{c.source} -> {c.role_arn}" for c, _ in view.access if c.via == "role-chain"}
        ),
        "needs": [a for a in view.need_arns if not is_pattern(a)],
        "unresolved_needs": [a for a in view.need_arns if is_pattern(a)],
        "grants": grants,
    }
    if location is not None:
        out["location"] = {"file": location.file, "line": location.line}
    return out


def view_location(result: ScanResult, view: ServiceAccountView) -> Location | None:
    """Where a service account is declared, else where the first of its workloads is."""
    return _Locations(result).of(view)


class _Locations:
    """view_location for every view of a scan, with the declared service accounts looked up once."""

    def __init__(self, result: ScanResult) -> None:
        self.declared = {sa.id: sa.location for sa in result.assessment.inventory.kube.service_accounts}
        self.workloads = result.assessment.workloads

    def of(self, view: ServiceAccountView) -> Location | None:
        if self.declared.get(view.id) is not None:
            return self.declared[view.id]
        workloads = self.workloads
        return next((workloads[w].location for w in view.workloads if w in workloads), None)


def scan_document(result: ScanResult) -> dict[str, Any]:
    """The document. Grant entries several service accounts share are one dict object in each of their
    access entries (see access_json): treat the document as read-only, or copy it first."""
    with paused_gc():
        return _scan_document(result, _Memo())


def _scan_document(result: ScanResult, memo: _Memo | None) -> dict[str, Any]:
    """The document; without a memo, without its findings and access lists (rendered as streams)."""
    a = result.assessment
    counts = dict.fromkeys(SEVERITIES, 0)
    for f in result.findings:
        counts[f.severity] += 1
    document = {
        "schema": SCHEMA,
        "complete": result.complete,
        "incomplete": list(result.gaps),
        "summary": {
            "workloads": len(a.workloads),
            "service_accounts": len(a.service_accounts),
            "roles": len(a.inventory.aws.roles),
            "secrets": len(a.inventory.aws.secrets),
            "parameters": len(a.inventory.aws.parameters),
            "findings": counts,
        },
        "warnings": list(result.warnings),
        "unknown": list(a.inventory.aws.unknown),
    }
    if memo is not None:
        views = [v for _, v in sorted(a.service_accounts.items()) if v.mounts or v.access]
        locations = _Locations(result)
        document["findings"] = [finding_json(f) for f in result.findings]
        document["access"] = [access_json(v, locations.of(v), memo=memo) for v in views]
    return document


def render_json(result: ScanResult) -> str:
    """json.dumps(scan_document(result), sort_keys=True, indent=2) + newline, byte for byte."""
    return "".join(render_json_chunks(result))


def render_json_chunks(result: ScanResult) -> Iterator[str]:
    """The text of render_json in pieces, each finding and each service account's access entry as it
    is built, so that neither the document nor its text is ever whole in memory (at the largest
    scale the text alone is gigabytes)."""
    with paused_gc():
        yield from _chunks(result)


def _chunks(result: ScanResult) -> Iterator[str]:
    a = result.assessment
    locations = _Locations(result)
    views = [v for _, v in sorted(a.service_accounts.items()) if v.mounts or v.access]
    blocks = _GrantBlocks()
    encoder = _Encoder(set())
    rest = _scan_document(result, None)
    streamed: dict[str, Callable[[], Iterator[dict[str, Any]]]] = {
        "findings": lambda: (finding_json(f) for f in result.findings),
        "access": lambda: (_access_fields(v, locations.of(v), blocks.grants_text(v)) for v in views),
    }
    separator = "{" + _NEWLINE[1]
    for key in sorted([*rest, *streamed]):
        yield separator + _string(key) + ": "
        separator = _COMMA[1]
        if key in streamed:
            yield from _list_chunks(streamed[key](), encoder, level=1)
        else:
            yield encoder.encode(rest[key], level=1)
    yield _NEWLINE[0] + "}\n"


def _list_chunks(items: Iterator[dict[str, Any]], encoder: _Encoder, *, level: int) -> Iterator[str]:
    separator = "[" + _NEWLINE[level + 1]
    for item in items:
        yield from encoder.pieces(item, level=level + 1, before=separator)
        separator = _COMMA[level + 1]
    yield "[]" if separator.startswith("[") else _NEWLINE[level] + "]"


class _Raw:
    """Text the encoder writes as it is, in parts: a service account's grants, joined from cached entry
    texts (the list of a role reading `*` is tens of megabytes, passed on without being copied)."""

    __slots__ = ("large", "parts")

    def __init__(self, *parts: str) -> None:
        self.parts = parts
        self.large = any(len(part) >= _LARGE_PIECE for part in parts)


_GRANT_LEVEL = 4  # document > "access" list > access entry > "grants" list > grant entry
# stand-ins for a grant's resource in a template entry text (no ARN holds a NUL)
_MARK = "\x00resource\x00"
_PATTERN_MARK = "\x00resource*\x00"
_BLOCK_BUDGET = 200_000  # grant entry texts kept for reuse (a few hundred bytes each)
_JOINED_BLOCK = 2048  # entries from which a block is kept as one text (see _Block)

_Key = tuple[str, str, str]  # a grant entry's place in its list (_grant_order)


class _Block:
    """The grant entries of a role reached one way, in order of their keys. A small block keeps each
    entry's text; a large one (a role reading `*` lists every secret of the account) keeps the texts
    joined as the list writes them, with where each starts: a service account reaching it and a few
    other grants gets its list as the joined text with the others put in between, not as a hundred
    thousand entries sorted and joined again for each such service account."""

    __slots__ = ("_texts", "joined", "keys", "starts")

    def __init__(
        self, keys: list[_Key], texts: list[str] | None, joined: str = "", starts: array[int] | None = None
    ) -> None:
        self.keys = keys
        self._texts = texts
        self.joined = joined
        # where entry i starts in `joined`; entry len(keys) "starts" a separator past its end
        self.starts: array[int] = starts if starts is not None else array("q")

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def texts(self) -> list[str]:
        if self._texts is not None:
            return self._texts
        return [self.run(i, i + 1) for i in range(len(self.keys))]

    def run(self, begin: int, end: int) -> str:
        """Entries begin..end-1 of a joined block, with the separators between them."""
        return self.joined[self.starts[begin] : self.starts[end] - len(_ENTRY_SEPARATOR)]


class _GrantBlocks:
    """The text of each grant entry of a role reached one way (the role, via, whether the way is
    conditional), kept for the next service accounts that reach the role the same way: service
    accounts are rendered in id order, so those sharing a namespace's roles come together. The least
    recently used roles are dropped beyond a budget of entries, which bounds memory whatever the scale."""

    def __init__(self) -> None:
        self.memo = _Memo()
        self.encoder = _Encoder(set())
        self.blocks: OrderedDict[tuple[int, str, bool], _Block] = OrderedDict()
        self.size = 0
        # the ways (RoleAccess id, role, outcome) of the last service account rendered, and its text;
        # the RoleAccess objects live in the assessment for all of the render, so their ids stay theirs
        self.last_ways: tuple[tuple[int, str, str], ...] | None = None
        self.last_text = _Raw("[]")

    def _block(self, access: RoleAccess, via: str, conditional_way: bool) -> _Block:
        key = (id(access), via, conditional_way)
        cached = self.blocks.get(key)
        if cached is not None:
            self.blocks.move_to_end(key)
            return cached
        block = self.blocks[key] = self._make_block(access, via, conditional_way)
        self.size += len(block) + 1
        while self.size > _BLOCK_BUDGET and len(self.blocks) > 1:
            _, dropped = self.blocks.popitem(last=False)
            self.size -= len(dropped) + 1
        return block

    def _make_block(self, access: RoleAccess, via: str, conditional_way: bool) -> _Block:
        # grants alike but for their resource (the calculator hands out one actions tuple and one
        # decrypt grant for many resources) have one entry text but for it: encoded once, around a mark
        templates: dict[tuple[int, int, str | None, bool], tuple[str, str] | None] = {}
        grants = access.sorted_grants
        keys: list[_Key] = []
        texts: list[str] = []
        # a large block is made as the pieces of its joined text (the text before an ARN, the ARN, the
        # text after it, a separator) and their lengths, not as entry texts of some hundred bytes each
        one_text = len(grants) >= _JOINED_BLOCK
        parts: list[str] = []
        lengths: list[int] = []
        separator, step = _ENTRY_SEPARATOR, len(_ENTRY_SEPARATOR)
        for arn, grant in grants:
            pattern = is_pattern(arn)
            like = (id(grant.actions), id(grant.decrypt), grant.readable, pattern)
            if like not in templates:
                mark = _PATTERN_MARK if pattern else _MARK
                text = self._entry_text(mark, access, grant, via, conditional_way)
                pieces = text.split(_string(mark))
                templates[like] = (pieces[0], pieces[1]) if len(pieces) == 2 else None
            around = templates[like]
            keys.append((arn, via, ""))
            if around is None:  # the mark's text is elsewhere in the entry too: no template
                text = self._entry_text(arn, access, grant, via, conditional_way)
            elif one_text:
                encoded = _string(arn)
                parts += (around[0], encoded, around[1], separator)
                lengths.append(len(around[0]) + len(encoded) + len(around[1]) + step)
                continue
            else:
                text = around[0] + _string(arn) + around[1]
            if one_text:
                parts += (text, separator)
                lengths.append(len(text) + step)
            else:
                texts.append(text)
        if not one_text:
            return _Block(keys, texts)
        parts.pop()  # the separator after the last entry (a joined block has entries)
        return _Block(keys, None, "".join(parts), array("q", accumulate(lengths, initial=0)))

    def _entry_text(self, arn: str, access: RoleAccess, grant: Grant, via: str, conditional_way: bool) -> str:
        texts = self.memo.statement_texts(access, grant)
        return self.encoder.encode(_grant_entry(arn, grant, via, conditional_way, texts), level=_GRANT_LEVEL)

    def grants_text(self, view: ServiceAccountView) -> _Raw:
        """The service account's "grants" list, as the encoder would write it. The text depends only on
        the roles the service account reaches and how, which the next service account (in id order)
        shares when both are of a namespace whose service accounts reach the same roles (about one in
        seven at scale 50, among them the service accounts of a `*` role): the last text is kept."""
        ways = tuple((id(access), check.role_arn, check.outcome) for check, access in view.access)
        if ways != self.last_ways:
            self.last_ways, self.last_text = ways, self._grants_text(view)
        return self.last_text

    def _grants_text(self, view: ServiceAccountView) -> _Raw:
        # the entries of each way in turn: its role's block (sorted), then its future wildcards
        segments: list[tuple[_Block | None, list[_Key], list[str]]] = []
        encode = self.encoder.encode
        for check, access in view.access:
            via = check.role_arn
            block = self._block(access, via, check.outcome == "conditional")
            segments.append((block, block.keys, []))
            wildcards = _future_wildcards(access, via)
            segments.append(
                (
                    None,
                    [_grant_order(e) for e in wildcards],
                    [encode(e, level=_GRANT_LEVEL) for e in wildcards],
                )
            )
        if not any(keys for _, keys, _ in segments):
            return _Raw("[]")
        opening, closing = "[" + _NEWLINE[_GRANT_LEVEL], _NEWLINE[_GRANT_LEVEL - 1] + "]"
        # a joined block, the largest (the first of them), takes the others' entries
        at = max(range(len(segments)), key=lambda i: len(segments[i][1]))
        base = segments[at][0]
        if base is not None and base.joined:
            others = [
                (keys, [] if i == at else block.texts if block else texts)
                for i, (block, keys, texts) in enumerate(segments)
            ]
            return _Raw(opening, *_merged_into(base, at, others), closing)
        keyed = [
            entry
            for block, keys, texts in segments
            for entry in zip(keys, block.texts if block else texts, strict=True)
        ]
        keyed.sort(key=itemgetter(0))  # stable: entries of equal keys keep the order of the ways
        return _Raw(opening, _ENTRY_SEPARATOR.join(map(itemgetter(1), keyed)), closing)


def _merged_into(base: _Block, at: int, segments: list[tuple[list[_Key], list[str]]]) -> list[str]:
    """The text of every segment's entries in the order a stable sort by key gives, in pieces: runs of
    the joined block `base` (segment `at`, sorted) and the other entries put between them. An entry
    of a segment before `at` goes before the base's entries of an equal key, one after it after them;
    with the separator between every two pieces."""
    others = sorted(
        (
            (key, index > at, text)
            for index, (keys, texts) in enumerate(segments)
            if index != at
            for key, text in zip(keys, texts, strict=True)
        ),
        key=itemgetter(0),  # stable: among equal keys the segments' order holds
    )
    pieces: list[str] = []
    done = 0
    for key, after, text in others:
        place = (bisect_right if after else bisect_left)(base.keys, key, lo=done)
        if place > done:
            pieces.append(base.run(done, place))
            done = place
        pieces.append(text)
    if done < len(base):
        pieces.append(base.run(done, len(base)))
    return [pieces[0], *(part for piece in pieces[1:] for part in (_ENTRY_SEPARATOR, piece))]


_MAX_LEVEL = 64  # deeper (or circular) structures are left to json.dumps
_LARGE_PIECE = 1 << 20  # characters from which a part of the text is handed on as it is (pieces)
_NEWLINE = tuple("\n" + "  " * level for level in range(_MAX_LEVEL + 2))
_COMMA = tuple("," + text for text in _NEWLINE)
_ENTRY_SEPARATOR = _COMMA[_GRANT_LEVEL]  # between the entries of a "grants" list


class _Encoder:
    """The text json.dumps(value, sort_keys=True, indent=2) gives, byte for byte. The standard library
    encodes indented JSON in pure Python, one generator per container; this writes strings through the
    same C function (encode_basestring_ascii), lists of strings in one join, and the objects whose ids
    are in `shared` (the same dict, many times in the document) once per indentation level. Anything
    but dicts with str keys, lists, tuples, str, int, bool and None (a float, a subclass, an int key) is
    handed to json.dumps itself and re-indented: a JSON string never holds a raw newline, so every
    newline of that text starts an indented line."""

    def __init__(self, shared: set[int]) -> None:
        self.shared = shared
        self.texts: dict[tuple[int, int], str] = {}
        self.large = False  # whether a part of at least _LARGE_PIECE characters went into the output

    def pieces(self, value: Any, level: int = 0, *, before: str = "") -> list[str]:
        """`before` and the text of encode(value, level), in pieces: the parts of a large list (a `*`
        role's grants, the ARNs of a finding about one) as they are, the text around them joined.
        Each copy of a gigabyte of text costs this machine half a second, so a large part is not
        copied into the text of its entry only to be written out."""
        out = [before]
        self.large = False
        self._value(value, level, out)
        if not self.large:
            return ["".join(out)]
        joined: list[str] = []
        run: list[str] = []
        for part in [*out, ""]:  # the empty part ends the last run
            if len(part) < _LARGE_PIECE and part:
                run.append(part)
                continue
            if run:
                joined.append("".join(run))
                run = []
            if part:
                joined.append(part)
        return joined

    def encode(self, value: Any, level: int = 0) -> str:
        """`value` as it is written at indentation `level` of a document."""
        out: list[str] = []
        self._value(value, level, out)
        return "".join(out)

    def _fallback(self, value: Any, level: int, out: list[str]) -> None:
        out.append(json.dumps(value, sort_keys=True, indent=2).replace("\n", _NEWLINE[level]))

    def _value(self, value: Any, level: int, out: list[str]) -> None:
        kind = type(value)
        if kind is str:
            out.append(_string(value))
        elif kind is dict:
            if level >= _MAX_LEVEL:
                self._fallback(value, level, out)
            elif id(value) in self.shared:
                key = (id(value), level)
                text = self.texts.get(key)
                if text is None:
                    part: list[str] = []
                    self._dict(value, level, part)
                    text = self.texts[key] = "".join(part)
                out.append(text)
            else:
                self._dict(value, level, out)
        elif kind is list or kind is tuple:
            if level >= _MAX_LEVEL:
                self._fallback(value, level, out)
            else:
                self._list(value, level, out)
        elif kind is _Raw:
            out += value.parts
            self.large = self.large or value.large
        elif value is None:
            out.append("null")
        elif value is True:
            out.append("true")
        elif value is False:
            out.append("false")
        elif kind is int:
            out.append(int.__repr__(value))
        else:
            self._fallback(value, level, out)

    def _dict(self, value: dict[Any, Any], level: int, out: list[str]) -> None:
        if not value:
            out.append("{}")
            return
        mark = len(out)
        inner = level + 1
        separator = "{" + _NEWLINE[inner]
        try:
            for k, v in sorted(value.items()):
                # _string refuses a key that is not a str (json.dumps converts those): start over below
                if type(v) is str:
                    out.append(separator + _string(k) + ": " + _string(v))
                else:
                    out.append(separator + _string(k) + ": ")
                    self._value(v, inner, out)
                separator = _COMMA[inner]
        except TypeError:
            del out[mark:]
            self._fallback(value, level, out)  # raises as json.dumps does if it cannot be encoded
            return
        out.append(_NEWLINE[level] + "}")

    def _list(self, value: list[Any] | tuple[Any, ...], level: int, out: list[str]) -> None:
        if not value:
            out.append("[]")
            return
        inner = level + 1
        if type(value[0]) is str:
            try:
                text = _COMMA[inner].join(map(_string, value))
            except TypeError:
                pass  # not only strings
            else:
                if len(text) < _LARGE_PIECE:
                    out.append("[" + _NEWLINE[inner] + text + _NEWLINE[level] + "]")
                else:
                    out += ("[" + _NEWLINE[inner], text, _NEWLINE[level] + "]")
                    self.large = True
                return
        separator = "[" + _NEWLINE[inner]
        for v in value:
            out.append(separator)
            self._value(v, inner, out)
            separator = _COMMA[inner]
        out.append(_NEWLINE[level] + "]")
