"""Where a page goes after an action: back where the user came from."""

from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme


def back_to(request, avoid=None):
    """Where to go after an action: the list the user came from (its filters and page), unless
    that is under `avoid` (a page of the todo just deleted)."""
    url = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    if not (safe and url.startswith("/")) or (avoid and url.startswith(avoid)):
        return reverse("todos:list")
    return url


def back(request, avoid=None):
    return redirect(back_to(request, avoid))
