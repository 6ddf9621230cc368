import pytest
from django.contrib.auth.models import User

from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_signing_up_creates_the_account_and_signs_in(client):
    response = client.post(
        "/accounts/signup/",
        {"username": "carol", "password1": PASSWORD, "password2": PASSWORD},
        follow=True,
    )

    assert response.redirect_chain == [("/", 302)]
    assert response.context["user"].username == "carol"
    assert "Welcome, carol!" in response.content.decode()
    assert User.objects.filter(username="carol").exists()


def test_sign_up_errors_appear_next_to_their_fields(alice, client):
    response = client.post(
        "/accounts/signup/", {"username": "alice", "password1": "abc", "password2": "abd"}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_username_error"' in html
    assert "A user with that username already exists." in html
    assert 'id="id_password2_error"' in html
    assert User.objects.count() == 1


def test_logging_in_goes_to_the_list_with_a_message(alice, client):
    response = client.post(
        "/accounts/login/", {"username": "alice", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain == [("/", 302)]
    assert "Signed in as alice." in response.content.decode()


def test_a_wrong_password_says_so_without_saying_which_part(alice, client):
    response = client.post("/accounts/login/", {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password." in response.content.decode()


def test_logging_out_is_a_post_and_says_so(alice_client):
    response = alice_client.post("/accounts/logout/", follow=True)
    assert response.redirect_chain == [("/accounts/login/", 302)]
    assert "You are signed out." in response.content.decode()
    assert alice_client.get("/").status_code == 302


def test_signed_in_users_skip_the_login_and_signup_pages(alice_client):
    assert alice_client.get("/accounts/login/")["Location"] == "/"
    assert alice_client.get("/accounts/signup/")["Location"] == "/"
