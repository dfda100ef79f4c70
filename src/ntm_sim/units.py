"""Reference lists of administrative units, and matching names and codes to them."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from pathlib import Path

import pandas as pd

from ntm_sim.dataset import normalise_code
from ntm_sim.text import commune_key, did_you_mean, district_key


@dataclass(frozen=True)
class Match:
    """The result of matching one row to the reference list."""

    code: str | None
    message: str | None = None
    warning: bool = False


@dataclass(frozen=True)
class UnitList:
    """Official communes with their district-level units.

    Parameters
    ----------
    name
        Label for messages (e.g. ``"Lào Cai 2021"``).
    communes
        Indexed by ``commune_code``; columns ``commune_name``, ``district_code``,
        ``district_name``.
    """

    name: str
    communes: pd.DataFrame

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
        if code in self.communes["district_code"].to_numpy():
            return code
        return self.district_names.get(district_key(text))

    def _label(self, code: str) -> str:
        row = self.communes.loc[code]
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
                msg = f"commune code {code} is not in the {self.name} list"
                if hint:
                    msg += "; did you mean " + " or ".join(self._label(h) for h in hint[:3]) + "?"
                return Match(None, msg)
            if key and names[code] != key:
                official = self.communes.loc[code, "commune_name"]
                others = list(names.index[names == key])
                if others:
                    return Match(
                        None,
                        f"code {code} is {official} in the {self.name} list, but the name "
                        f"{name!r} belongs to {', '.join(self._label(o) for o in others)}",
                    )
                close = did_you_mean(key, [names[code]], n=1)
                if close:
                    return Match(code, f"name {name!r} differs from the official {official!r} "
                                       f"for code {code}; using {official!r}", warning=True)
                return Match(None, f"code {code} is {official!r} in the {self.name} list, "
                                   f"not {name!r}")
            return Match(code)
        if not key:
            return Match(None, "row has neither a commune code nor a name")
        candidates = names.index[names == key]
        if district:
            in_district = [c for c in candidates if self.communes.loc[c, "district_code"] == district]
            candidates = in_district or list(candidates)
        if len(candidates) == 1:
            return Match(str(candidates[0]))
        if len(candidates) > 1:
            return Match(None, f"commune name {name!r} is ambiguous: "
                               + ", ".join(self._label(c) for c in candidates)
                               + "; add a 'Mã xã' column or district rows")
        pool = names if not district else names[self.communes["district_code"] == district]
        hints = did_you_mean(key, list(pool.values)) or did_you_mean(key, list(names.values))
        codes = [str(names.index[names == h][0]) for h in hints]
        msg = f"commune {name!r} is not in the {self.name} list"
        if codes:
            msg += "; did you mean " + " or ".join(self._label(c) for c in codes) + "?"
        return Match(None, msg)


@cache
def lao_cai_units() -> UnitList:
    """Return the 127 communes of Lào Cai (2021–2024) with official codes."""
    path = resources.files("ntm_sim") / "data" / "units" / "lao_cai_communes_2021.csv"
    return read_unit_list(Path(str(path)), "Lào Cai 2021")


def read_unit_list(path: Path, name: str | None = None) -> UnitList:
    """Read a unit list CSV (commune_code, commune_name, district_code, district_name)."""
    frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    frame["commune_code"] = frame["commune_code"].map(normalise_code)
    frame["district_code"] = frame["district_code"].map(normalise_code)
    from ntm_sim.text import nfc

    for col in ("commune_name", "district_name"):
        frame[col] = frame[col].map(nfc)
    return UnitList(name or path.stem, frame.set_index("commune_code"))
