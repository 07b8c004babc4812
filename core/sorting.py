"""Natural order (自然排序) of names that hold numbers: buildings, units, rooms, grids, voter rolls.

Sorted as text, 10号楼 comes before 1号楼 and 1001 before 101; people look for 1号楼, 2号楼 …
10号楼. ``natural_key`` compares the numbers in a name as numbers, whether written with ASCII or
full-width digits (１号楼) or in Chinese numerals as units and grids are often named (二单元,
第十网格), and the rest as text without regard to case. It is the one sort key every list of such
names uses: pages, pickers, the API's structure lists, the voter roll and the register's export.
"""
import re
import unicodedata

# Digits, or a run of Chinese numerals that reads as a number below 10,000 (十一, 二十, 一百零五).
_NUMBER = re.compile(r"\d+|[零〇一二两三四五六七八九十百千]+")
_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
           "九": 9}
_POWERS = {"十": 10, "百": 100, "千": 1000}


def chinese_number(text):
    """The value of Chinese numerals such as 十一, 二十, 一百零五 or 一〇一 (digit by digit), or None
    when ``text`` does not read as one number."""
    if all(c in _DIGITS for c in text):
        return int("".join(str(_DIGITS[c]) for c in text)) if len(text) > 1 else _DIGITS[text]
    total, digit, last_power = 0, None, 10_000
    for c in text:
        if c in _DIGITS:
            if digit is not None and _DIGITS[c] != 0:
                return None  # two digits without a power between them: 二三十
            digit = _DIGITS[c] if _DIGITS[c] else None
        else:
            power = _POWERS[c]
            if power >= last_power:
                return None  # 十百, 百百
            total += (1 if digit is None else digit) * power
            digit, last_power = None, power
    return total + (digit or 0)


def natural_key(name):
    """A sort key for ``name`` (any value; None sorts first) under which 1号楼 < 2号楼 < 10号楼,
    2单元 < 10单元, 101 < 1001 and 二单元 < 十单元. Equal numbers written differently (01, 1, 一)
    then sort by the text itself, so the order is total and the same on every run."""
    text = unicodedata.normalize("NFKC", "" if name is None else str(name)).casefold()
    parts, start = [], 0
    for match in _NUMBER.finditer(text):
        token = match.group()
        value = int(token) if token.isdigit() else chinese_number(token)
        if value is None:
            continue  # Chinese characters that are not a number stay text
        parts.append((text[start:match.start()], value))
        start = match.end()
    parts.append((text[start:], -1))
    return tuple(parts), text


def natural_sorted(items, key=None):
    """``items`` sorted by ``natural_key`` of ``key(item)`` (of the item itself without ``key``);
    a ``key`` that returns a tuple sorts by each of its names in turn (building, unit, room)."""
    def sort_key(item):
        value = item if key is None else key(item)
        if isinstance(value, tuple):
            return tuple(natural_key(v) for v in value)
        return natural_key(value)

    return sorted(items, key=sort_key)
