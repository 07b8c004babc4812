"""Natural order of names that hold numbers (core.sorting): 1号楼 < 2号楼 < 10号楼."""
import random

from core.sorting import chinese_number, natural_key, natural_sorted


def shuffled(items):
    items = list(items)
    random.Random(7).shuffle(items)
    return items


def test_buildings_units_and_rooms_in_the_order_people_count():
    assert natural_sorted(shuffled(["10号楼", "1号楼", "2号楼", "11号楼"])) == ["1号楼", "2号楼", "10号楼", "11号楼"]
    assert natural_sorted(shuffled(["10单元", "2单元", "1单元"])) == ["1单元", "2单元", "10单元"]
    assert natural_sorted(shuffled(["1001", "101", "1002", "201"])) == ["101", "201", "1001", "1002"]
    assert natural_sorted(shuffled(["第10网格", "第2网格", "第1网格"])) == ["第1网格", "第2网格", "第10网格"]


def test_voter_roll_numbers():
    refs = [f"V{i}" for i in range(1, 480)]
    assert natural_sorted(shuffled(refs)) == refs


def test_chinese_numerals_and_full_width_digits():
    assert natural_sorted(shuffled(["十单元", "二单元", "十一单元", "一单元"])) == ["一单元", "二单元", "十单元", "十一单元"]
    assert natural_sorted(shuffled(["１０号楼", "２号楼"])) == ["２号楼", "１０号楼"]
    assert [chinese_number(t) for t in ("十", "十一", "二十", "一百零五", "一〇一", "二三十")] == [10, 11, 20, 105, 101, None]


def test_several_names_in_turn_and_mixed_names():
    rows = [("10号楼", "1单元", "101"), ("1号楼", "2单元", "1001"), ("1号楼", "2单元", "201"), ("1号楼", "10单元", "101")]
    assert natural_sorted(shuffled(rows), key=lambda r: r) == [
        ("1号楼", "2单元", "201"), ("1号楼", "2单元", "1001"), ("1号楼", "10单元", "101"), ("10号楼", "1单元", "101")]
    # Numbers first, then names; case does not matter; the order is total (01 and 1 stay apart).
    assert natural_sorted(shuffled(["b座", "A座", "3号楼", "1号楼A", "1号楼"])) == ["1号楼", "1号楼A", "3号楼", "A座", "b座"]
    assert natural_key("01") != natural_key("1")
    assert natural_sorted([None, "1"]) == [None, "1"]
