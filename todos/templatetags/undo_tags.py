from django import template

register = template.Library()


@register.filter
def undo_url(message):
    """The Undo URL an undoable message carries (todos.pages.undo.message), or ""."""
    words = (message.extra_tags or "").split()
    return next((w for w in words if w.startswith("/")), "") if "undoable" in words else ""
