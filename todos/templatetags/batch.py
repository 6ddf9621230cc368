"""{% batch_form %}: the form that the checkboxes of a page's todos belong to (todos/_item.html
names it), with what can be done to the checked todos."""

from django import template

from ..models import TodoList

register = template.Library()


@register.inclusion_tag("todos/_batch.html", takes_context=True)
def batch_form(context):
    request = context["request"]
    return {
        # The sidebar's, where the page has one: the same lists in the same order.
        "lists": context.get("lists") or TodoList.objects.for_owner(request.user).in_order(),
        "back_to": context.get("back_to") or request.get_full_path(),
        "csrf_token": context.get("csrf_token"),
    }
