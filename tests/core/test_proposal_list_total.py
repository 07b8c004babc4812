"""The proposal list counts exactly up to a cap, then says "more than" and still pages on."""
from core.proposals.views import CappedPage
from core.services import proposals


def test_beyond_the_cap_the_list_says_more_than_and_pages_on(world, client, monkeypatch):
    monkeypatch.setattr(CappedPage, "COUNT_CAP", 3)
    for i in range(5):
        proposals.create(world.community, world.resident, {
            "title": f"路灯维修第{i}号", "body": "中心广场有路灯不亮已两个月，晚上散步不安全。",
            "category": "facilities" if i else "parking", "scope": "community"})
    first = client.get("/c/test/proposals/?per_page=2").get_data(as_text=True)
    assert "超过 3 个议题" in first
    assert "第 1 页" in first and 'rel="next"' in first and "共" not in first.split('class="pager"')[1]
    last = client.get("/c/test/proposals/?per_page=2&page=3").get_data(as_text=True)
    assert last.count('class="card proposal-item"') == 1 and 'rel="next"' not in last and 'rel="prev"' in last
    # a filter matching fewer than the cap is counted exactly, with the number of pages
    one = client.get("/c/test/proposals/?category=parking").get_data(as_text=True)
    assert "1 个议题" in one and "超过" not in one
