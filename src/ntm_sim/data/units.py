"""Reference lists of administrative units, and matching names and codes to them."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace
from functools import cache, cached_property
from importlib import resources
from pathlib import Path

import pandas as pd

from ntm_sim.data import admin_units
from ntm_sim.data.admin_units import Generation
from ntm_sim.data.dataset import normalise_code
from ntm_sim.errors import InputError, Problem, Text
from ntm_sim.messages import joined
from ntm_sim.text import commune_key, did_you_mean, district_key, nfc


@dataclass(frozen=True)
class Match:
    """The result of matching one row to the reference list."""

    code: str | None
    message: Text | None = None
    warning: bool = False


@dataclass(frozen=True)
class UnitList:
    """Official communes of one province, with their district-level units where there are any.

    Parameters
    ----------
    name
        Label for messages (e.g. ``"Lào Cai 2021"``).
    communes
        Indexed by ``commune_code``; columns ``commune_name``, ``district_code``,
        ``district_name`` (both empty in lists from 1 July 2025, which have no districts).
    province_code, province_name
        The province, when the list comes from the national lists (empty for a CSV).
    generation
        ``"pre2025"`` or ``"2025"`` for the national lists (see :mod:`ntm_sim.data.admin_units`).
    source
        Where the list comes from, with its version.
    """

    name: str
    communes: pd.DataFrame
    province_code: str = ""
    province_name: str = ""
    generation: str = ""
    source: str = ""

    @cached_property
    def has_districts(self) -> bool:
        """Whether the list has a district level (lists from 1 July 2025 have none)."""
        return bool((self.communes["district_code"] != "").any())

    def __contains__(self, code: object) -> bool:
        return normalise_code(code) in self.communes.index

    @cached_property
    def name_keys(self) -> pd.Series:
        """Each commune's name as compared (:func:`ntm_sim.text.commune_key`), by code; computed once."""
        return self.communes["commune_name"].map(commune_key)

    @cached_property
    def district_names(self) -> dict[str, str]:
        """District code by compared district name (the first district of a name); computed once."""
        districts = self.communes.drop_duplicates("district_code")
        out: dict[str, str] = {}
        for code, name in zip(districts["district_code"], districts["district_name"], strict=True):
            out.setdefault(district_key(name), str(code))
        return out

    def district_of(self, text: object) -> str | None:
        """Return the district code whose name or code matches ``text``."""
        code = normalise_code(text)
        if code and code in self.communes["district_code"].to_numpy():
            return code
        return self.district_names.get(district_key(text))

    def _label(self, code: str) -> str:
        row = self.communes.loc[code]
        if not row["district_name"]:
            return f"{code} ({row['commune_name']})"
        return f"{code} ({row['commune_name']}, {row['district_name']})"

    def _code_hints(self, code: str, district: str | None, n: int = 3) -> list[str]:
        """Codes that look like ``code``: most alike first, then same district, then nearest.

        Many codes are equally alike (one digit off), so the tie-breaks decide what is shown.
        """
        codes = list(self.communes.index)
        close = did_you_mean(code, codes, n=len(codes))

        def rank(other: str) -> tuple[float, bool, int]:
            alike = difflib.SequenceMatcher(None, code, other).ratio()
            far = abs(int(other) - int(code)) if other.isdigit() and code.isdigit() else 0
            return -alike, self.communes.loc[other, "district_code"] != district, far

        return sorted(close, key=rank)[:n]

    def match(self, code: object, name: object, district: str | None) -> Match:
        """Match a row's code and/or name (and district context) to one commune.

        Parameters
        ----------
        code, name
            As written in the row; either may be blank.
        district
            District code known from the row or the sheet's district rows.
        """
        code = normalise_code(code)
        key = commune_key(name) if name else ""
        names = self.name_keys
        if code:
            if code not in self.communes.index:
                hint = self._code_hints(code, district)
                by_name = list(names.index[names == key]) if key else []
                if by_name:
                    hint = by_name + [h for h in hint if h not in by_name]
                if hint:
                    return Match(None, Text("units.code_unknown_hint", code=code, units=self.name,
                                            hint=joined([self._label(h) for h in hint[:3]], "or")))
                return Match(None, Text("units.code_unknown", code=code, units=self.name))
            if key and names[code] != key:
                official = self.communes.loc[code, "commune_name"]
                others = list(names.index[names == key])
                if others:
                    return Match(None, Text("units.name_elsewhere", code=code, official=official, units=self.name,
                                            name=repr(name), others=", ".join(self._label(o) for o in others)))
                close = did_you_mean(key, [names[code]], n=1)
                if close:
                    return Match(code, Text("units.name_differs", name=repr(name), official=repr(official),
                                            code=code), warning=True)
                return Match(None, Text("units.code_other_name", code=code, official=repr(official),
                                        units=self.name, name=repr(name)))
            return Match(code)
        if not key:
            return Match(None, Text("units.no_code_no_name"))
        candidates = names.index[names == key]
        if district:
            in_district = [c for c in candidates if self.communes.loc[c, "district_code"] == district]
            candidates = in_district or list(candidates)
        if len(candidates) == 1:
            return Match(str(candidates[0]))
        if len(candidates) > 1:
            return Match(None, Text("units.ambiguous", name=repr(name),
                                    communes=", ".join(self._label(c) for c in candidates)))
        pool = names if not district else names[self.communes["district_code"] == district]
        hints = did_you_mean(key, list(pool.values)) or did_you_mean(key, list(names.values))
        codes = [str(names.index[names == h][0]) for h in hints]
        if codes:
            return Match(None, Text("units.name_unknown_hint", name=repr(name), units=self.name,
                                    hint=joined([self._label(c) for c in codes], "or")))
        return Match(None, Text("units.name_unknown", name=repr(name), units=self.name))


@cache
def lao_cai_units() -> UnitList:
    """Return the 127 communes of Lào Cai (2021–2024) with official codes."""
    path = resources.files("ntm_sim") / "data" / "units" / "lao_cai_communes_2021.csv"
    return replace(read_unit_list(Path(str(path)), "Lào Cai 2021"),
                   source="ntm_sim/data/units/lao_cai_communes_2021.csv (danh mục 2021, 127 xã)")


def read_unit_list(path: Path, name: str | None = None) -> UnitList:
    """Read a unit list CSV (commune_code, commune_name, district_code, district_name).

    Raises
    ------
    InputError
        If the file is not a regular file within its limit, or not such a CSV.
    """
    import io

    from ntm_sim.data.io.files import MAX_UNITS_BYTES, read_bytes

    data = read_bytes(path, str(path), MAX_UNITS_BYTES)
    try:
        frame = pd.read_csv(io.BytesIO(data), dtype=str, encoding="utf-8-sig", keep_default_na=False)
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError([Problem(str(path), Text("units.not_a_list", error=str(exc)[:200]),
                                  expected=_EXPECTED_UNITS)]) from None
    missing = [c for c in ("commune_code", "commune_name", "district_code", "district_name") if c not in frame]
    if missing:
        raise InputError([Problem(str(path), Text("table.no_column", column=", ".join(missing)),
                                  expected=_EXPECTED_UNITS)])
    frame["commune_code"] = frame["commune_code"].map(normalise_code)
    frame["district_code"] = frame["district_code"].map(normalise_code)
    for col in ("commune_name", "district_name"):
        frame[col] = frame[col].map(nfc)
    return UnitList(name or path.stem, frame.set_index("commune_code"))


# ----- the national lists: one province's list, the --units choice, detection -----------

AUTO = "auto"


def province_units(province: object, generation: Generation = "2025") -> UnitList:
    """Return one province's commune-level units from the national lists.

    Parameters
    ----------
    province
        Province code or name ("12", "Lai Châu", "lai_chau"), in that generation's codes.
    generation
        ``"pre2025"`` (63 provinces, with districts) or ``"2025"`` (34 provinces, no districts).

    Raises
    ------
    InputError
        If no province of that generation has that code or name.
    """
    code = admin_units.find_province(province, generation)
    if code is None:
        names = admin_units.provinces(generation)["province_name"]
        info = admin_units.generation_info(generation)
        raise InputError([Problem(str(province), Text("units.no_province", province=repr(province),
                                                      list=Text("text.in_language", en=info.label_en,
                                                                vi=info.label_vi)),
                                  expected=", ".join(f"{c} {n}" for c, n in names.items()))])
    return _province_units(code, generation)


@cache
def _province_units(code: str, generation: Generation) -> UnitList:
    national = admin_units.national_units(generation)
    rows = national[national["province_code"] == code]
    communes = rows[["commune_name", "district_code", "district_name"]].copy()
    communes.index.name = "commune_code"
    province = str(rows["province_name"].iloc[0])
    label = admin_units.generation_info(generation).label_vi
    return UnitList(f"{province} ({label})", communes, province_code=code, province_name=province,
                    generation=generation, source=admin_units.source_text(generation))


def resolve_units(spec: str | UnitList | None) -> UnitList | None | str:
    """Turn a ``--units`` choice into a unit list, None (codes as written) or :data:`AUTO`.

    ``auto`` (detect the province from the sheet), ``lao_cai`` (the bundled 2021 list),
    ``none``, a CSV file (commune_code, commune_name, district_code, district_name), or a
    province of the national lists: ``lai_chau``, ``"Lai Châu@pre2025"``, ``15@2025``
    (without ``@``, the list from 1 July 2025).
    """
    if spec is None or isinstance(spec, UnitList):
        return spec
    text = nfc(str(spec)).strip()
    if text.lower() == AUTO:
        return AUTO
    if text == "lao_cai":
        return lao_cai_units()
    if text.lower() == "none":
        return None
    path = Path(text)
    if path.suffix.lower() == ".csv" or path.exists():
        if not path.exists():
            raise InputError([Problem(text, Text("units.file_not_found"), expected=_EXPECTED_UNITS)])
        return read_unit_list(path)
    province, _, generation = text.partition("@")
    generation = generation or "2025"
    if generation not in admin_units.GENERATIONS:
        raise InputError([Problem(text, Text("units.generation", generation=repr(generation)),
                                  expected=_EXPECTED_UNITS)])
    return province_units(province, generation)  # type: ignore[arg-type]


_EXPECTED_UNITS = Text("units.expected")


def generation_of(period: tuple[int, int]) -> Generation:
    """The unit generation a planning period uses: from 2026 the units of 1 July 2025."""
    return "2025" if period[0] >= 2026 else "pre2025"


@dataclass(frozen=True)
class Detection:
    """The unit list detected for a sheet, and how well it fits."""

    units: UnitList | None
    matched: int
    rows: int

    @property
    def text(self) -> Text:
        """One line for the planner: which list, from how many rows."""
        if self.units is None:
            return Text("units.detected_none", rows=self.rows)
        return Text("units.detected", units=self.units.name, matched=self.matched, rows=self.rows,
                    source=self.units.source)


def _candidate_hits(units: UnitList, rows: list[tuple[str, str]]) -> tuple[int, int]:
    """Rows found in ``units`` (by code, or by name where there is no code), and rows whose code and name agree."""
    keys = units.name_keys
    found = agree = 0
    for code, key in rows:
        if code:
            if code in keys.index:
                found += 1
                agree += bool(key) and keys[code] == key
        elif key and key in _key_set(units):
            found += 1
    return found, agree


def _key_set(units: UnitList) -> frozenset[str]:
    return frozenset(units.name_keys.to_numpy())


@cache
def _provinces_by_code(generation: Generation) -> dict[str, str]:
    """Province by commune code, in one generation."""
    national = admin_units.national_units(generation)
    return dict(zip(national.index, national["province_code"], strict=True))


@cache
def _provinces_by_name(generation: Generation) -> dict[str, frozenset[str]]:
    """Provinces by commune name key, in one generation (built only for sheets without codes)."""
    national = admin_units.national_units(generation)
    keys = national["commune_name"].map(commune_key)
    return {k: frozenset(g) for k, g in national.groupby(keys.to_numpy())["province_code"]}


def _candidates(rows: list[tuple[str, str]]) -> list[UnitList]:
    """The bundled Lào Cai 2021 list and every province that holds at least one row."""
    out = [lao_cai_units()]
    for generation in admin_units.GENERATIONS:
        by_code = _provinces_by_code(generation)
        seen = {by_code[code] for code, _ in rows if code in by_code}
        if any(not code for code, _ in rows):
            by_name = _provinces_by_name(generation)
            seen |= {p for code, key in rows if not code for p in by_name.get(key, ())}
        out += [_province_units(p, generation) for p in sorted(seen)]
    return out


def detect_units(codes: list[object], names: list[object], prefer: Generation | None = None) -> Detection:
    """Detect the province (and generation) of a sheet from its commune codes, or names where codes are blank.

    The list holding the most rows wins; ties go to the list where more codes and
    names agree, then to the generation ``prefer`` (the one of the sheet's criteria
    set), then to the bundled Lào Cai 2021 list (a few names of Lào Cai are found in
    many provinces), then to the list whose size is nearest the number of rows, then to
    the newer generation.

    Parameters
    ----------
    codes, names
        The sheet's commune code and name cells, row by row (blank where absent).
    prefer
        ``"pre2025"`` or ``"2025"``: the generation to prefer on a tie (codes were reused
        by the reform, so a few codes can fit both).
    """
    rows = [(normalise_code(c) if c is not None else "", commune_key(n) if isinstance(n, str) else "")
            for c, n in zip(codes, names, strict=True)]
    coded = [(c, k) for c, k in rows if c]
    rows = coded or [(c, k) for c, k in rows if k]  # in a sheet with codes, rows without are headings
    best: tuple[tuple[int, int, bool, int, int, bool], UnitList] | None = None
    for rank, units in enumerate(_candidates(rows)):
        found, agree = _candidate_hits(units, rows)
        newer = units.generation == "2025"
        preferred = (units.generation or "pre2025") == prefer
        score = (found, agree, preferred, -min(rank, 1), -abs(len(units.communes) - len(rows)), newer)
        if found and (best is None or score > best[0]):
            best = (score, units)
    if best is None:
        return Detection(None, 0, len(rows))
    return Detection(best[1], best[0][0], len(rows))


def units_for_sheet(spec: str | UnitList | None, codes: list[object], names: list[object], *,
                    file: str, sheet: str | None = None, column: str | None = None,
                    prefer: Generation | None = None) -> UnitList | None:
    """The unit list to read a sheet with: the one chosen, or the one its codes (or names) detect.

    ``prefer`` breaks ties between generations (see :func:`detect_units`).

    Raises
    ------
    InputError
        When detection is asked for and no province's list holds any of the sheet's
        codes or names (naming file, sheet and column, and how to proceed).
    """
    chosen = resolve_units(spec)
    if chosen != AUTO:
        return chosen  # type: ignore[return-value]
    found = detect_units(codes, names, prefer)
    if found.units is None:
        raise InputError([Problem(file, Text("units.undetected", detection=found.text), sheet=sheet,
                                  column=column, expected=Text("units.undetected.expected"))])
    return found.units
