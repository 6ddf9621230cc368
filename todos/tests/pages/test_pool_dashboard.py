import pytest

pytestmark = pytest.mark.django_db


def test_staff_see_the_pools_numbers_drawn(staff_client):
    response = staff_client.get("/staff/pool/")

    assert response.status_code == 200
    html = response.content.decode()
    status = response.context["status"]
    assert f'data-stat="pid">{status["pid"]}<' in html
    assert f'data-stat="in_use">{status["connections"]["in_use"]}<' in html
    assert status["connections"]["in_use"] >= 1  # this request's own connection
    in_use = response.context["pool_bar"]["in_use"]
    assert f'<rect class="meter__seg meter__seg--busy" width="{in_use}%" height="100%"/>' in html
    assert "Requests waiting" in html
    assert "Connections opened" in html
    assert 'data-refresh="2000"' in html
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in html


def test_the_bars_are_percentages_of_the_bounds(staff_client):
    context = staff_client.get("/staff/pool/").context
    status, bar = context["status"], context["pool_bar"]
    expected = round(status["connections"]["in_use"] / status["pool"]["max_size"] * 100, 1)
    assert bar["in_use"] == expected
    assert 0 < bar["in_use"] <= 100
    # The pool's own minimum: 0 in a test process, which is no serving worker.
    assert bar["min_mark"] == round(
        status["pool"]["min_size"] / status["pool"]["max_size"] * 100, 1
    )


def test_the_refresh_gets_only_the_panel(staff_client):
    response = staff_client.get("/staff/pool/", headers={"X-Requested-With": "fetch"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'data-stat="pid"' in html


@pytest.mark.parametrize("who", ["alice_client", "client"])
def test_non_staff_are_sent_to_the_admin_login(request, who):
    response = request.getfixturevalue(who).get("/staff/pool/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
