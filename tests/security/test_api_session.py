"""The API knows bearer tokens only: a browser session never authenticates an API call, not even
alongside a made-up token (issue 16: the documented guarantee that the API ignores cookies)."""


def test_a_session_with_a_made_up_token_is_refused(world, login):
    browser = login(world.staff)
    assert browser.get("/c/test/").status_code == 200  # signed in on the web
    r = browser.get("/api/v1/me", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401 and r.json["error"]["code"] == "invalid_token"
    r = browser.get("/api/v1/c/test/grids", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401
    r = browser.get("/api/v1/me")
    assert r.status_code == 401


def test_a_real_token_still_works_next_to_a_session(world, login, api):
    from core.services import tokens

    browser = login(world.resident)
    raw = tokens.create(world.staff, "t")[1]
    r = browser.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert r.status_code == 200 and r.json["id"] == world.staff.id
