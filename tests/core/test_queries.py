"""Pages issue the same number of SQL statements whatever the amount of data shown (no N+1)."""
import pytest
from sqlalchemy import event

from core.extensions import db
from core.models import ProposalComment
from core.services import proposals


@pytest.fixture
def count_queries(app):
    def run(fn):
        statements = []

        def before(conn, cursor, statement, *args):
            statements.append(statement)

        engine = db.engine
        event.listen(engine, "before_cursor_execute", before)
        try:
            fn()
        finally:
            event.remove(engine, "before_cursor_execute", before)
        return len(statements)

    return run


def add(world, n, start=0):
    authors = [world.resident, world.resident2, world.building_head, world.grid_worker]
    for i in range(start, start + n):
        p = proposals.create(world.community, authors[i % len(authors)],
                             {"title": f"查询计数议题{i}", "body": "检查列表页面的查询数量不随数据增长。",
                              "category": "other", "scope": "building" if i % 2 else "community",
                              "building_id": world.building.id})
        proposals.second(p, authors[(i + 1) % len(authors)])


def test_proposal_list_query_count_is_flat(world, login, count_queries):
    c = login(world.resident)
    add(world, 5)
    few = count_queries(lambda: c.get("/c/test/proposals/"))
    add(world, 45, start=5)
    many = count_queries(lambda: c.get("/c/test/proposals/?per_page=50"))
    assert many == few


def test_proposal_detail_query_count_is_flat(world, login, count_queries):
    c = login(world.resident)
    p = proposals.create(world.community, world.resident2, {"title": "评论很多的议题", "body": "看看详情页的查询数量。",
                                                           "category": "other"})
    for i in range(5):
        proposals.comment(p, world.resident, f"评论{i}")
    few = count_queries(lambda: c.get(f"/c/test/proposals/{p.id}"))
    for i in range(45):
        proposals.comment(p, [world.building_head, world.grid_worker, world.mediator][i % 3], f"更多评论{i}")
    assert ProposalComment.query.count() == 50
    many = count_queries(lambda: c.get(f"/c/test/proposals/{p.id}"))
    assert many == few
