"""Roles and guards (SEC-1): groups from the data migration, role homes, refused pages."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.roles import ROLE_PERMISSIONS, Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

STAFF_PAGES = {
    "workspace:warehouse": {Role.WAREHOUSE, Role.ADMIN},
    "workspace:service": {Role.SERVICE, Role.ADMIN},
    "workspace:manager": {Role.MANAGER, Role.ADMIN},
    "workspace:system": {Role.ADMIN},
    "staff_orders:list": {Role.WAREHOUSE, Role.SERVICE, Role.MANAGER, Role.ADMIN},
}


def test_data_migration_creates_every_role_group_with_its_permissions():
    for role in Role:
        group = Group.objects.get(name=role)
        held = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        if ROLE_PERMISSIONS[role] == ["*"]:
            assert "orders.cancel_order" in held
        else:
            assert held == set(ROLE_PERMISSIONS[role])


@pytest.mark.parametrize(
    ("role", "home"),
    [
        (Role.CUSTOMER, "/account/orders/"),
        (Role.WAREHOUSE, "/staff/warehouse/"),
        (Role.SERVICE, "/staff/service/"),
        (Role.MANAGER, "/staff/manager/"),
        (Role.ADMIN, "/staff/system/"),
    ],
)
def test_login_lands_on_the_roles_home_page(client, role, home):
    user = UserFactory(role=role, password="s3cret-pass")

    response = client.post(
        reverse("login"), {"username": user.email, "password": "s3cret-pass"}, follow=True
    )

    assert response.redirect_chain[-1][0] == home
    assert response.status_code == 200


def test_login_is_case_insensitive_on_the_email(client):
    UserFactory(role=Role.CUSTOMER, email="mei@example.com", password="s3cret-pass")

    response = client.post(
        reverse("login"), {"username": "Mei@Example.com", "password": "s3cret-pass"}
    )

    assert response.status_code == 302


def test_wrong_password_is_told_plainly_and_logs_nobody_in(client):
    UserFactory(role=Role.CUSTOMER, email="mei@example.com", password="s3cret-pass")

    response = client.post(reverse("login"), {"username": "mei@example.com", "password": "nope"})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert response.context["form"].errors


@pytest.mark.parametrize("url_name", sorted(STAFF_PAGES))
@pytest.mark.parametrize("role", list(Role))
def test_staff_pages_let_in_only_their_roles(client, url_name, role):
    client.force_login(UserFactory(role=role))

    response = client.get(reverse(url_name))

    expected = 200 if role in STAFF_PAGES[url_name] else 403
    assert response.status_code == expected


@pytest.mark.parametrize("url_name", sorted(STAFF_PAGES))
def test_anonymous_visitor_is_sent_to_log_in(client, url_name):
    response = client.get(reverse(url_name))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_workspace_navigation_follows_the_role(client):
    client.force_login(UserFactory(role=Role.WAREHOUSE))

    html = client.get(reverse("workspace:warehouse")).content.decode()

    assert reverse("workspace:warehouse") in html
    assert reverse("workspace:manager") not in html
    assert reverse("workspace:system") not in html


def test_customer_can_sign_up_and_becomes_a_customer(client):
    response = client.post(
        reverse("accounts:signup"),
        {
            "email": "New.Buyer@Example.com",
            "first_name": "Li",
            "last_name": "Lei",
            "password1": "a-long-pass-2026",
            "password2": "a-long-pass-2026",
        },
    )

    assert response.status_code == 302
    from accounts.models import User

    user = User.objects.get(email="new.buyer@example.com")
    assert user.role == Role.CUSTOMER
    assert client.session["_auth_user_id"] == str(user.pk)


def test_sign_up_with_a_taken_email_is_refused(client):
    UserFactory(role=Role.CUSTOMER, email="taken@example.com")

    response = client.post(
        reverse("accounts:signup"),
        {
            "email": "TAKEN@example.com",
            "password1": "a-long-pass-2026",
            "password2": "a-long-pass-2026",
        },
    )

    assert response.status_code == 200
    assert "email" in response.context["form"].errors


def test_password_reset_mail_is_sent_by_the_worker_after_commit(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    UserFactory(role=Role.CUSTOMER, email="forgot@example.com")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("password_reset"), {"email": "forgot@example.com"})
    assert response.status_code == 302
    assert mailoutbox == []  # nothing is sent inside the request

    for callback in callbacks:
        callback()
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["forgot@example.com"]
    assert "/accounts/reset/" in mailoutbox[0].body


def test_repeated_wrong_passwords_lock_the_account_out(client, settings):
    settings.AXES_ENABLED = True
    UserFactory(role=Role.CUSTOMER, email="target@example.com", password="right-pass-123")

    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "target@example.com", "password": "guess"})
    response = client.post(
        reverse("login"), {"username": "target@example.com", "password": "right-pass-123"}
    )

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
