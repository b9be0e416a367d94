"""Parsers of SNDlib's native text format: :func:`parse_network` and :func:`parse_model`.

Pure functions of the text; every problem is collected with its file and line, then
raised as one :class:`~model.sndlib.instance.SndParseError`.
"""

from __future__ import annotations

import logging
import math
import re
from pathlib import Path
from types import MappingProxyType

from model.sndlib.instance import (
    FIXED_KEYS,
    POSITIONS,
    SndDemand,
    SndLink,
    SndModule,
    SndNetwork,
    SndNode,
    SndParseError,
    UnsupportedVariant,
    Variant,
)

logger = logging.getLogger(__package__)  # "model.sndlib": one logger for the importer

_SECTION = re.compile(r"^([A-Z_]+)\s*\($")
_TOKEN = re.compile(r"\(|\)|[^\s()]+")
_NAME = re.compile(r"^#\s*(network|model)\s+(\S+)")
_FORMS = MappingProxyType(
    {
        "NODES": "<node_id> ( <longitude> <latitude> )",
        "LINKS": "<link_id> ( <source> <target> ) <pre_installed_capacity> "
        "<pre_installed_capacity_cost> <routing_cost> <setup_cost> "
        "( {<module_capacity> <module_cost>}* )",
        "DEMANDS": "<demand_id> ( <source> <target> ) <routing_unit> <demand_value> "
        "<max_path_length>",
    }
)


def _number(tok: str, what: str, *, signed: bool = False) -> float:
    """A finite number (>= 0 unless ``signed``); ValueError says what was expected."""
    try:
        value = float(tok)
    except ValueError:
        raise ValueError(f"expected a number for {what}, got {tok!r}") from None
    if not math.isfinite(value) or (value < 0 and not signed):
        bound = "" if signed else " >= 0"
        raise ValueError(f"expected a finite number{bound} for {what}, got {tok!r}")
    return value


def _shape(toks: list[str], pattern: str) -> bool:
    """Does ``toks`` match ``pattern`` ('w' word, '(' and ')' literal, '*' any words)?"""
    if "*" in pattern:
        head, tail = pattern.split("*")
        body = toks[len(head) : len(toks) - len(tail)]
        return (
            len(toks) >= len(head) + len(tail)
            and _shape(toks[: len(head)], head)
            and _shape(toks[len(toks) - len(tail) :], tail)
            and all(t not in "()" for t in body)
        )
    return len(toks) == len(pattern) and all(
        t == p if p in "()" else t not in "()" for t, p in zip(toks, pattern, strict=True)
    )


def _entry(section: str, toks: list[str], line: int) -> SndNode | SndLink | SndDemand:
    """One entry line of NODES, LINKS or DEMANDS; raises ValueError with what was expected."""
    if section == "NODES":
        if _shape(toks, "w"):
            return SndNode(toks[0], None, None, line)
        if _shape(toks, "w(ww)"):
            x = _number(toks[2], "longitude", signed=True)
            return SndNode(toks[0], x, _number(toks[3], "latitude", signed=True), line)
    elif section == "LINKS" and _shape(toks, "w(ww)wwww(*)"):
        mods = toks[10:-1]
        if len(mods) % 2:
            raise ValueError("the module list must hold pairs <module_capacity> <module_cost>")
        return SndLink(
            id=toks[0],
            source=toks[2],
            target=toks[3],
            preinstalled_capacity=_number(toks[5], "pre_installed_capacity"),
            preinstalled_capacity_cost=_number(toks[6], "pre_installed_capacity_cost"),
            routing_cost=_number(toks[7], "routing_cost"),
            setup_cost=_number(toks[8], "setup_cost"),
            modules=tuple(
                SndModule(_number(c, "module_capacity"), _number(k, "module_cost"))
                for c, k in zip(mods[::2], mods[1::2], strict=True)
            ),
            line=line,
        )
    elif section == "DEMANDS" and _shape(toks, "w(ww)www"):
        mpl = None if toks[7].upper() == "UNLIMITED" else _number(toks[7], "max_path_length")
        if mpl is not None and not mpl.is_integer():
            raise ValueError(
                f"expected an integer or UNLIMITED for max_path_length, got {toks[7]!r}"
            )
        return SndDemand(
            id=toks[0],
            source=toks[2],
            target=toks[3],
            routing_unit=_number(toks[5], "routing_unit"),
            value=_number(toks[6], "demand_value"),
            max_path_length=None if mpl is None else int(mpl),
            line=line,
        )
    raise ValueError(f"expected {_FORMS[section]}")


def _file_type(header: str, wanted: str, where: str) -> list[str]:
    """Check ``?SNDlib native format; type: network; ...`` names the wanted file type."""
    m = re.search(r"type:\s*(\w+)", header)
    if m and m.group(1).lower() != wanted:
        return [f"{where}: this is an SNDlib {m.group(1)} file; expected a {wanted} file"]
    return []


def parse_network(text: str, source: str = "<network>") -> SndNetwork:
    """Parse an SNDlib network file; raises SndParseError naming ``source`` and lines."""
    lines = text.splitlines()
    problems: list[str] = []
    entries: dict[str, list] = {}
    meta: list[tuple[str, str]] = []
    name = ""
    i = 0
    while i < len(lines):
        stripped = lines[i].strip()
        i += 1
        if not stripped:
            continue
        if stripped.startswith("?"):
            problems += _file_type(stripped, "network", f"{source}:{i}")
            continue
        if stripped.startswith("#"):
            m = _NAME.match(stripped)
            if m and m.group(1) == "network" and not name:
                name = m.group(2)
            continue
        head = _SECTION.match(stripped)
        if not head:
            problems.append(
                f"{source}:{i}: expected a section header such as 'NODES (', got {stripped!r}"
            )
            break
        section, start = head.group(1), i
        if section in entries or (section == "META" and meta):
            problems.append(f"{source}:{i}: section {section} appears twice")
        depth, closed = 1, False
        while i < len(lines) and not closed:
            body = lines[i].strip()
            i += 1
            if section == "META":  # free text that may hold parentheses
                if body == ")":
                    closed = True
                elif body and not body.startswith("#"):
                    key, _, value = body.partition("=")
                    meta.append((key.strip(), value.strip()))
                continue
            toks = _TOKEN.findall(body.split("#", 1)[0])
            if section not in _FORMS:  # ADMISSIBLE_PATHS and unknown sections: skip
                for t in toks:
                    depth += (t == "(") - (t == ")")
                closed = depth <= 0
            elif toks == [")"]:
                closed = True
            elif toks:
                try:
                    entries.setdefault(section, []).append(_entry(section, toks, i))
                except ValueError as exc:
                    problems.append(f"{source}:{i}: {section}: {exc}; got {body!r}")
        entries.setdefault(section, [])
        if not closed:
            problems.append(
                f"{source}:{start}: section {section} is not closed: expected ')' "
                "before the end of the file"
            )
    for section in _FORMS:
        if section not in entries and not problems:
            problems.append(
                f"{source}:{len(lines)}: missing section {section} (expected "
                f"'{section} (' followed by lines {_FORMS[section]} and ')')"
            )
    net = SndNetwork(
        name or Path(source).stem,
        tuple(meta),
        tuple(entries.get("NODES", ())),
        tuple(entries.get("LINKS", ())),
        tuple(entries.get("DEMANDS", ())),
    )
    if not problems:  # a bad node line would make every later use of it unknown
        problems = _cross_check(net, source)
    if problems:
        raise SndParseError(problems)
    logger.debug(
        "parsed %s: %d nodes, %d links, %d demands",
        source,
        len(net.nodes),
        len(net.links),
        len(net.demands),
    )
    return net


def _cross_check(net: SndNetwork, source: str) -> list[str]:
    """Unique ids, known endpoints, no loops."""
    problems: list[str] = []
    nodes = {n.id for n in net.nodes}
    for kind, items in (("node", net.nodes), ("link", net.links), ("demand", net.demands)):
        seen: set[str] = set()
        for item in items:
            if item.id in seen:
                problems.append(f"{source}:{item.line}: duplicate {kind} id {item.id!r}")
            seen.add(item.id)
    for kind, items in (("link", net.links), ("demand", net.demands)):
        for item in items:
            for end in (item.source, item.target):
                if end not in nodes:
                    problems.append(
                        f"{source}:{item.line}: {kind} {item.id!r} names unknown "
                        f"node {end!r} (expected a node id of the NODES section)"
                    )
            if item.source == item.target:
                problems.append(
                    f"{source}:{item.line}: {kind} {item.id!r} joins node "
                    f"{item.source!r} to itself (expected two distinct nodes)"
                )
    return problems


def parse_model(text: str, source: str = "<model>") -> Variant:
    """Parse an SNDlib model file (``KEY = VALUE`` lines, ``# model NAME`` comment).

    The key/value lines decide; the name in the comment is used for positions whose key
    is absent and must agree with the keys otherwise. Values the scaleacross model cannot
    import (node hardware, another objective) raise UnsupportedVariant.
    """
    problems: list[str] = []
    name, named_at = None, 0
    values: dict[str, tuple[str, int]] = {}
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        m = _NAME.match(line)
        if m and m.group(1) == "model":
            name, named_at = m.group(2), lineno
        if line.startswith("?"):
            problems += _file_type(line, "model", f"{source}:{lineno}")
        if not line or line[0] in "#?":
            continue
        key, eq, value = line.partition("=")
        if not eq:
            problems.append(f"{source}:{lineno}: expected KEY = VALUE, got {line!r}")
            continue
        values[key.strip().upper()] = (value.strip().upper(), lineno)
    letters: list[str] = []
    named = None
    if name is not None:
        try:
            named = Variant.from_code(name).letters
        except UnsupportedVariant as exc:
            problems.append(f"{source}:{named_at}: {exc}")
    for pos, (meaning, key, table) in enumerate(POSITIONS):
        if key in values:
            value, lineno = values[key]
            letter = table.get(value) or (named[pos] if named else None)
            if letter is None:
                problems.append(
                    f"{source}:{lineno}: {key} = {value}: expected one of {', '.join(table)}"
                )
                letter = "?"
            elif named and value in table and named[pos] != letter:
                problems.append(
                    f"{source}:{lineno}: {key} = {value} means {letter!r} but "
                    f"the name {name} has {named[pos]!r} at position {pos + 1}"
                )
        elif named:
            letter = named[pos]
        else:
            problems.append(f"{source}: missing {key} ({meaning}) and no '# model NAME' line")
            letter = "?"
        letters.append(letter)
    if problems:
        raise SndParseError(problems)
    for key, wanted in FIXED_KEYS.items():
        if key in values and values[key][0] != wanted:
            raise UnsupportedVariant(
                f"{source}:{values[key][1]}: {key} = {values[key][0]} is "
                f"not supported; only {wanted}"
            )
    return Variant(tuple(letters))
